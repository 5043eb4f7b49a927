import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { KeyRing } from '../../src/proxy/keys.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { pollUntil } from '../support/wait.js';
import { metricValue } from '../support/metric-values.js';

describe('KeyRing', () => {
  it('matches configured keys only, whatever the lengths', () => {
    const ring = new KeyRing(['alpha-key-1', 'beta']);
    assert.equal(ring.size, 2);
    for (const k of ['alpha-key-1', 'beta']) assert.ok(ring.has(k));
    for (const k of ['', 'alpha', 'alpha-key-10', 'bet', 'BETA', 'x'.repeat(10_000)]) assert.ok(!ring.has(k), k);
    assert.ok(!new KeyRing([]).has(''));
  });
});

describe('MAX_WORKERS with the rate limiter off', () => {
  let sim: Simulator;
  let proxy: TestProxy;
  before(async () => {
    sim = await startSimulator({ scenario: { gateChunks: true, streamChunks: 2 } });
    proxy = await startProxyFor(sim, { RATE_LIMIT_ENABLED: 'false', MAX_WORKERS: '2', QUEUE_MAX: '2' });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  it('holds at most MAX_WORKERS upstream, queues QUEUE_MAX, refuses the rest with 429 and Retry-After', async () => {
    const send = () =>
      request(`${proxy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'glm-4.7', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
    const pending = Array.from({ length: 6 }, send);
    await sim.waitFor((s) => s.inFlight === 2);
    await pollUntil(() => proxy.admission!.snapshot().queueDepth === 2, 'two queued');
    await pollUntil(async () => (await metricValue(proxy.metrics, 'zai_proxy_requests_total', { status_code: '429' })) === 2, 'two refused');
    sim.releaseChunk(100);
    const answers = await Promise.all(
      pending.map(async (p) => {
        const r = await p;
        await r.body.text();
        return { status: r.statusCode, retryAfter: r.headers['retry-after'] };
      }),
    );
    sim.setScenario({ gateChunks: false });
    assert.equal(answers.filter((a) => a.status === 200).length, 4);
    const refused = answers.filter((a) => a.status === 429);
    assert.equal(refused.length, 2);
    for (const r of refused) assert.ok(Number(r.retryAfter) >= 1);
    assert.equal(sim.stats().maxInFlight, 2);
    const health = (await (await request(`${proxy.url}/health`)).body.json()) as { limiter: unknown };
    assert.deepEqual(health.limiter, { enabled: false, maxWorkers: 2, inFlight: 0, queueDepth: 0 });
  });
});
