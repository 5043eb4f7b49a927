import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuotaResponse, windowOf, sanitizeLabel, isQuotaSample, type QuotaSample } from '../../src/quota/parse.js';

const AT = 1_788_000_000_000;

// The shape the endpoint returns today (docs/zai.md, "Quota endpoint").
const CURRENT = {
  code: 200,
  msg: 'Operation successful',
  success: true,
  data: {
    level: 'pro',
    limits: [
      { type: 'CREDIT_LIMIT', unit: 3, number: 5, usage: 2000, currentValue: 740, remaining: 1259, percentage: 37, nextResetTime: 1788541838272 },
      { type: 'CREDIT_LIMIT', unit: 6, number: 1, usage: 10000, currentValue: 5207, remaining: 4792, percentage: 52, nextResetTime: 1788900000000 },
      { type: 'TIME_LIMIT', unit: 5, number: 1, usage: 100, currentValue: 12, remaining: 88, percentage: 12, nextResetTime: 1790000000000 },
      { type: 'SOME_FUTURE_LIMIT', unit: 9, number: 1, usage: 5, currentValue: 1, percentage: 20 },
    ],
  },
};

const LEGACY = {
  code: 200,
  msg: 'Operation successful',
  success: true,
  data: {
    level: 'lite',
    limits: [
      { type: 'TOKENS_LIMIT', unit: 3, number: 5, percentage: 37, nextResetTime: 1788541838272 },
      { type: 'TOKENS_LIMIT', unit: 6, number: 7, percentage: 7 },
    ],
  },
};

function sample(body: unknown): QuotaSample {
  const r = parseQuotaResponse(body, AT);
  assert.ok(isQuotaSample(r), `expected a sample, got ${JSON.stringify(r)}`);
  return r;
}

const withLimits = (limits: unknown[]) => ({ code: 200, success: true, data: { limits } });

test('current shape: amounts give the used fraction, windows by unit/number, unknown types ignored', () => {
  const s = sample(CURRENT);
  assert.equal(s.level, 'pro');
  assert.equal(s.fetchedAtMs, AT);
  assert.deepEqual(s.limits, [
    {
      window: 'five_hour',
      limitType: 'credit_limit',
      usedRatio: 0.37,
      remainingRatio: 0.63,
      resetAtMs: 1788541838272,
      used: 740,
      total: 2000,
      remaining: 1259,
    },
    {
      window: 'weekly',
      limitType: 'credit_limit',
      usedRatio: 0.5207,
      remainingRatio: 1 - 0.5207,
      resetAtMs: 1788900000000,
      used: 5207,
      total: 10000,
      remaining: 4792,
    },
    { window: 'monthly', limitType: 'time_limit', usedRatio: 0.12, remainingRatio: 0.88, resetAtMs: 1790000000000, used: 12, total: 100, remaining: 88 },
  ]);
});

test('legacy TOKENS_LIMIT carries a percentage only: fraction from it, no amounts, no reset when absent', () => {
  const s = sample(LEGACY);
  assert.equal(s.level, 'lite');
  assert.deepEqual(s.limits, [
    { window: 'five_hour', limitType: 'tokens_limit', usedRatio: 0.37, remainingRatio: 0.63, resetAtMs: 1788541838272 },
    { window: 'weekly', limitType: 'tokens_limit', usedRatio: 0.07, remainingRatio: 1 - 0.07 },
  ]);
});

test('only unknown types: a valid sample with zero windows', () => {
  const s = sample(
    withLimits([
      { type: 'PROMO_LIMIT', unit: 42, number: 1, percentage: 50 },
      { type: 'X', percentage: 1 },
    ]),
  );
  assert.deepEqual(s.limits, []);
  assert.deepEqual(sample(withLimits([])).limits, []);
});

test('fractions are clamped to [0, 1]: 137 % is exhausted, negatives are nothing used', () => {
  const [over] = sample(withLimits([{ type: 'TOKENS_LIMIT', unit: 3, number: 5, percentage: 137 }])).limits;
  assert.equal(over!.usedRatio, 1);
  assert.equal(over!.remainingRatio, 0);
  const [more] = sample(withLimits([{ type: 'CREDIT_LIMIT', unit: 3, usage: 100, currentValue: 150 }])).limits;
  assert.deepEqual([more!.usedRatio, more!.used, more!.remaining], [1, 150, 0]);
  const [neg] = sample(withLimits([{ type: 'CREDIT_LIMIT', unit: 3, usage: 100, currentValue: -5, remaining: -1 }])).limits;
  assert.deepEqual([neg!.usedRatio, neg!.used, neg!.remaining], [0, 0, 0]);
  const [negPct] = sample(withLimits([{ type: 'TOKENS_LIMIT', unit: 6, percentage: -20 }])).limits;
  assert.equal(negPct!.usedRatio, 0);
});

