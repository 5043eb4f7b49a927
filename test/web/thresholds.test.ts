import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ADMISSION_WAIT_P95_STEPS,
  ERROR_RATIO_STEPS,
  UTILIZATION_STEPS,
  isStale,
  levelFor,
  levelStyle,
  queueLevel,
  tokenLevel,
} from '../../web/src/format/thresholds.js';

describe('thresholds', () => {
  test("the seed's token thresholds over one hour: total 50k / 100k, input and output 25k / 50k", () => {
    const hour = 3_600_000;
    assert.equal(tokenLevel('total', 49_999, hour), 'ok');
    assert.equal(tokenLevel('total', 50_000, hour), 'warn');
    assert.equal(tokenLevel('total', 99_999, hour), 'warn');
    assert.equal(tokenLevel('total', 100_000, hour), 'high');
    assert.equal(tokenLevel('input', 24_999, hour), 'ok');
    assert.equal(tokenLevel('input', 25_000, hour), 'warn');
    assert.equal(tokenLevel('output', 50_000, hour), 'high');
    assert.equal(tokenLevel('total', null, hour), null);
  });
  test('other windows scale the hourly budget', () => {
    assert.equal(tokenLevel('total', 12_500, 15 * 60_000), 'warn');
    assert.equal(tokenLevel('total', 1_199_999, 24 * 3_600_000), 'ok');
  });
  test('error share and utilisation cut points', () => {
    assert.deepEqual(
      [0, 0.0099, 0.01, 0.025, 0.05, 0.1].map((v) => levelFor(v, ERROR_RATIO_STEPS)),
      ['ok', 'ok', 'warn', 'warn', 'critical', 'critical'],
    );
    assert.deepEqual(
      [0.69, 0.7, 0.85, 0.9, 1.0].map((v) => levelFor(v, UTILIZATION_STEPS)),
      ['ok', 'warn', 'warn', 'critical', 'critical'],
    );
  });
  test('every level has its own word and glyph, so colour is never the only signal', () => {
    const styles = (['ok', 'warn', 'high', 'critical'] as const).map(levelStyle);
    assert.equal(new Set(styles.map((s) => s.word)).size, 4);
    assert.equal(new Set(styles.map((s) => s.glyph)).size, 4);
  });
  test('a variant is stale after three scrape intervals without data', () => {
    assert.equal(isStale(100_000, 115_000, 5), false);
    assert.equal(isStale(100_000, 115_001, 5), true);
    assert.equal(isStale(null, 0, 5), true);
  });
  test('admission wait p95: elevated from 2 s, critical from 10 s', () => {
    assert.deepEqual(
      [0, 1999, 2000, 9999, 10_000, 30_000].map((ms) => levelFor(ms, ADMISSION_WAIT_P95_STEPS)),
      ['ok', 'ok', 'warn', 'warn', 'critical', 'critical'],
    );
    assert.equal(levelFor(null, ADMISSION_WAIT_P95_STEPS), null);
  });
  test('queue depth: empty is normal, a brief queue too; elevated once it stays a minute, critical after five', () => {
    assert.equal(queueLevel(0, 0), 'ok');
    assert.equal(queueLevel(0, 600), 'ok');
    assert.equal(queueLevel(4, 59), 'ok');
    assert.equal(queueLevel(4, 60), 'warn');
    assert.equal(queueLevel(1, 299), 'warn');
    assert.equal(queueLevel(1, 300), 'critical');
    assert.equal(queueLevel(null, 300), null);
  });
});
