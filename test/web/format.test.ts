import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatAge,
  formatBytes,
  formatCompact,
  formatCount,
  formatCountdown,
  formatCurrencyUSD,
  formatDelta,
  formatDeltaReadout,
  formatLatency,
  formatNumber,
  formatPercent,
  formatRate,
  formatRatioPercent,
  formatRelativeTime,
  formatSpan,
  formatUtilization,
} from '../../web/src/format/format.js';

describe('formatting pins the outputs an operator reads', () => {
  test('missing values read as a dash, never as zero', () => {
    for (const f of [formatNumber, formatRate, formatLatency, formatPercent, formatBytes, formatCurrencyUSD, formatUtilization, formatCount, formatCompact]) {
      assert.equal(f(null), '-');
      assert.equal(f(undefined), '-');
      assert.equal(f(Number.NaN), '-');
    }
  });
  test('numbers, rates and counts', () => {
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: a number with many digits, not π
    assert.equal(formatNumber(3.14159), '3.14');
    assert.equal(formatRate(5.5), '5.5');
    assert.equal(formatRate(0), '0.0');
    assert.equal(formatRate(1500), '1.5k');
    assert.equal(formatRate(10_000), '10.0k');
    assert.equal(formatRate(2_300_000), '2.3M');
    assert.equal(formatCount(950), '950');
    assert.equal(formatCount(4500), '4.5k');
    assert.equal(formatCount(1_234_567), '1.23M');
    assert.equal(formatCount(2_100_000_000), '2.10B');
  });
  test('latency in ms and s, with sub-10ms precision for proxy overhead', () => {
    assert.equal(formatLatency(50.5), '51ms');
    assert.equal(formatLatency(1500), '1.50s');
    assert.equal(formatLatency(0.4), '0.4ms');
    assert.equal(formatLatency(0.05), '0.05ms');
    assert.equal(formatLatency(0), '0ms');
  });
  test('percentages, utilisation, bytes and money', () => {
    assert.equal(formatPercent(5.5), '5.5%');
    assert.equal(formatPercent(0.125, 2), '0.13%');
    assert.equal(formatRatioPercent(0.055), '5.5%');
    assert.equal(formatUtilization(0.5), '50%');
    assert.equal(formatUtilization(0.75), '75%');
    assert.equal(formatUtilization(1), '100%');
    assert.equal(formatBytes(500), '500.0B');
    assert.equal(formatBytes(1536), '1.5KB');
    assert.equal(formatBytes(1024 * 1024), '1.0MB');
    assert.equal(formatCurrencyUSD(0.0044), '$0.0044');
    assert.equal(formatCurrencyUSD(12.5), '$12.50');
    assert.equal(formatCurrencyUSD(0), '$0.00');
    assert.equal(formatCurrencyUSD(12_345.6), '$12,346');
  });
  test('relative time, ages and countdowns floor to whole units', () => {
    const now = 1_000_000_000;
    assert.equal(formatRelativeTime(now - 500, now), 'just now');
    assert.equal(formatRelativeTime(now - 5_000, now), '5s ago');
    assert.equal(formatRelativeTime(now - 30_000, now), '30s ago');
    assert.equal(formatRelativeTime(now - 60_000, now), '1m ago');
    assert.equal(formatRelativeTime(now - 180_000, now), '3m ago');
    assert.equal(formatRelativeTime(now - 3_600_000, now), '1h ago');
    assert.equal(formatRelativeTime(now - 7_200_000, now), '2h ago');
    assert.equal(formatRelativeTime(now - 86_400_000, now), '1d ago');
    assert.equal(formatRelativeTime(now - 2 * 86_400_000, now), '2d ago');
    assert.equal(formatAge(-1), '-');
    assert.equal(formatAge(42), '42s');
    assert.equal(formatAge(20 * 60), '20m');
    assert.equal(formatAge(3 * 3600 + 5), '3h');
    assert.equal(formatCountdown(0), 'due');
    assert.equal(formatCountdown(-5), 'due');
    assert.equal(formatCountdown(59_000), '0m');
    assert.equal(formatCountdown(90 * 60_000), '1h 30m');
    assert.equal(formatCountdown(26 * 3_600_000), '1d 2h');
  });
  test('compare deltas are signed and say when there is nothing to compare', () => {
    assert.equal(formatDelta(100, 112), '+12%');
    assert.equal(formatDelta(100, 96.6), '\u22123.4%');
    assert.equal(formatDelta(100, 100), '0%');
    assert.equal(formatDelta(0, 0), '0%');
    assert.equal(formatDelta(0, 5), 'new');
    assert.equal(formatDelta(null, 5), '-');
    assert.equal(formatDeltaReadout(100, 112), '+12%');
    assert.equal(formatDeltaReadout(null, null), 'not enough data yet');
    assert.equal(formatDeltaReadout(100, undefined), 'not enough data yet');
    assert.equal(formatDeltaReadout(Number.NaN, 3), 'not enough data yet');
  });
  test('large differences read as a factor or a divisor, not a percentage in the thousands or -100%', () => {
    assert.equal(formatDelta(100, 199), '+99%');
    assert.equal(formatDelta(100, 200), '\u00D72.0');
    assert.equal(formatDelta(1, 1636.36), '\u00D71,636');
    assert.equal(formatDelta(0.4, 3), '\u00D77.5');
    assert.equal(formatDelta(100, 51), '\u221249%');
    assert.equal(formatDelta(100, 50), '\u00F72.0');
    assert.equal(formatDelta(1000, 5), '\u00F7200', '1 s against 5 ms is not "−100%"');
    assert.equal(formatDelta(100, 0), '\u2212100%', 'down to zero is a true −100%');
    assert.equal(formatDelta(-2, 3), 'n/a');
    assert.doesNotMatch(formatDelta(0.0011, 1.8), /%/);
  });
  test('axis ticks are compact and unitless; spans read short', () => {
    assert.deepEqual([0, 0.25, 3.5, 40, 1200, 3_000_000].map(formatCompact), ['0', '0.25', '3.5', '40', '1.2k', '3M']);
    assert.equal(formatSpan(15 * 60_000), '15m');
    assert.equal(formatSpan(86_400_000), '1d');
    assert.equal(formatSpan(7 * 86_400_000), '7d');
  });
});
