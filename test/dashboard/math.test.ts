import assert from 'node:assert/strict';
import { test } from 'node:test';
import { counterIncrease, pointsWithIncreases } from '../../src/dashboard/snapshot/increase.js';
import { histogramQuantile } from '../../src/dashboard/snapshot/quantile.js';
import { deriveSnapshot } from '../../src/dashboard/snapshot/derive.js';
import { mergeSnapshots } from '../../src/dashboard/store/rollup.js';
import { parseExposition } from '../../src/dashboard/snapshot/exposition.js';
import { isCounterLike, METRIC } from '../../src/dashboard/snapshot/names.js';
import { DURATION_BUCKETS } from '../../src/metrics/catalogue.js';

const scrape = { up: true, duration_ms: 1, last_success_ms: 0, targets: 1, targets_up: 1, series: 0 };

test('counter increase: growth, reset to a smaller value, new series, restart', () => {
  assert.equal(counterIncrease(100, 110, false), 10);
  assert.equal(counterIncrease(100, 5, false), 5);
  assert.equal(counterIncrease(undefined, 3, false), 3);
  assert.equal(counterIncrease(100, 150, true), 150);
  assert.equal(counterIncrease(1, NaN, false), 0);
});

test('histogram quantile interpolates inside the rank bucket, like histogram_quantile', () => {
  const bounds = [0.1, 0.5, 1];
  // 10 obs ≤0.1, 15 in (0.1,0.5], 20 in (0.5,1], 5 above 1: total 50.
  const cum = [10, 25, 45, 50];
  assert.equal(histogramQuantile(0.5, bounds, cum), 0.5 + ((25 - 25) / 20) * 0.5); // rank 25 → exactly 0.5
  assert.ok(Math.abs(histogramQuantile(0.9, bounds, cum)! - (0.5 + (20 / 20) * 0.5)) < 1e-12); // rank 45 → 1.0
  assert.ok(Math.abs(histogramQuantile(0.1, bounds, cum)! - 0.05) < 1e-12); // rank 5 of 10 in [0,0.1]
  assert.equal(histogramQuantile(0.99, bounds, cum), 1); // rank 49.5 in +Inf → top finite bound
  assert.equal(histogramQuantile(0.5, bounds, [0, 0, 0, 0]), null);
  assert.equal(histogramQuantile(2, bounds, cum), null);
  // rank in a bucket after empty buckets: interpolation from the previous bound
  assert.ok(Math.abs(histogramQuantile(0.5, bounds, [0, 0, 4, 4])! - 0.75) < 1e-12);
});

function page(lines: string[]) {
  return parseExposition(lines.join('\n')).samples;
}

const dur = METRIC.zai_proxy_request_duration_seconds;
const req = METRIC.zai_proxy_requests_total;

function durationLines(okCounts: number[], slowCounts: number[], start: number) {
  // Two series (two status codes) so summing across series is exercised.
  const lines: string[] = [`process_start_time_seconds ${start}`];
  const emit = (code: string, counts: number[]) => {
    for (const [i, b] of DURATION_BUCKETS.entries())
      lines.push(`${dur}_bucket{status_code="${code}",variant="stable",le="${b}"} ${counts[i] ?? counts[counts.length - 1]}`);
    lines.push(`${dur}_bucket{status_code="${code}",variant="stable",le="+Inf"} ${counts[counts.length - 1]}`);
  };
  emit('200', okCounts);
  emit('500', slowCounts);
  return lines;
}