test('non-numbers: numeric strings are read, junk strings, NaN and Infinity are absent', () => {
  const [str] = sample(withLimits([{ type: 'credit_limit', unit: '3', number: '5', usage: '200', currentValue: '50' }])).limits;
  assert.deepEqual(str, { window: 'five_hour', limitType: 'credit_limit', usedRatio: 0.25, remainingRatio: 0.75, used: 50, total: 200, remaining: 150 });
  // amounts unusable → falls back to the percentage
  const [junk] = sample(withLimits([{ type: 'CREDIT_LIMIT', unit: 3, usage: 'lots', currentValue: NaN, percentage: 25, nextResetTime: 'soon' }])).limits;
  assert.deepEqual(junk, { window: 'five_hour', limitType: 'credit_limit', usedRatio: 0.25, remainingRatio: 0.75 });
  // usage 0 cannot be divided by: percentage wins
  const [zero] = sample(withLimits([{ type: 'CREDIT_LIMIT', unit: 3, usage: 0, currentValue: 3, percentage: 25 }])).limits;
  assert.equal(zero!.usedRatio, 0.25);
  // nothing usable at all → the entry says nothing and is dropped
  assert.deepEqual(sample(withLimits([{ type: 'TOKENS_LIMIT', unit: 3, percentage: Infinity }])).limits, []);
  assert.deepEqual(sample(withLimits([{ type: 'TOKENS_LIMIT', unit: 3, percentage: '37%' }])).limits, []);
  // a reset of 0, negative or past year 9999 is "no reset advertised"
  for (const nextResetTime of [0, -1, 1e20]) {
    const [l] = sample(withLimits([{ type: 'TOKENS_LIMIT', unit: 3, percentage: 1, nextResetTime }])).limits;
    assert.equal(l!.resetAtMs, undefined);
  }
});

test('unit/number → window mapping', () => {
  assert.equal(windowOf(3, 5), 'five_hour');
  assert.equal(windowOf(3, undefined), 'five_hour');
  assert.equal(windowOf(3, 4), 'unknown'); // a 4-hour window is not the five-hour one
  assert.equal(windowOf(6, 1), 'weekly');
  assert.equal(windowOf(6, 7), 'weekly');
  assert.equal(windowOf(6, 2), 'unknown');
  assert.equal(windowOf(5, 1), 'monthly');
  assert.equal(windowOf(9, 1), 'unknown');
  assert.equal(windowOf(undefined, undefined), 'unknown');
});

test('a duplicate (window, type) keeps the first entry; case-insensitive types', () => {
  const s = sample(
    withLimits([
      { type: 'credit_limit', unit: 3, number: 5, percentage: 10 },
      { type: 'CREDIT_LIMIT', unit: 3, number: 5, percentage: 90 },
      { type: 'Tokens_Limit', unit: 3, number: 5, percentage: 20 },
    ]),
  );
  assert.deepEqual(
    s.limits.map((l) => [l.window, l.limitType, l.usedRatio]),
    [
      ['five_hour', 'credit_limit', 0.1],
      ['five_hour', 'tokens_limit', 0.2],
    ],
  );
});

test('structurally wrong bodies are malformed, with our own words only', () => {
  const cases: unknown[] = [
    null,
    'text',
    [],
    {},
    { code: 200, success: true },
    { code: 200, success: true, data: null },
    { code: 200, success: true, data: { limits: null } },
    { code: 200, success: true, data: { limits: { a: 1 } } },
    withLimits([3]),
    withLimits([{ type: 3, unit: 3, percentage: 1 }]),
  ];
  for (const body of cases) {
    const r = parseQuotaResponse(body, AT);
    assert.ok('error' in r && r.error === 'malformed', `${JSON.stringify(body)} → ${JSON.stringify(r)}`);
  }
});

test('the provider error envelope is rejected without its message text', () => {
  const marker = 'acct:marker-7f3a9';
  for (const body of [
    { code: 401, msg: `token expired or incorrect (${marker})`, data: null, success: false },
    { code: 401, msg: `token expired (${marker})` }, // no success flag, non-200 code
    { code: '500', msg: marker, success: false, data: { limits: [] } },
  ]) {
    const r = parseQuotaResponse(body, AT);
    assert.ok('error' in r && r.error === 'rejected', JSON.stringify(r));
    assert.ok(!JSON.stringify(r).includes(marker));
    assert.ok(!JSON.stringify(r).includes('expired'));
  }
  const r = parseQuotaResponse({ code: 401, msg: 'x', success: false }, AT);
  assert.deepEqual(r, { error: 'rejected', detail: 'provider rejected the request (code 401)', providerCode: 401 });
  // no flag and code 200 (or 0) is a success
  assert.equal(sample({ code: 200, data: { limits: [{ type: 'TOKENS_LIMIT', unit: 3, percentage: 5 }] } }).limits.length, 1);
  assert.equal(sample({ code: 0, data: { limits: [] } }).limits.length, 0);
});

test('plan level is label-safe and bounded', () => {
  assert.equal(sample({ success: true, data: { level: ' Max Plan!', limits: [] } }).level, 'max_plan_');
  assert.equal(sample({ success: true, data: { level: 'x'.repeat(100), limits: [] } }).level, 'x'.repeat(32));
  assert.equal(sample({ success: true, data: { level: 7, limits: [] } }).level, undefined);
  assert.equal(sanitizeLabel(''), 'unknown');
  assert.equal(sanitizeLabel('T'.repeat(64)), 't'.repeat(32));
});
