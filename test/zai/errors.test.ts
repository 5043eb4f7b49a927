import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyUpstreamError, ZAI_ERROR_TABLE, type ZaiErrorClass } from '../../src/zai/errors.js';

const NOW = Date.UTC(2025, 7, 30, 0, 0, 0);
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const classify = (status: number, body: Buffer | string, headers: Record<string, string | string[] | undefined> = {}) =>
  classifyUpstreamError(status, headers, typeof body === 'string' ? Buffer.from(body) : body, NOW);

const EXPECTED: Record<string, { class: ZaiErrorClass; retry: boolean }> = {
  '1302': { class: 'concurrency', retry: true },
  '1303': { class: 'frequency', retry: true },
  '1305': { class: 'overload', retry: true },
  '1308': { class: 'quota', retry: false },
  '1310': { class: 'quota', retry: false },
  '1312': { class: 'congestion', retry: true },
  '1113': { class: 'balance', retry: false },
  '1301': { class: 'policy', retry: false },
  '1313': { class: 'policy', retry: false },
};

test('the table holds exactly the documented codes and leaves 1211 out', () => {
  assert.deepEqual(Object.keys(ZAI_ERROR_TABLE).sort(), Object.keys(EXPECTED).sort());
  assert.equal(ZAI_ERROR_TABLE['1211'], undefined);
});

for (const [code, want] of Object.entries(EXPECTED)) {
  test(`classifies ${code} as ${want.class} (retry ${want.retry}) in both body shapes`, () => {
    const shapes = [
      json({ error: { code, message: 'x' } }), // OpenAI-style, code as string
      json({ code: Number(code), msg: 'x' }), // Z.AI native, code as number
      json({ type: 'error', error: { type: 'rate_limit', code: Number(code), message: 'x' } }), // Anthropic envelope
    ];
    for (const body of shapes) {
      const r = classify(429, body);
      assert.equal(r.code, code);
      assert.equal(r.class, want.class);
      assert.equal(r.retryable, want.retry);
      assert.equal(r.status, 429);
    }
  });
}

test('1211 is a plain client error: unknown class, not retried', () => {
  const r = classify(400, json({ error: { code: '1211', message: 'Unknown Model' } }));
  assert.deepEqual({ code: r.code, class: r.class, retryable: r.retryable }, { code: '1211', class: 'unknown', retryable: false });
});

test('status-only fallbacks', () => {
  assert.equal(classify(429, '').class, 'frequency');
  assert.equal(classify(429, '').retryable, true);
  assert.equal(classify(429, 'Too Many Requests').class, 'frequency');
  for (const s of [500, 502, 503, 504]) assert.deepEqual([classify(s, '<html>').class, classify(s, '').retryable], ['unknown', true]);
  for (const s of [501, 505, 400, 401, 403, 404, 422]) assert.equal(classify(s, '{}').retryable, false, String(s));
});

test('a nested error code wins over a top-level one, and top-level 200/0 is not a code', () => {
  assert.equal(classify(429, json({ code: 1303, error: { code: '1302' } })).code, '1302');
  assert.equal(classify(500, json({ code: 500, msg: 'internal' })).code, undefined);
  assert.equal(classify(429, json({ code: 0, msg: 'x' })).class, 'frequency');
});

test('a known code at the start of the message is accepted, an unknown one is not', () => {
  assert.equal(classify(429, json({ error: { message: '1302 too many concurrent' } })).class, 'concurrency');
  assert.equal(classify(429, json({ error: { message: '9999 mystery' } })).code, undefined);
});

test('garbage, truncated and non-object bodies never throw', () => {
  const bodies = ['{"error":{"code":"13', '[1,2]', 'null', '\u0000\u00ff', '{"code":{"nested":1}}', '"1302"'];
  for (const b of bodies) assert.doesNotThrow(() => classify(503, b));
  assert.equal(classify(429, Buffer.alloc(64 * 1024, 0x7b)).class, 'frequency');
});

test('Retry-After header: seconds, HTTP date, any header case; body hint as fallback', () => {
  assert.equal(classify(429, '', { 'retry-after': '7' }).retryAfterMs, 7000);
  assert.equal(classify(429, '', { 'Retry-After': '3' }).retryAfterMs, 3000);
  assert.equal(classify(429, '', { 'retry-after': new Date(NOW + 90_000).toUTCString() }).retryAfterMs, 90_000);
  assert.equal(classify(429, json({ code: 1303, retry_after: 12 })).retryAfterMs, 12_000);
  assert.equal(classify(429, json({ error: { code: '1303', retryAfter: '2' } })).retryAfterMs, 2000);
  assert.equal(classify(429, json({ code: 1303, retry_after: 8 * 86_400 })).retryAfterMs, undefined);
  assert.equal(classify(429, json({ code: 1303, retry_after: 0 })).retryAfterMs, undefined);
  // header wins over body
  assert.equal(classify(429, json({ code: 1303, retry_after: 12 }), { 'retry-after': '1' }).retryAfterMs, 1000);
});

test('quota reset from the Beijing-time message text', () => {
  const r = classify(429, json({ error: { code: '1308', message: 'Usage limit reached for 5 hour. Your limit will reset at 2025-08-30 14:05:00' } }));
  assert.equal(r.class, 'quota');
  assert.equal(r.resetAtMs, Date.UTC(2025, 7, 30, 6, 5, 0)); // 14:05 UTC+8 = 06:05 UTC
  const weekly = classify(429, json({ code: 1310, msg: 'Weekly/Monthly Limit Exhausted. Your limit will reset at 2025-09-01 00:00:00' }));
  assert.equal(weekly.resetAtMs, Date.UTC(2025, 7, 31, 16, 0, 0));
});

test('quota reset from epoch seconds, epoch milliseconds, RFC 3339 and naive fields', () => {
  const at = Date.UTC(2025, 7, 30, 6, 5, 0);
  const cases: [string, unknown][] = [
    ['reset_time', at / 1000],
    ['resetTime', at],
    ['nextResetTime', String(at)],
    ['reset_at', '2025-08-30T06:05:00Z'],
    ['resetAt', '2025-08-30T14:05:00+08:00'],
    ['next_reset_time', '2025-08-30 14:05:00'],
  ];
  for (const [key, value] of cases) {
    assert.equal(classify(429, json({ error: { code: '1308', [key]: value } })).resetAtMs, at, key);
    assert.equal(classify(429, json({ code: 1308, msg: 'x', [key]: value })).resetAtMs, at, `${key} top-level`);
  }
});

test('implausible reset values are ignored', () => {
  for (const v of [12, -5, 5e10, 1e20, 'tomorrow', '1999-13-40 99:00:00', '1990-01-01 00:00:00']) {
    assert.equal(classify(429, json({ code: 1308, reset_time: v })).resetAtMs, undefined, String(v));
  }
});
