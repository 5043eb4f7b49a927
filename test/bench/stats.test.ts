import { test } from 'node:test';
import assert from 'node:assert/strict';
// @ts-expect-error: a plain ES module of the bench, without types
import { pooledQuantile, quantile } from '../../bench/lib/stats.mjs';

test('a quantile pooled from binned counts is the quantile of all the delays together', () => {
  const bin = (xs: number[]) => {
    const m = new Map<number, number>();
    for (const x of xs) m.set(Math.round(x / 0.1), (m.get(Math.round(x / 0.1)) ?? 0) + 1);
    return [...m];
  };
  // Two rounds: one quiet, one with a slow spell; the pooled tail is neither round's own.
  const quiet = Array.from({ length: 990 }, (_, i) => 1 + (i % 10) / 10);
  const slow = [...Array.from({ length: 900 }, () => 1.5), ...Array.from({ length: 100 }, (_, i) => 20 + i / 10)];
  for (const q of [0.5, 0.9, 0.99, 1]) assert.equal(pooledQuantile([bin(quiet), bin(slow)], 0.1, q), +quantile([...quiet, ...slow], q).toFixed(1));
  assert.equal(pooledQuantile([bin(slow)], 0.1, 0.99), 28.9);
  assert.ok(Number.isNaN(pooledQuantile([], 0.1, 0.99)));
});