test('windowed quantiles use bucket deltas, not lifetime totals, and rates survive a per-series reset', () => {
  const first = page([
    ...durationLines([1000, 1000], [0, 0], 100),
    `${req}{status_code="200",variant="stable"} 1000`,
    `${req}{status_code="500",variant="stable"} 0`,
  ]);
  // Lifetime: 1000 fast (≤5ms). Window: 10 new requests between 0.5s and 1s (bucket index 7, le=1).
  const fastThenSlow = DURATION_BUCKETS.map((b) => (b < 1 ? 1000 : 1010));
  const second = page([
    ...durationLines([...fastThenSlow, 1010], [0, 0], 100),
    `${req}{status_code="200",variant="stable"} 1010`,
    `${req}{status_code="500",variant="stable"} 0`,
  ]);
  const a = pointsWithIncreases(first, undefined, isCounterLike);
  const b = pointsWithIncreases(second, a.page, isCounterLike);
  const { snapshot } = deriveSnapshot({ ts: 10_000, variant: 'stable', windowS: 5, points: b.points, scrape });
  assert.equal(snapshot.requests.rate, 2); // 10 requests / 5 s
  assert.equal(snapshot.requests.window, 10);
  assert.equal(snapshot.requests.lifetime, 1010);
  // rank 5 of 10, all in (0.5, 1] → 0.5 + 0.5 × 5/10 = 0.75 s
  assert.ok(Math.abs(snapshot.latency_ms.p50! - 750) < 1e-9);
  assert.equal(snapshot.requests.error_ratio, 0);

  // One series resets (drops to 4) while the other grows: per-series handling counts 4 + 6, a sum would see -990.
  const third = page([`process_start_time_seconds 100`, `${req}{status_code="200",variant="stable"} 4`, `${req}{status_code="500",variant="stable"} 6`]);
  const c = pointsWithIncreases(third, b.page, isCounterLike);
  const s3 = deriveSnapshot({ ts: 15_000, variant: 'stable', windowS: 5, points: c.points, scrape }).snapshot;
  assert.equal(s3.requests.window, 10);
  assert.equal(s3.requests.by_class['5xx'], 6 / 5);
  assert.equal(s3.requests.error_ratio, 0.6);
  assert.deepEqual(s3.requests.by_code, { '200': 4 / 5, '500': 6 / 5 });
});

test('a restarted proxy (new process start time) counts every counter from zero', () => {
  const before = page([`process_start_time_seconds 100`, `${req}{status_code="200",variant="stable"} 50`]);
  // Restarted and already served more than before: value grew, yet it is a new process.
  const after = page([`process_start_time_seconds 200`, `${req}{status_code="200",variant="stable"} 70`]);
  const a = pointsWithIncreases(before, undefined, isCounterLike);
  const b = pointsWithIncreases(after, a.page, isCounterLike);
  const s = deriveSnapshot({ ts: 1, variant: 'stable', windowS: 10, points: b.points, scrape }).snapshot;
  assert.equal(s.requests.window, 70);
  assert.equal(s.requests.rate, 7);
});

test('first scrape: no rates, null quantiles, gauges and lifetime still shown', () => {
  const p = page([`${req}{status_code="200",variant="stable"} 5`, `${METRIC.zai_proxy_concurrent_requests}{variant="stable"} 2`]);
  const a = pointsWithIncreases(p, undefined, isCounterLike);
  const s = deriveSnapshot({ ts: 1, variant: 'stable', windowS: 0, points: a.points, scrape }).snapshot;
  assert.equal(s.requests.rate, 0);
  assert.equal(s.requests.lifetime, 5);
  assert.equal(s.latency_ms.p99, null);
  assert.equal(s.workers.in_flight, 2);
  assert.equal(s.requests.error_ratio, null);
});

test('tokens, cost across pricing tiers, quota choice and build info', () => {
  const tok = METRIC.zai_proxy_tokens_total;
  const cost = METRIC.zai_proxy_estimated_cost_usd_total;
  const q = METRIC.zai_proxy_quota_usage_ratio;
  const mk = (inPeak: number, inOff: number, out: number, c1: number, c2: number) => [
    `${tok}{direction="input",pricing_tier="peak",variant="v"} ${inPeak}`,
    `${tok}{direction="input",pricing_tier="off_peak",variant="v"} ${inOff}`,
    `${tok}{direction="output",pricing_tier="off_peak",variant="v"} ${out}`,
    `${cost}{direction="input",pricing_tier="peak",variant="v"} ${c1}`,
    `${cost}{direction="input",pricing_tier="off_peak",variant="v"} ${c2}`,
    `${q}{window="five_hour",limit_type="tokens_limit",variant="v"} 0.9`,
    `${q}{window="five_hour",limit_type="credit_limit",variant="v"} 0.42`,
    `${METRIC.zai_proxy_quota_reset_time_seconds}{window="five_hour",limit_type="credit_limit",variant="v"} 0`,
    `${q}{window="unknown",limit_type="credit_limit",variant="v"} 0.1`,
    `${METRIC.zai_proxy_quota_sample_age_seconds}{variant="v"} 12`,
    `${METRIC.zai_proxy_build_info}{version="1.0",commit="c",build_time="t",variant="v"} 1`,
  ];
  const a = pointsWithIncreases(page(mk(0, 100, 50, 0.5, 0.25)), undefined, isCounterLike);
  const b = pointsWithIncreases(page(mk(20, 180, 450, 0.75, 0.5)), a.page, isCounterLike);
  const s = deriveSnapshot({ ts: 1, variant: 'v', windowS: 10, points: b.points, scrape }).snapshot;
  assert.equal(s.tokens.window.input, 100);
  assert.equal(s.tokens.window.output, 400);
  assert.equal(s.tokens.rate.input, 10);
  assert.equal(s.tokens.output_input_ratio, 4);
  assert.equal(s.tokens.lifetime.input, 200);
  assert.equal(s.cost_usd.window, 0.5);
  assert.equal(s.cost_usd.per_hour, (0.5 / 10) * 3600);
  assert.equal(s.cost_usd.lifetime, 1.25);
  assert.deepEqual(s.quota?.windows, { five_hour: { limit_type: 'credit_limit', usage_ratio: 0.42, remaining_ratio: null, reset_ms: null } });
  assert.equal(s.quota?.sample_age_s, 12);
  assert.deepEqual(s.build, { version: '1.0', commit: 'c', build_time: 't' });
});

