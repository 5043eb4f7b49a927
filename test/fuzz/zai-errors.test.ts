import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ZAI_ERROR_TABLE, classifyUpstreamError, parseResetValue } from '../../src/zai/errors.js';
import { parseRetryAfter } from '../../src/zai/retry-after.js';
import { errorBody, formatBeijingTime, quotaExhaustedMessage } from '../../src/sim/index.js';
import { hostileText, runs, timed } from './support.js';

/**
 * Property-based fuzzing of how the proxy reads Z.AI's refusals: the error classifier, the
 * Retry-After parser and the Beijing-time reset parser. Nothing throws, every answer stays in
 * its documented range, and what Z.AI (or an HTTP server) writes parses back to what it meant.
 */
const MAX_RETRY_AFTER_MS = 8 * 24 * 3_600_000;
const MIN_EPOCH_MS = 1e12;
const MAX_EPOCH_MS = 2e13;
const CLASSES = new Set(['concurrency', 'frequency', 'overload', 'quota', 'congestion', 'balance', 'policy', 'unknown']);
/** Instants Z.AI could name: 2001 .. 2600, whole seconds (its messages carry no fractions). */
const instant = fc.integer({ min: 1e9, max: 2e10 - 86_400 }).map((s) => s * 1000);
const now = fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 });

const retryAfterText = fc.oneof(
  hostileText,
  fc.integer({ min: -10, max: 2 * 86_400 * 10 }).map(String),
  fc.double({ noNaN: false }).map(String),
  fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
  fc.constantFrom('', ' ', '0', '1.5', '00000000000000000000000001', '1e3', 'Fri, 31 Dec 9999 23:59:59 GMT', 'soon', 'GMT', 'Mon, ', '9'.repeat(400)),
);

describe('fuzz: Retry-After', () => {
  it('any text: never throws; undefined or a wait between 0 and 8 days', () => {
    fc.assert(
      fc.property(retryAfterText, now, (v, t) => {
        const ms = parseRetryAfter(v, t);
        if (ms !== undefined) assert.ok(Number.isFinite(ms) && ms >= 0 && ms <= MAX_RETRY_AFTER_MS, `${JSON.stringify(v)} → ${ms}`);
      }),
      runs(1000),
    );
    assert.equal(parseRetryAfter(undefined, 0), undefined);
  });

  it('round trip: delta-seconds and an HTTP-date rendered from a wait parse back to that wait', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_RETRY_AFTER_MS / 1000 }), now, fc.constantFrom('', ' ', '\t'), (s, t, pad) => {
        assert.equal(parseRetryAfter(`${pad}${s}${pad}`, t), s * 1000);
        // An HTTP-date has whole seconds: from a whole-second now it names the wait exactly.
        const whole = Math.floor(t / 1000) * 1000;
        assert.equal(parseRetryAfter(new Date(whole + s * 1000).toUTCString(), whole), s * 1000);
      }),
      runs(500),
    );
    fc.assert(
      fc.property(fc.double({ min: 0, max: 100_000, noNaN: true }), (s) => {
        // Fractional seconds round up: waiting a little longer is safe, shorter is not.
        const text = s.toFixed(3);
        assert.equal(parseRetryAfter(text, 0), Math.ceil(Number(text) * 1000));
      }),
      runs(300),
    );
  });

  it('a date in the past means now, never a negative wait', () => {
    fc.assert(
      fc.property(now, fc.integer({ min: 1, max: 10 * 365 * 86_400 }), (t, back) => {
        assert.equal(parseRetryAfter(new Date(t - back * 1000).toUTCString(), t), 0);
      }),
      runs(200),
    );
  });
});

describe('fuzz: Beijing-time and epoch reset values', () => {
  it('round trip: a reset Z.AI writes as naive Beijing time, RFC 3339 or epoch seconds/ms parses back to that instant', () => {
    fc.assert(
      fc.property(instant, (at) => {
        const beijing = formatBeijingTime(at);
        assert.equal(parseResetValue(beijing), at, beijing);
        assert.equal(parseResetValue(new Date(at).toISOString()), at);
        assert.equal(parseResetValue(`${beijing.replace(' ', 'T')}+08:00`), at);
        assert.equal(parseResetValue(at), at);
        assert.equal(parseResetValue(at / 1000), at);
        assert.equal(parseResetValue(String(at / 1000)), at);
        // The quota message names its reset in Beijing time; the classifier reads it from the text.
        for (const shape of ['nested', 'flat'] as const) {
          for (const code of [1308, 1310] as const) {
            const e = classifyUpstreamError(429, {}, Buffer.from(errorBody(shape, code, quotaExhaustedMessage(code, at))), 0);
            assert.equal(e.resetAtMs, at);
            assert.equal(e.class, 'quota');
          }
        }
      }),
      runs(300),
    );
  });

  it('any value: never throws; undefined or a plausible instant', () => {
    const value = fc.oneof(
      hostileText,
      fc.anything(),
      fc.double(),
      fc.integer(),
      fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())),
    );
    fc.assert(
      fc.property(value, (v) => {
        const at = parseResetValue(v);
        if (at !== undefined) assert.ok(Number.isFinite(at) && at >= MIN_EPOCH_MS && at <= MAX_EPOCH_MS, `${String(v)} → ${at}`);
      }),
      runs(1000),
    );
  });
});

