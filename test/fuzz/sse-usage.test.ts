import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SseParser, type SseEvent } from '../../src/accounting/sse.js';
import { StreamUsageReader } from '../../src/accounting/stream-usage.js';
import { usageFromAnthropic, usageFromOpenAi, usageFromResponseBody, type TokenUsage } from '../../src/accounting/usage.js';
import { openaiChat } from '../../src/dialects/openai-chat.js';
import { anthropicMessages } from '../../src/dialects/anthropic-messages.js';
import { anthropicMessageBody, anthropicStreamEvents, openaiCompletionBody, openaiStreamEvents, type CompletionSpec } from '../../src/sim/responses.js';
import { cuts, hostileText, runs, splitAt, timed } from './support.js';

/**
 * Property-based fuzzing of what reads upstream streams: the SSE parser and both dialects'
 * usage extractors. No input throws or grows memory past the bounds, and where a round trip
 * exists it holds: any split of a stream into chunks gives the same events and usage.
 */

function parseAll(chunks: readonly Buffer[], maxEventBytes?: number): { events: SseEvent[]; dropped: number; parser: SseParser } {
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e), maxEventBytes === undefined ? {} : { maxEventBytes });
  for (const c of chunks) parser.push(c);
  parser.end();
  return { events, dropped: parser.droppedEvents, parser };
}

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  hostileText.map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
);

describe('fuzz: SSE parser', () => {
  it('any bytes, any split: never throws, and the events do not depend on where the chunks were cut', () => {
    fc.assert(
      fc.property(bytes, cuts, (raw, at) => {
        const buf = Buffer.from(raw);
        const whole = parseAll([buf]);
        const split = parseAll(splitAt(buf, at));
        assert.deepEqual(split.events, whole.events);
        assert.equal(split.dropped, whole.dropped);
      }),
      runs(400),
    );
  });

  const fieldText = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ''));
  const event = fc.record({
    event: fc.option(
      fieldText.filter((s) => !s.startsWith(' ')),
      { nil: undefined },
    ),
    data: fc.array(fieldText, { minLength: 1, maxLength: 4 }),
  });

  it('round trip: events written with any line terminator and split anywhere parse back as written', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 8 }), fc.constantFrom('\n', '\r\n', '\r'), fc.boolean(), cuts, (evs, eol, comments, at) => {
        const text = evs
          .map(
            (e) =>
              `${comments ? `: ping${eol}` : ''}${e.event !== undefined ? `event: ${e.event}${eol}` : ''}${e.data.map((d) => `data: ${d}${eol}`).join('')}${eol}`,
          )
          .join('');
        const { events } = parseAll(splitAt(Buffer.from(text, 'utf8'), at));
        // Lone surrogates do not survive UTF-8: compare with what the encoding keeps.
        const kept = (s: string) => Buffer.from(s, 'utf8').toString('utf8');
        const want = evs.map((e) => (e.event !== undefined ? { event: kept(e.event), data: kept(e.data.join('\n')) } : { data: kept(e.data.join('\n')) }));
        assert.deepEqual(events, want);
      }),
      runs(300),
    );
  });

  it('bounded memory: nothing longer than maxEventBytes is held or delivered, however the bytes arrive', () => {
    const MAX = 64;
    fc.assert(
      fc.property(bytes, cuts, (raw, at) => {
        const events: SseEvent[] = [];
        const parser = new SseParser((e) => events.push(e), { maxEventBytes: MAX });
        for (const c of splitAt(Buffer.from(raw), at)) {
          parser.push(c);
          const held = parser as unknown as { partialBytes: number; eventBytes: number };
          assert.ok(held.partialBytes <= MAX, `partial line held: ${held.partialBytes}`);
        }
        parser.end();
        for (const e of events) assert.ok(Buffer.byteLength(e.data) <= MAX, `event of ${Buffer.byteLength(e.data)} bytes delivered`);
      }),
      runs(300),
    );
  });

  it('no hang: a few MiB of one endless line, of bare terminators, or of tiny events take linear time', () => {
    const MiB = 1024 * 1024;
    for (const buf of [Buffer.alloc(4 * MiB, 'a'), Buffer.alloc(4 * MiB, '\r'), Buffer.from('data: x\n\n'.repeat(400_000)), Buffer.alloc(4 * MiB, ':')]) {
      const { ms } = timed(() =>
        parseAll(
          splitAt(
            buf,
            Array.from({ length: 64 }, (_, i) => i * 65_537),
          ),
        ),
      );
      // Generous: about 50 ms on a quiet machine; a quadratic scan would take minutes.
      assert.ok(ms < 10_000, `${ms.toFixed(0)} ms`);
    }
  });
});