test('cost by model: window USD and per-day pace per model, summed over directions and tiers; rollup merges by counts', () => {
  const cost = METRIC.zai_proxy_estimated_cost_usd_total;
  const mk = (a: number, b: number, c: number, idle: number) => [
    `${cost}{direction="input",model="glm-4.7",pricing_tier="peak",variant="v"} ${a}`,
    `${cost}{direction="output",model="glm-4.7",pricing_tier="off_peak",variant="v"} ${b}`,
    `${cost}{direction="output",model="glm-4.5-air",pricing_tier="off_peak",variant="v"} ${c}`,
    `${cost}{direction="input",model="glm-5",pricing_tier="off_peak",variant="v"} ${idle}`,
  ];
  const a = pointsWithIncreases(page(mk(1, 2, 0.5, 3)), undefined, isCounterLike);
  const b = pointsWithIncreases(page(mk(1.25, 2.5, 0.75, 3)), a.page, isCounterLike);
  const s = deriveSnapshot({ ts: 60_000, variant: 'v', windowS: 10, points: b.points, scrape }).snapshot;
  // glm-4.7: 0.25 + 0.5 over 10 s; glm-4.5-air: 0.25; glm-5 spent nothing in the window and is not listed.
  assert.deepEqual(s.cost_usd.window_by_model, { 'glm-4.7': 0.75, 'glm-4.5-air': 0.25 });
  assert.equal(s.cost_usd.window, 1);
  assert.equal(s.cost_usd.per_day, (1 / 10) * 86_400);
  assert.deepEqual(s.cost_usd.per_day_by_model, { 'glm-4.7': (0.75 / 10) * 86_400, 'glm-4.5-air': (0.25 / 10) * 86_400 });

  // A second point of 50 s where only glm-5 spends; one point stored before the field existed.
  const other = structuredClone(s);
  other.ts = 70_000;
  other.window_s = 50;
  other.cost_usd = { ...other.cost_usd, window: 2, window_by_model: { 'glm-5': 2 } };
  const legacy = structuredClone(s);
  legacy.ts = 120_000;
  legacy.window_s = 0;
  const { window_by_model: _drop, ...legacyCost } = legacy.cost_usd;
  (legacy as { cost_usd: unknown }).cost_usd = legacyCost;
  const hist = deriveSnapshot({ ts: 0, variant: 'v', windowS: 0, points: [], scrape }).histograms;
  const merged = mergeSnapshots(
    [s, other, legacy].map((snapshot) => ({ snapshot, histograms: hist })),
    60_000,
  ).snapshot;
  assert.deepEqual(merged.cost_usd.window_by_model, { 'glm-4.7': 0.75, 'glm-4.5-air': 0.25, 'glm-5': 2 });
  assert.equal(merged.cost_usd.window, 1 + 2 + 1);
  // 60 s covered: per-day pace from the summed counts, not a mean of the points' paces.
  assert.equal(merged.cost_usd.per_day_by_model['glm-5'], (2 / 60) * 86_400);
  assert.equal(merged.cost_usd.per_day, (4 / 60) * 86_400);
});

