import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseQuotaResponse, isQuotaSample } from '../../src/quota/parse.js';
import { parseExposition, parseValue, type Sample } from '../../src/dashboard/snapshot/exposition.js';
import { hostileText, runs, timed } from './support.js';

/**
 * Property-based fuzzing of two parsers of text other programs write: the quota answer
 * (src/quota/parse.ts) and the Prometheus exposition the dashboard scrapes. Nothing throws,
 * ratios stay ratios, and a page rendered from samples parses back to those samples.
 */

const numberish = fc.oneof(
  fc.double(),
  fc.integer(),
  // biome-ignore lint/correctness/noPrecisionLoss: 1e400 is meant to overflow to Infinity, as a hostile JSON number does
  fc.constantFrom(NaN, Infinity, -1, 0, 1e400, '50', ' 1e3 ', '0x10', '', null, true),
  fc.string({ maxLength: 12 }),
);

describe('fuzz: quota answer', () => {
  const entry = fc.record(
    {
      type: fc.oneof(fc.constantFrom('TOKENS_LIMIT', 'time_limit', ' credit_limit ', 'other'), fc.anything()),
      usage: numberish,
      currentValue: numberish,
      percentage: numberish,
      remaining: numberish,
      nextResetTime: numberish,
      unit: numberish,
      number: numberish,
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(
    fc.anything(),
    fc.record(
      {
        code: fc.oneof(numberish, fc.constant(200)),
        success: fc.oneof(fc.boolean(), fc.constant(undefined), fc.anything()),
        data: fc.oneof(
          fc.anything(),
          fc.record({ limits: fc.oneof(fc.array(entry, { maxLength: 6 }), fc.anything()), level: fc.oneof(hostileText, fc.anything()) }, { requiredKeys: [] }),
        ),
      },
      { requiredKeys: [] },
    ),
  );

  it('any decoded body: never throws; a sample whose ratios are in [0, 1] and sum to 1, or a classified error', () => {
    fc.assert(
      fc.property(body, fc.nat(), (b, at) => {
        const r = parseQuotaResponse(b, at);
        if (!isQuotaSample(r)) {
          assert.ok(r.error === 'malformed' || r.error === 'rejected');
          return;
        }
        assert.equal(r.fetchedAtMs, at);
        const seen = new Set<string>();
        for (const l of r.limits) {
          assert.ok(l.usedRatio >= 0 && l.usedRatio <= 1 && Math.abs(l.usedRatio + l.remainingRatio - 1) < 1e-12, JSON.stringify(l));
          for (const v of [l.used, l.total, l.remaining]) if (v !== undefined) assert.ok(Number.isFinite(v) && v >= 0);
          if (l.resetAtMs !== undefined) assert.ok(Number.isInteger(l.resetAtMs) && l.resetAtMs > 0 && Number.isFinite(new Date(l.resetAtMs).getTime()));
          const key = `${l.window}/${l.limitType}`;
          assert.ok(!seen.has(key), `two series for ${key}`);
          seen.add(key);
        }
        if (r.level !== undefined) assert.match(r.level, /^[a-z0-9_-]{1,32}$/);
      }),
      runs(1000),
    );
  });

  it('round trip: a well-formed answer reads back its numbers', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e9 }),
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 1e12, max: 2e13 }),
        fc.boolean(),
        (total, usedRaw, reset, asStrings) => {
          const used = Math.min(usedRaw, total);
          const s = (n: number) => (asStrings ? String(n) : n);
          const r = parseQuotaResponse(
            {
              code: 200,
              success: true,
              data: { level: 'Pro', limits: [{ type: 'TOKENS_LIMIT', unit: 3, number: 5, usage: s(total), currentValue: s(used), nextResetTime: s(reset) }] },
            },
            0,
          );
          assert.ok(isQuotaSample(r));
          assert.deepEqual(r.limits, [
            {
              window: 'five_hour',
              limitType: 'tokens_limit',
              usedRatio: used / total,
              remainingRatio: 1 - used / total,
              resetAtMs: reset,
              used,
              total,
              remaining: total - used,
            },
          ]);
          assert.equal(r.level, 'pro');
        },
      ),
      runs(300),
    );
  });
});

