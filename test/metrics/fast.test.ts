import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import client from 'prom-client';
import { FastCounter, FastGauge, FastHistogram } from '../../src/metrics/fast.js';
import { createMetrics, DURATION_BUCKETS } from '../../src/metrics/catalogue.js';

/** The same observations through prom-client's classes and ours must expose the same text. */
async function expose(make: (registry: client.Registry, fast: boolean) => void, fast: boolean): Promise<string> {
  const registry = new client.Registry();
  registry.setDefaultLabels({ variant: 'canary' });
  make(registry, fast);
  return registry.metrics();
}

describe('fast counters, gauges and histograms', () => {
  it('expose exactly what prom-client would for the same observations', async () => {
    const scenario = (registry: client.Registry, fast: boolean) => {
      const labels = ['method', 'path'];
      // Both classes take the same calls; typed as ours so the union does not narrow them away.
      const counter = (
        fast ? new FastCounter('x_total', 'help "x"\\', labels) : new client.Counter({ name: 'x_total', help: 'help "x"\\', labelNames: labels, registers: [] })
      ) as FastCounter;
      const hist = (
        fast
          ? new FastHistogram('h_seconds', 'h', labels, DURATION_BUCKETS)
          : new client.Histogram({ name: 'h_seconds', help: 'h', labelNames: labels, buckets: DURATION_BUCKETS, registers: [] })
      ) as FastHistogram;
      const bare = fast ? new FastHistogram('b', 'b', [], [1, 2]) : new client.Histogram({ name: 'b', help: 'b', buckets: [1, 2], registers: [] });
      const plain = fast ? new FastCounter('p_total', 'p', []) : new client.Counter({ name: 'p_total', help: 'p', registers: [] });
      const gauge = (
        fast ? new FastGauge('g', 'g', ['limit'], 'max') : new client.Gauge({ name: 'g', help: 'g', labelNames: ['limit'], registers: [] })
      ) as FastGauge;
      const level = (fast ? new FastGauge('l', 'l', [], 'sum') : new client.Gauge({ name: 'l', help: 'l', registers: [] })) as FastGauge;
      const gone = (fast ? new FastGauge('age', 'age', [], 'max') : new client.Gauge({ name: 'age', help: 'age', registers: [] })) as FastGauge;
      const untouched = fast ? new FastGauge('u', 'u', [], 'sum') : new client.Gauge({ name: 'u', help: 'u', registers: [] });
      for (const m of [counter, hist, bare, plain, gauge, level, gone, untouched]) registry.registerMetric(m as unknown as client.Metric);
      counter.labels('POST', '/v1/"x"\n').inc();
      counter.inc({ method: 'GET', path: '/v1/models' }, 2.5);
      for (const v of [0.001, 0.005, 0.3, 7, 500]) hist.labels('POST', '/v1/messages').observe(v);
      hist.observe({ method: 'GET', path: 'other' }, 0.02);
      bare.observe(1.5);
      plain.inc();
      gauge.set({ limit: 'rate' }, 1);
      gauge.set({ limit: 'concurrency' }, 0);
      gauge.labels('rate').set(0.25);
      level.set(3);
      level.set(-1.5);
      gone.set(12);
      gone.remove({});
    };
    assert.equal(await expose(scenario, true), await expose(scenario, false));
  });

  it('refuse what prom-client refuses', () => {
    const c = new FastCounter('c_total', 'c', ['a']);
    assert.throws(() => c.labels('x').inc(-1));
    assert.throws(() => c.inc({ b: 'x' }));
    const h = new FastHistogram('h', 'h', ['a'], [1]);
    assert.throws(() => h.labels('x').observe(Number.NaN));
    assert.throws(() => h.labels('x', 'y'));
    const g = new FastGauge('g', 'g', [], 'sum');
    assert.throws(() => g.set('1' as unknown as number));
    assert.throws(() => new FastGauge('g', 'g', ['a'], 'sum').set(1));
  });

  it('back every counter and histogram of the catalogue, registered once', async () => {
    const m = createMetrics('stable', { processMetrics: false });
    assert.ok(m.zai_proxy_requests_total instanceof FastCounter);
    assert.ok(m.zai_proxy_request_duration_seconds instanceof FastHistogram);
    assert.ok(m.zai_proxy_concurrent_requests instanceof FastGauge);
    assert.equal((await m.zai_proxy_worker_utilization_ratio.get()).aggregator, 'average');
    m.zai_proxy_requests_total.labels('POST', '/v1/messages', '200').inc();
    assert.match(await m.registry.metrics(), /zai_proxy_requests_total\{method="POST",path="\/v1\/messages",status_code="200",variant="stable"\} 1/);
  });
});
