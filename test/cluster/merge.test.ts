import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '../../src/metrics/catalogue.js';
import { MetricsMerger } from '../../src/cluster/metrics-host.js';
import { combineHealth, type WorkerHealth } from '../../src/cluster/health.js';
import { Channel } from '../../src/cluster/channel.js';
import { sampleSum } from './support.js';

async function workerReport(requests: number, inFlight: number, rate: number) {
  const m = createMetrics('production', { processMetrics: false });
  for (let i = 0; i < requests; i++) {
    m.zai_proxy_requests_total.inc({ method: 'POST', path: '/v1/chat/completions', status_code: '200' });
    m.zai_proxy_request_duration_seconds.observe({ method: 'POST', path: '/v1/chat/completions', status_code: '200' }, 0.2);
  }
  m.zai_proxy_concurrent_requests.set(inFlight);
  m.zai_proxy_rate_limit_requests_per_second.set(rate);
  m.zai_proxy_build_info.labels('1', 'c', 't').set(1);
  return m.registry.getMetricsAsJSON();
}

const route = { path: '/v1/chat/completions', status_code: '200' };

describe('MetricsMerger', () => {
  it('sums counters and histogram buckets, sums in-flight, keeps the shared rate and build info once', async () => {
    const merger = new MetricsMerger();
    merger.report(1, await workerReport(3, 2, 10));
    merger.report(2, await workerReport(4, 1, 10));
    const { text } = await merger.text([]);
    assert.equal(sampleSum(text, 'zai_proxy_requests_total', route), 7);
    assert.equal(sampleSum(text, 'zai_proxy_request_duration_seconds_bucket', { ...route, le: '0.25' }), 7);
    assert.equal(sampleSum(text, 'zai_proxy_request_duration_seconds_bucket', { ...route, le: '0.1' }), 0);
    assert.equal(sampleSum(text, 'zai_proxy_request_duration_seconds_count', route), 7);
    assert.equal(sampleSum(text, 'zai_proxy_concurrent_requests'), 3);
    assert.equal(sampleSum(text, 'zai_proxy_rate_limit_requests_per_second'), 10);
    assert.equal(sampleSum(text, 'zai_proxy_build_info'), 1);
  });

  it("keeps an exited worker's counters in the sums (no counter reset), drops its gauges", async () => {
    const merger = new MetricsMerger();
    merger.report(1, await workerReport(3, 2, 10));
    merger.report(2, await workerReport(4, 1, 10));
    merger.retire(1);
    merger.report(3, await workerReport(0, 0, 10)); // its replacement starts at zero
    const { text } = await merger.text([]);
    assert.equal(sampleSum(text, 'zai_proxy_requests_total', route), 7);
    assert.equal(sampleSum(text, 'zai_proxy_request_duration_seconds_count', route), 7);
    assert.equal(sampleSum(text, 'zai_proxy_concurrent_requests'), 1);
  });
});

describe('combineHealth', () => {
  const worker = (slot: number, over: Partial<WorkerHealth> = {}): WorkerHealth => ({
    status: 'ok',
    draining: false,
    inFlight: 1,
    heldBodyBytes: 10,
    uptimeSeconds: 5,
    limiter: { inFlight: 1, queueDepth: 2, oldestWaitMs: 100 * (slot + 1), concurrencyLimit: 10 },
    bookkeepingFailures: { metrics: slot },
    worker: { slot, pid: 100 + slot, requests: 3 },
    ...over,
  });

  it('adds loads up and takes the longest wait', () => {
    const h = combineHealth(
      2,
      [
        { slot: 0, health: worker(0) },
        { slot: 1, health: worker(1) },
      ],
      9,
    ) as Record<string, any>;
    assert.equal(h.status, 'ok');
    assert.equal(h.inFlight, 2);
    assert.equal(h.heldBodyBytes, 20);
    assert.deepEqual([h.limiter.inFlight, h.limiter.queueDepth, h.limiter.oldestWaitMs, h.limiter.concurrencyLimit], [2, 4, 200, 20]);
    assert.deepEqual(h.bookkeepingFailures, { metrics: 1 });
    assert.equal(h.workers.answering, 2);
    assert.equal(h.worker, undefined);
  });

  it('is degraded when a worker does not answer, and names it', () => {
    const h = combineHealth(
      2,
      [
        { slot: 0, health: worker(0) },
        { slot: 1, health: undefined },
      ],
      9,
    ) as Record<string, any>;
    assert.equal(h.status, 'degraded');
    assert.match(h.degraded.reason, /1 of 2 worker processes did not answer \(slot 1\)/);
    assert.deepEqual(h.workers.list[1], { slot: 1, status: 'unanswered' });
  });
});

describe('Channel', () => {
  // The channel's deadlines do not hold a process open (the IPC link does): this test's timer does.
  let keep: NodeJS.Timeout;
  before(() => (keep = setInterval(() => undefined, 1000)));
  after(() => clearInterval(keep));
  it('answers calls in both directions and counts one that gets no answer, without hanging', async () => {
    const failures: string[] = [];
    let b: Channel;
    const a = new Channel((m, done) =>
      setImmediate(() => {
        b.receive(m);
        done(null);
      }),
    );
    b = new Channel(
      (m, done) =>
        setImmediate(() => {
          a.receive(m);
          done(null);
        }),
      { takeToken: (body) => (body as number) * 2 },
    );
    a.onFailure = (op) => failures.push(op);
    assert.equal(await a.call('takeToken', 21, 1000), 42);
    await assert.rejects(a.call('metrics', undefined, 50), /no answer in 50 ms/);
    assert.deepEqual(failures, ['metrics']);
  });

  it('fails a call at once when the link is gone', async () => {
    const failures: string[] = [];
    const a = new Channel((_m, done) => done(new Error('channel closed')));
    a.onFailure = (op) => failures.push(op);
    await assert.rejects(a.call('takeToken', 1, 10_000), /channel closed/);
    assert.deepEqual(failures, ['takeToken']);
  });
});
