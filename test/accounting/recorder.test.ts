import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics, type Metrics } from '../../src/metrics/catalogue.js';
import { loadPriceTable, type PriceTable } from '../../src/accounting/pricing.js';
import { UsageRecorder } from '../../src/accounting/recorder.js';

const OFF_PEAK = Date.parse('2026-08-20T12:00:00Z');
const PEAK = Date.parse('2026-08-20T08:00:00Z');

async function values(m: Metrics, name: 'zai_proxy_tokens_total' | 'zai_proxy_estimated_cost_usd_total' | 'zai_proxy_usage_source_total') {
  const out = new Map<string, number>();
  for (const v of (await m[name].get()).values) {
    const labels = Object.entries(v.labels)
      .filter(([k]) => k !== 'variant')
      .map(([k, val]) => `${k}=${val}`)
      .sort()
      .join(',');
    out.set(labels, v.value);
  }
  return out;
}

test('records each non-zero direction with its cost, tier from the injected clock', async () => {
  const m = createMetrics('test', { processMetrics: false });
  let now = OFF_PEAK;
  const rec = new UsageRecorder(m, loadPriceTable({}), () => now);
  assert.equal(rec.record({ model: 'glm-4.7', usage: { input: 1000, output: 500, cacheRead: 2000, cacheWrite: 0 }, source: 'reported' }), true);
  now = PEAK;
  assert.equal(rec.record({ model: 'glm-4.7', usage: { input: 10, output: 0, cacheRead: 0, cacheWrite: 7 }, source: 'estimated' }), true);
  rec.record({ model: 'glm-4.7', usage: undefined, source: 'none' });

  const tokens = await values(m, 'zai_proxy_tokens_total');
  assert.deepEqual(
    tokens,
    new Map([
      ['direction=input,model=glm-4.7,pricing_tier=off_peak', 1000],
      ['direction=output,model=glm-4.7,pricing_tier=off_peak', 500],
      ['direction=cache_read,model=glm-4.7,pricing_tier=off_peak', 2000],
      ['direction=input,model=glm-4.7,pricing_tier=peak', 10],
      ['direction=cache_write,model=glm-4.7,pricing_tier=peak', 7],
    ]),
  );
  const cost = await values(m, 'zai_proxy_estimated_cost_usd_total');
  const near = (key: string, expected: number) => assert.ok(Math.abs(cost.get(key)! - expected) < 1e-12, `${key}: ${cost.get(key)} vs ${expected}`);
  near('direction=input,model=glm-4.7,pricing_tier=off_peak', 0.0006);
  near('direction=output,model=glm-4.7,pricing_tier=off_peak', 0.0011);
  near('direction=cache_read,model=glm-4.7,pricing_tier=off_peak', 0.00022);
  near('direction=input,model=glm-4.7,pricing_tier=peak', 0.000012);
  assert.equal(cost.get('direction=cache_write,model=glm-4.7,pricing_tier=peak'), 0, 'free direction still has its series');
  assert.deepEqual(
    await values(m, 'zai_proxy_usage_source_total'),
    new Map([
      ['source=reported', 1],
      ['source=estimated', 1],
      ['source=none', 1],
    ]),
  );
  assert.match(
    await m.registry.getSingleMetricAsString('zai_proxy_tokens_total'),
    /zai_proxy_tokens_total\{direction="input",model="glm-4.7",pricing_tier="off_peak",variant="test"\} 1000/,
  );
});

test('token rates: output over generation time, prompt (input + cache read) over time to first byte', async () => {
  const m = createMetrics('test', { processMetrics: false });
  const rec = new UsageRecorder(m, loadPriceTable({}), () => OFF_PEAK);
  rec.record({ model: 'glm-5', usage: { input: 200, output: 300, cacheRead: 800, cacheWrite: 0 }, source: 'reported', ttfbSeconds: 0.5, generationSeconds: 2 });
  const rate = await m.zai_proxy_token_rate.get();
  const sums = new Map(rate.values.filter((v) => v.metricName === 'zai_proxy_token_rate_sum').map((v) => [v.labels.direction, v.value]));
  assert.deepEqual(
    sums,
    new Map([
      ['output', 150],
      ['input', 2000],
    ]),
  );
  const inverse = await m.zai_proxy_token_rate_seconds.get();
  const invSums = new Map(inverse.values.filter((v) => v.metricName === 'zai_proxy_token_rate_seconds_sum').map((v) => [v.labels.direction, v.value]));
  assert.equal(invSums.get('output'), 2 / 300);
  assert.equal(invSums.get('input'), 0.5 / 1000);
});

test('no rate without both a positive count and a positive duration; never NaN or Infinity', async () => {
  const m = createMetrics('test', { processMetrics: false });
  const rec = new UsageRecorder(m, loadPriceTable({}), () => OFF_PEAK);
  rec.record({ model: 'm', usage: { input: 5, output: 5, cacheRead: 0, cacheWrite: 0 }, source: 'reported', ttfbSeconds: 0, generationSeconds: Number.NaN });
  rec.record({ model: 'm', usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, source: 'reported', ttfbSeconds: 1, generationSeconds: 1 });
  rec.record({ model: 'm', usage: { input: 5, output: 5, cacheRead: 0, cacheWrite: 0 }, source: 'reported', ttfbSeconds: Infinity, generationSeconds: -1 });
  const text = await m.registry.getSingleMetricAsString('zai_proxy_token_rate');
  assert.doesNotMatch(text, /_count\{[^}]*\} [1-9]/, 'nothing observed');
  assert.doesNotMatch(await m.registry.metrics(), /\} (NaN|[+-]?Inf)/m);
});

test('a failing price table or metric is counted as a failure, never thrown', () => {
  const m = createMetrics('test', { processMetrics: false });
  const broken: PriceTable = {
    usdPerToken() {
      throw new Error('boom');
    },
  };
  const rec = new UsageRecorder(m, broken, () => OFF_PEAK);
  assert.equal(rec.record({ model: 'm', usage: { input: 1, output: 0, cacheRead: 0, cacheWrite: 0 }, source: 'reported' }), false);
  const rec2 = new UsageRecorder(m, loadPriceTable({}), () => OFF_PEAK);
  // a label value prom-client rejects (undefined model) must not escape either
  assert.equal(
    typeof rec2.record({ model: undefined as unknown as string, usage: { input: 1, output: 0, cacheRead: 0, cacheWrite: 0 }, source: 'reported' }),
    'boolean',
  );
  assert.equal(typeof rec2.record({ model: 'm', usage: { input: 1, output: 0, cacheRead: 0, cacheWrite: 0 }, source: 'bogus' as 'none' }), 'boolean');
});