const metricName = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,20}$/);
const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,12}$/);
const sampleValue = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(NaN, Infinity, -Infinity, 0, -0));
const sample = fc.record({
  name: metricName,
  labels: fc.dictionary(labelName, fc.string({ unit: 'grapheme', maxLength: 20 }), { maxKeys: 4 }),
  value: sampleValue,
  timestampMs: fc.option(fc.integer({ min: -1e15, max: 1e15 }), { nil: undefined }),
});

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
function render(s: Sample, sp: string): string {
  const labels = Object.entries(s.labels).map(([k, v]) => `${k}${sp}=${sp}"${escapeLabel(v)}"`);
  const value = Number.isNaN(s.value) ? 'NaN' : s.value === Infinity ? '+Inf' : s.value === -Infinity ? '-Inf' : String(s.value);
  return `${s.name}${labels.length ? `{${labels.join(`,${sp}`)}}` : ''} ${value}${s.timestampMs !== undefined ? ` ${s.timestampMs}` : ''}`;
}

describe('fuzz: Prometheus exposition parser', () => {
  it('round trip: a page rendered from samples, with comments, any spacing and CRLF, parses back to them', () => {
    fc.assert(
      fc.property(
        fc.array(sample, { maxLength: 12 }),
        fc.constantFrom('', ' ', '\t'),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        (samples, sp, eol, comments) => {
          const lines = samples.flatMap((s) => [
            ...(comments ? [`# HELP ${s.name} a "help" text \\ with {braces}`, `# TYPE ${s.name} gauge`, ''] : []),
            render(s, sp),
          ]);
          const page = parseExposition(lines.join(eol) + eol);
          assert.equal(page.skippedLines, 0);
          // -0 renders as "0": compare with what the text says.
          const plain = (s: Sample) => ({ name: s.name, labels: { ...s.labels }, value: s.value, timestampMs: s.timestampMs });
          const want = samples.map((s) => plain({ ...s, value: Number.isNaN(s.value) ? NaN : Number(String(s.value)) }));
          assert.deepEqual(page.samples.map(plain), want);
          if (comments) for (const s of samples) assert.equal(page.types.get(s.name), 'gauge');
        },
      ),
      runs(300),
    );
  });

  it('any text: never throws; every line is a sample, skipped, blank or a comment', () => {
    const page = fc.oneof(
      hostileText,
      fc
        .array(
          fc.oneof(
            sample.map((s) => render(s, ' ')),
            hostileText,
            fc.constantFrom('# TYPE', '# TYPE x nonsense', 'x{a="\\', 'x{a="1",a="2"} 1', 'x 1 2 3', 'x{} 1e', '{a="b"} 1'),
          ),
          { maxLength: 20 },
        )
        .map((l) => l.join('\n')),
    );
    fc.assert(
      fc.property(page, (text) => {
        const p = parseExposition(text);
        assert.ok(p.samples.length + p.skippedLines <= text.split('\n').length);
        for (const s of p.samples) assert.equal(typeof s.value, 'number');
      }),
      runs(1000),
    );
  });

  it('parseValue: any text gives a number or undefined, and reads what String() renders', () => {
    fc.assert(
      fc.property(fc.oneof(hostileText, fc.double().map(String)), (t) => {
        const v = parseValue(t);
        assert.ok(v === undefined || typeof v === 'number');
      }),
      runs(500),
    );
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => assert.equal(parseValue(String(d)), Number(String(d)))),
      runs(500),
    );
  });

  it('no hang, bounded: hostile multi-MiB pages parse in linear time', () => {
    const MiB = 1024 * 1024;
    const pages = [
      `x{${'a="b",'.repeat(MiB / 6)}} 1`,
      `x{a="${'\\'.repeat(2 * MiB)}`,
      '1'.repeat(4 * MiB),
      `x ${'9'.repeat(4 * MiB)}`,
      'x 1\n'.repeat(MiB),
      '\n'.repeat(4 * MiB),
    ];
    for (const text of pages) {
      const { value, ms } = timed(() => parseExposition(text));
      assert.ok(ms < 10_000, `${ms.toFixed(0)} ms for ${text.slice(0, 20)}…`);
      assert.ok(value.samples.length <= MiB);
    }
  });
});
