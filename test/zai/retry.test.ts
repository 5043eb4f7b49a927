import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetryAfter } from '../../src/zai/retry-after.js';
import { retryDelayMs } from '../../src/zai/retry.js';

const NOW = Date.UTC(2025, 7, 30, 12, 0, 0);

test('parseRetryAfter reads delta-seconds and HTTP dates', () => {
  assert.equal(parseRetryAfter('0', NOW), 0);
  assert.equal(parseRetryAfter(' 30 ', NOW), 30_000);
  assert.equal(parseRetryAfter('1.5', NOW), 1500);
  assert.equal(parseRetryAfter('Sat, 30 Aug 2025 12:01:00 GMT', NOW), 60_000);
  assert.equal(parseRetryAfter('Sat, 30 Aug 2025 11:00:00 GMT', NOW), 0, 'a past date means now');
});

test('parseRetryAfter rejects absent, garbage, negative and absurd values', () => {
  for (const v of [undefined, '', 'soon', '-5', '1e3', '99999999999', 'Mon, 30 Aug 2125 12:00:00 GMT']) {
    assert.equal(parseRetryAfter(v, NOW), undefined, String(v));
  }
});

test('backoff doubles per attempt within [b/2, b] for rate-pressure classes', () => {
  for (const cls of ['frequency', 'overload', 'congestion', 'unknown', 'network', 'truncated'] as const) {
    for (let attempt = 1; attempt <= 4; attempt++) {
      const b = 1000 * 2 ** (attempt - 1);
      assert.equal(
        retryDelayMs(attempt, { class: cls }, () => 0),
        b / 2,
      );
      assert.equal(
        retryDelayMs(attempt, { class: cls }, () => 0.999999),
        b,
      );
      const mid = retryDelayMs(attempt, { class: cls }, () => 0.5);
      assert.ok(mid > b / 2 && mid < b);
    }
  }
});

test('jitter spreads delays: many draws are not all equal', () => {
  const seen = new Set<number>();
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 50; i++) seen.add(retryDelayMs(2, { class: 'frequency' }, rnd));
  assert.ok(seen.size > 20);
  for (const d of seen) assert.ok(d >= 1000 && d <= 2000);
});

test('concurrency backs off briefly: a quarter of the curve', () => {
  assert.equal(
    retryDelayMs(1, { class: 'concurrency' }, () => 0),
    125,
  );
  assert.equal(
    retryDelayMs(1, { class: 'concurrency' }, () => 1),
    250,
  );
  assert.ok(retryDelayMs(3, { class: 'concurrency' }, () => 1) < retryDelayMs(3, { class: 'frequency' }, () => 0));
});

test('Retry-After is a floor, maxDelayMs a cap on everything', () => {
  assert.equal(
    retryDelayMs(1, { class: 'frequency', retryAfterMs: 5000 }, () => 0),
    5000,
  );
  assert.equal(
    retryDelayMs(1, { class: 'concurrency', retryAfterMs: 900 }, () => 0),
    900,
  );
  assert.equal(
    retryDelayMs(1, { class: 'frequency', retryAfterMs: 60_000 }, () => 0),
    30_000,
  );
  assert.equal(
    retryDelayMs(10, { class: 'frequency' }, () => 1, { maxDelayMs: 4000 }),
    4000,
  );
  assert.equal(
    retryDelayMs(2, { class: 'frequency' }, () => 0, { baseMs: 100 }),
    100,
  );
  assert.equal(
    retryDelayMs(1000, { class: 'overload' }, () => 1),
    30_000,
    'huge attempt numbers stay finite',
  );
  assert.equal(
    retryDelayMs(0, { class: 'overload' }, () => 0),
    500,
    'attempt < 1 counts as the first',
  );
});
