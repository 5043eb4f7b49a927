import assert from 'node:assert/strict';
import { test } from 'node:test';
import { twoDecimals } from '../../src/lib/two-decimals.js';

test('twoDecimals writes what String(Math.round(n * 100) / 100) writes', () => {
  const samples = [0, 0.004, 0.005, 0.07, 0.1, 0.125, 1.5, 2, 3.999, 12.34, 99.995, 1234.5678, 1e9 + 0.25, -0.07, -2.5, -1234.5678, 0.0049999];
  for (let i = 0; i < 2000; i++) samples.push(Math.random() * 10 ** (i % 7), -Math.random() * 100);
  for (const n of samples) assert.equal(twoDecimals(n), String(Math.round(n * 100) / 100), `for ${n}`);
});

test('twoDecimals passes non-finite and huge values through as numbers write them', () => {
  for (const n of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e300]) assert.equal(twoDecimals(n), String(Math.round(n * 100) / 100));
});