const spec = fc
  .record({
    promptTokens: fc.integer({ min: 0, max: 1_000_000 }),
    outputTokens: fc.integer({ min: 1, max: 100_000 }),
    cachedTokens: fc.integer({ min: 0, max: 1_000_000 }),
    cacheCreationTokens: fc.integer({ min: 0, max: 100_000 }),
    chunks: fc.integer({ min: 1, max: 12 }),
    reasoning: fc.boolean(),
    streamUsage: fc.constantFrom('final_chunk', 'separate_chunk', 'none'),
    stop: fc.constantFrom('end', 'max_tokens'),
    model: fc.constantFrom('glm-4.7', 'glm-4.5-air', 'модель "x"'),
  })
  .map((s): CompletionSpec => ({ id: 'fuzz-1', created: 1_760_000_000, ...s }) as CompletionSpec);

const dialects = [
  ['OpenAI', openaiChat, openaiStreamEvents, openaiCompletionBody, usageFromOpenAi],
  ['Anthropic', anthropicMessages, anthropicStreamEvents, anthropicMessageBody, usageFromAnthropic],
] as const;

/** What a stream built from `c` must be counted as (undefined: nothing to count). */
function expectedUsage(dialect: 'OpenAI' | 'Anthropic', c: CompletionSpec, streamed: boolean): TokenUsage | undefined {
  if (streamed && c.streamUsage === 'none') return undefined;
  if (dialect === 'OpenAI') {
    const cached = Math.min(c.promptTokens, c.cachedTokens);
    return { input: c.promptTokens - cached, output: c.outputTokens, cacheRead: cached, cacheWrite: 0 };
  }
  return { input: c.promptTokens, output: c.outputTokens, cacheRead: c.cachedTokens, cacheWrite: c.cacheCreationTokens };
}

function readStream(dialect: (typeof dialects)[number][1], chunks: readonly Buffer[], collectText = false) {
  const reader = new StreamUsageReader(dialect.streamEvents, { collectText });
  for (const c of chunks) reader.push(c);
  return reader.finish();
}