describe('fuzz: Z.AI error classifier', () => {
  const codes = Object.keys(ZAI_ERROR_TABLE).map(Number);

  it('round trip: every Z.AI code in both body shapes is classified as the table says', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...codes),
        fc.constantFrom('nested', 'flat'),
        fc.integer({ min: 400, max: 599 }),
        hostileText,
        (code, shape, status, message) => {
          const e = classifyUpstreamError(status, {}, Buffer.from(errorBody(shape, code, message)), 0);
          assert.equal(e.code, String(code));
          assert.equal(e.class, ZAI_ERROR_TABLE[String(code)]!.class);
          assert.equal(e.retryable, ZAI_ERROR_TABLE[String(code)]!.retry);
          assert.equal(e.status, status);
        },
      ),
      runs(400),
    );
  });

  const body = fc.oneof(
    fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
    hostileText.map((s) => Buffer.from(s)),
    fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? '')),
    fc
      .record(
        {
          code: fc.oneof(fc.constantFrom(...codes), fc.integer(), fc.string(), fc.constantFrom(null, 0, 200, '1302 ', ' 1308', '13O2')),
          message: fc.oneof(hostileText, fc.constantFrom('1302 too many', '[1305] busy', 'reset at 2025-13-40 25:61:61')),
          retry_after: fc.oneof(fc.double(), fc.string(), fc.integer()),
          reset_time: fc.oneof(fc.double(), fc.string(), fc.integer(), fc.anything()),
        },
        { requiredKeys: [] },
      )
      .chain((inner) => fc.constantFrom(JSON.stringify({ error: inner }), JSON.stringify(inner), ` ${JSON.stringify(inner)}`.slice(0, -1)))
      .map((s) => Buffer.from(s)),
  );
  const headers = fc.dictionary(
    fc.constantFrom('retry-after', 'Retry-After', 'RETRY-AFTER', 'x-a', 'content-type'),
    fc.oneof(retryAfterText, fc.array(retryAfterText, { maxLength: 3 })),
    { maxKeys: 4 },
  );

  it('any status, headers and body: never throws; a known class, and waits and resets in range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), headers, body, now, (status, h, b, t) => {
        const e = classifyUpstreamError(status, h, b, t);
        assert.ok(CLASSES.has(e.class), e.class);
        assert.equal(typeof e.retryable, 'boolean');
        assert.equal(e.status, status);
        if (e.code !== undefined) assert.match(e.code, /^\d{4,8}$/);
        if (e.class !== 'unknown' && e.class !== 'frequency') assert.ok(e.code !== undefined && ZAI_ERROR_TABLE[e.code]);
        if (e.retryAfterMs !== undefined) assert.ok(e.retryAfterMs >= 0 && e.retryAfterMs <= MAX_RETRY_AFTER_MS, String(e.retryAfterMs));
        if (e.resetAtMs !== undefined) assert.ok(e.resetAtMs >= MIN_EPOCH_MS && e.resetAtMs <= MAX_EPOCH_MS, String(e.resetAtMs));
        // An unexplained 5xx is retryable exactly for 500/502/503/504.
        if (e.class === 'unknown') assert.equal(e.retryable, [500, 502, 503, 504].includes(status));
      }),
      runs(1000),
    );
  });

  it('no hang: 64 KiB bodies built to stress the regular expressions are classified in linear time', () => {
    const K64 = 64 * 1024;
    const hostile = [
      `{"error":{"message":"${'2025-08-30 14:05:0'.repeat(K64 / 18)}"}}`,
      `{"error":{"message":"${'9'.repeat(K64)}"}}`,
      `{"error":{"code":"${'1'.repeat(K64)}"}}`,
      `{${'"a":{'.repeat(K64 / 6)}`,
      '['.repeat(K64),
      `${' '.repeat(K64)}{`,
    ];
    for (const text of hostile) {
      const { ms } = timed(() => classifyUpstreamError(429, { 'retry-after': `Mon, ${'1'.repeat(K64)} GMT` }, Buffer.from(text), 0));
      assert.ok(ms < 5000, `${ms.toFixed(0)} ms for ${text.slice(0, 30)}…`);
    }
  });
});
