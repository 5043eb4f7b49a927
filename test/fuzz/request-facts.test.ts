import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { requestFacts } from '../../src/proxy/request-facts.js';
import { hostileText, runs } from './support.js';

/**
 * The request's model and stream flag are read without parsing the body
 * (src/lib/json-members.ts): for any JSON object they must be what a full parse gives, and
 * for any other text nothing may throw.
 */

const parsedFacts = (text: string) => {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { model: undefined, stream: false };
    const o = v as Record<string, unknown>;
    return { model: o.model, stream: o.stream === true };
  } catch {
    return undefined;
  }
};

/** Texts with the characters a scanner trips on: quotes, backslashes, brackets, non-ASCII. */
const tricky = fc.string({
  unit: fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', ':', 'a', 'é', '\u2028', '😀', ' ', '\n', 'model', 'stream'),
  maxLength: 40,
});
/** Long strings of quotes and backslashes: their end is searched natively, past the first bytes. */
const longTricky = fc.string({ unit: fc.constantFrom('"', '\\', 'a', 'é', '\n'), minLength: 60, maxLength: 400 });
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    tricky,
    longTricky,
    fc.string(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(tricky, fc.constantFrom('model', 'stream', 'messages')), tie('v'), { maxKeys: 4 }),
  ),
})).v;
const member = fc.tuple(
  fc.constantFrom('model', 'stream', 'messages', 'mod', 'streams', 'x'),
  fc.oneof(value, fc.constantFrom(true, 'glm-4.7', 'glm\\u002d4.7')),
  fc.boolean(),
);
/** A key as JSON text, its second letter now and then written as an escape (valid JSON, the same key). */
const keyText = (k: string, escaped: boolean) => (escaped && k.length > 1 ? `"${k[0]}\\u00${k.charCodeAt(1).toString(16)}${k.slice(2)}"` : JSON.stringify(k));
const spacing = fc.constantFrom('', ' ', '\n  ', '\t', '\r\n');

/** A JSON object written by hand from members (duplicates kept, as clients may send them), with any spacing. */
const objectText = fc
  .tuple(fc.array(member, { maxLength: 6 }), spacing, spacing)
  .map(([members, a, b]) =>
    members.length === 0
      ? `${a}{${b}}${a}`
      : `${a}{${members.map(([k, v, escaped]) => `${b}${keyText(k, escaped)}${a}:${b}${k === 'model' && v === 'glm\\u002d4.7' ? '"glm\\u002d4.7"' : JSON.stringify(v ?? null, null, b.length > 1 ? 1 : undefined)}${a}`).join(',')}}${b}`,
  );

describe('fuzz: request facts', () => {
  it('are what a full parse of any JSON object gives', () => {
    fc.assert(
      fc.property(objectText, (text) => {
        assert.deepEqual(requestFacts(Buffer.from(text)), parsedFacts(text));
      }),
      runs(3000),
    );
  });

  it('are nothing for JSON that is not an object, and never throw on any text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          value.map((v) => JSON.stringify(v) ?? 'null'),
          hostileText,
          objectText.map((t) => t.slice(0, -2)),
        ),
        (text) => {
          const facts = requestFacts(Buffer.from(text));
          const parsed = parsedFacts(text);
          if (parsed !== undefined) assert.deepEqual(facts, parsed);
        },
      ),
      runs(3000),
    );
  });

  it('take the last of duplicate keys, and read escaped model names', () => {
    assert.deepEqual(requestFacts(Buffer.from('{"model":"a","stream":true,"model":"b","stream":false}')), { model: 'b', stream: false });
    assert.deepEqual(requestFacts(Buffer.from('{"model":"glm\\u002d4.7","messages":[{"content":"\\"model\\": \\"x\\"}"}]}')), {
      model: 'glm-4.7',
      stream: false,
    });
    assert.deepEqual(requestFacts(Buffer.from('{"messages":[{"model":"inner","stream":true}]}')), { model: undefined, stream: false });
    assert.deepEqual(requestFacts(Buffer.from('{"model":"glm-4.7","stream":true')), { model: undefined, stream: false });
  });
});