test('binding limit: the one binding most replicas, the upstream first on a tie; headroom per replica under the ceiling', () => {
  const bind = METRIC.zai_proxy_limiter_binding;
  const replica = (instance: string, binding: string, rate: number) => [
    ...['none', 'learned_rate', 'concurrency', 'quota_pacing', 'upstream'].map(
      (l) => `${bind}{limit="${l}",instance="${instance}",variant="v"} ${l === binding ? 1 : 0}`,
    ),
    `${METRIC.zai_proxy_rate_limit_requests_per_second}{instance="${instance}",variant="v"} ${rate}`,
    `${METRIC.zai_proxy_rate_limit_ceiling}{instance="${instance}",variant="v"} 20`,
  ];
  const derive = (lines: string[]) =>
    deriveSnapshot({ ts: 1, variant: 'v', windowS: 5, points: pointsWithIncreases(page(lines), undefined, isCounterLike).points, scrape }).snapshot.limiter;

  const one = derive(replica('a', 'learned_rate', 19.6));
  assert.equal(one.binding, 'learned_rate');
  assert.deepEqual(one.binding_replicas, { learned_rate: 1 });
  assert.ok(Math.abs(one.ceiling_headroom_ratio! - 0.02) < 1e-12);

  const three = derive([...replica('a', 'learned_rate', 19.6), ...replica('b', 'concurrency', 19.6), ...replica('c', 'learned_rate', 19.6)]);
  assert.equal(three.binding, 'learned_rate');
  assert.deepEqual(three.binding_replicas, { learned_rate: 2, concurrency: 1 });
  // The rate gauges add up over replicas (58.8) but each replica holds 2 % under the shared ceiling.
  assert.ok(Math.abs(three.ceiling_headroom_ratio! - 0.02) < 1e-12);
  assert.equal(derive([...replica('a', 'learned_rate', 10), ...replica('b', 'upstream', 10)]).binding, 'upstream');
  assert.equal(derive([...replica('a', 'none', 10), ...replica('b', 'concurrency', 10)]).binding, 'concurrency');
  // Probing above the ceiling reads as negative headroom.
  assert.ok(Math.abs(derive(replica('a', 'learned_rate', 21)).ceiling_headroom_ratio! + 0.05) < 1e-12);

  // A proxy without the gauge: nothing to name, the headroom still known from rate and ceiling.
  const old = derive([`${METRIC.zai_proxy_rate_limit_requests_per_second}{variant="v"} 9`, `${METRIC.zai_proxy_rate_limit_ceiling}{variant="v"} 10`]);
  assert.equal(old.binding, null);
  assert.deepEqual(old.binding_replicas, {});
  assert.ok(Math.abs(old.ceiling_headroom_ratio! - 0.1) < 1e-12);
  assert.equal(
    derive([`${METRIC.zai_proxy_rate_limit_ceiling}{variant="v"} 0`, `${METRIC.zai_proxy_rate_limit_requests_per_second}{variant="v"} 1`])
      .ceiling_headroom_ratio,
    null,
  );
});

test('binding limit over a rollup: the limit binding the most time, mean replicas and headroom; older points add nothing', () => {
  const hist = deriveSnapshot({ ts: 0, variant: 'v', windowS: 0, points: [], scrape }).histograms;
  const base = deriveSnapshot({ ts: 0, variant: 'v', windowS: 5, points: [], scrape }).snapshot;
  const at = (ts: number, limiter: Partial<typeof base.limiter>) => ({
    snapshot: { ...structuredClone(base), ts, limiter: { ...base.limiter, ...limiter } },
    histograms: hist,
  });
  const legacy = at(15_000, {});
  delete legacy.snapshot.limiter.binding;
  delete legacy.snapshot.limiter.binding_replicas;
  delete legacy.snapshot.limiter.ceiling_headroom_ratio;
  const merged = mergeSnapshots(
    [
      at(0, { binding: 'learned_rate', binding_replicas: { learned_rate: 1 }, ceiling_headroom_ratio: 0.02 }),
      at(5_000, { binding: 'learned_rate', binding_replicas: { learned_rate: 1 }, ceiling_headroom_ratio: 0.04 }),
      at(10_000, { binding: 'none', binding_replicas: { none: 1 }, ceiling_headroom_ratio: 0.03 }),
      legacy,
    ],
    0,
  ).snapshot.limiter;
  assert.equal(merged.binding, 'learned_rate');
  assert.deepEqual(merged.binding_replicas, { learned_rate: 2 / 3, none: 1 / 3 });
  assert.ok(Math.abs(merged.ceiling_headroom_ratio! - 0.03) < 1e-12);
  const neverReported = mergeSnapshots([legacy, at(20_000, { binding: null, binding_replicas: {}, ceiling_headroom_ratio: null })], 0).snapshot.limiter;
  assert.equal(neverReported.binding, null);
  assert.equal(neverReported.ceiling_headroom_ratio, null);
});