describe('fuzz: usage extractors', () => {
  for (const [name, dialect, streamOf, bodyOf, readUsage] of dialects) {
    it(`${name}: any split of a valid stream yields the same usage, text and completeness`, () => {
      fc.assert(
        fc.property(spec, cuts, fc.constantFrom('\n', '\r\n'), fc.boolean(), (c, at, eol, pings) => {
          let text = streamOf(c)
            .map((e) => e.text)
            .join(pings ? ': ping\n\n' : '');
          if (eol !== '\n') text = text.replace(/\n/g, eol);
          const buf = Buffer.from(text, 'utf8');
          const whole = readStream(dialect, [buf], true);
          const split = readStream(dialect, splitAt(buf, at), true);
          assert.deepEqual(split, whole);
          assert.deepEqual(whole.usage, expectedUsage(name, c, true));
          assert.equal(whole.complete, true);
          assert.equal(whole.malformedEvents, 0);
          // Without text collection (the proxy's cheap path) the usage is the same.
          assert.deepEqual(readStream(dialect, splitAt(buf, at)).usage, whole.usage);
        }),
        runs(200),
      );
    });

    it(`${name}: a stream cut anywhere never throws and never counts more than the whole stream`, () => {
      fc.assert(
        fc.property(spec, fc.nat(), cuts, (c, cutAt, at) => {
          const buf = Buffer.from(
            streamOf(c)
              .map((e) => e.text)
              .join(''),
            'utf8',
          );
          const cut = buf.subarray(0, cutAt % (buf.length + 1));
          const r = readStream(dialect, splitAt(cut, at), true);
          const full = expectedUsage(name, c, true);
          if (r.usage) {
            assert.ok(full, 'usage out of a stream that reports none');
            for (const k of ['input', 'output', 'cacheRead', 'cacheWrite'] as const) assert.ok(r.usage[k] <= full[k], k);
          }
          if (r.complete) assert.ok(cut.length > 0);
        }),
        runs(200),
      );
    });

    it(`${name}: hostile streams and hostile usage objects give counts that are finite whole numbers ≥ 0`, () => {
      const usageValue = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 1e308, '12', null, true, {}, []), fc.string());
      const usageObject = fc.dictionary(
        fc.constantFrom(
          'prompt_tokens',
          'completion_tokens',
          'input_tokens',
          'output_tokens',
          'cache_read_input_tokens',
          'cache_creation_input_tokens',
          'prompt_tokens_details',
          'x',
        ),
        fc.oneof(usageValue, fc.record({ cached_tokens: usageValue })),
      );
      const frame = fc.oneof(
        usageObject.map((u) => `data: ${JSON.stringify({ choices: [], usage: u })}\n\n`),
        usageObject.map((u) => `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { usage: u } })}\n\n`),
        usageObject.map((u) => `event: message_delta\ndata: ${JSON.stringify({ type: 'message_delta', usage: u })}\n\n`),
        hostileText,
        fc.constantFrom('data: [DONE]\n\n', 'event: message_stop\ndata: {}\n\n', 'data: {"usage": {\n\n', 'data: null\n\n'),
      );
      const isCount = (n: number) => Number.isInteger(n) && n >= 0;
      fc.assert(
        fc.property(fc.array(frame, { maxLength: 10 }), cuts, usageObject, (frames, at, u) => {
          const r = readStream(dialect, splitAt(Buffer.from(frames.join(''), 'utf8'), at), true);
          if (r.usage) for (const v of Object.values(r.usage)) assert.ok(isCount(v), String(v));
          const direct = readUsage(u);
          if (direct) for (const v of Object.values(direct)) assert.ok(isCount(v), String(v));
          assert.ok(isCount(r.malformedEvents));
        }),
        runs(300),
      );
      for (const junk of [undefined, null, 1, 'usage', [], [1, 2], new Date(0)]) assert.doesNotThrow(() => readUsage(junk));
    });

    it(`${name}: collected text never exceeds maxTextBytes, and is cut on a character boundary`, () => {
      fc.assert(
        fc.property(spec, fc.integer({ min: 0, max: 64 }), cuts, (c, max, at) => {
          const buf = Buffer.from(
            streamOf(c)
              .map((e) => e.text)
              .join(''),
            'utf8',
          );
          const reader = new StreamUsageReader(dialect.streamEvents, { collectText: true, maxTextBytes: max });
          for (const chunk of splitAt(buf, at)) reader.push(chunk);
          const r = reader.finish();
          assert.ok(Buffer.byteLength(r.outputText) <= max, `${Buffer.byteLength(r.outputText)} > ${max}`);
          assert.ok(!r.outputText.includes('\uFFFD'));
          const whole = readStream(dialect, [buf], true).outputText;
          assert.ok(whole.startsWith(r.outputText));
          assert.equal(r.textTruncated, Buffer.byteLength(whole) > max);
        }),
        runs(200),
      );
    });

    it(`${name}: holding events until the usage is known changes nothing but the text of a stream that reported usage`, () => {
      // Frames of a real stream, with junk (malformed events, comments) mixed in anywhere.
      const junk = fc.oneof(hostileText, fc.constantFrom('data: {not json\n\n', 'data: [1,2]\n\n', ': ping\n\n'));
      fc.assert(
        fc.property(
          spec,
          fc.array(junk, { maxLength: 3 }),
          fc.nat(),
          fc.integer({ min: 1, max: 400 }),
          fc.integer({ min: 0, max: 80 }),
          cuts,
          (c, extra, where, hold, max, at) => {
            const frames = streamOf(c).map((e) => e.text);
            frames.splice(where % (frames.length + 1), 0, ...extra);
            const chunks = splitAt(Buffer.from(frames.join(''), 'utf8'), at);
            const readWith = (holdBytes: number) => {
              const reader = new StreamUsageReader(dialect.streamEvents, { collectText: true, maxTextBytes: max, holdBytes });
              for (const chunk of chunks) reader.push(chunk);
              return reader.finish();
            };
            const eager = readWith(0);
            const held = readWith(hold);
            assert.deepEqual(held.usage, eager.usage);
            assert.equal(held.complete, eager.complete);
            if (eager.usage) {
              assert.equal(held.outputText, '', 'no estimate is made: the text is not read');
            } else {
              assert.equal(held.outputText, eager.outputText);
              assert.equal(held.textTruncated, eager.textTruncated);
              assert.equal(held.malformedEvents, eager.malformedEvents);
            }
          },
        ),
        runs(300),
      );
    });

    it(`${name}: a non-streamed body's usage is found by the fast path exactly as by a full parse`, () => {
      // Extra top-level fields before usage (where Z.AI puts it: last), whose text may mention
      // "usage" and braces, must not mislead the scan.
      const extra = fc.dictionary(
        fc.string({ maxLength: 8 }).filter((k) => k !== 'usage'),
        fc.jsonValue({ maxDepth: 3 }),
        { maxKeys: 4 },
      );
      fc.assert(
        fc.property(spec, extra, fc.constantFrom('', ' ', '\n  '), (c, fields, ws) => {
          const body = JSON.parse(bodyOf(c)) as Record<string, unknown>;
          const { usage, ...rest } = body;
          const text = `${ws}{${[...Object.entries({ ...rest, ...fields }), ['usage', usage] as const].map(([k, v]) => `${JSON.stringify(k)}:${ws}${JSON.stringify(v)}`).join(`,${ws}`)}}`;
          const got = usageFromResponseBody(readUsage, Buffer.from(text));
          assert.deepEqual(got, expectedUsage(name, c, false));
        }),
        runs(200),
      );
    });

    it(`${name}: any body bytes: the body usage reader never throws`, () => {
      fc.assert(
        fc.property(
          fc.oneof(
            bytes.map((b) => Buffer.from(b)),
            fc.jsonValue().map((v) => Buffer.from(JSON.stringify({ v, usage: v }))),
          ),
          (b) => {
            const u = usageFromResponseBody(readUsage, b);
            if (u) for (const v of Object.values(u)) assert.ok(Number.isInteger(v) && v >= 0);
          },
        ),
        runs(300),
      );
    });
  }
});
