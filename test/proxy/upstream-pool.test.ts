import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { upstreamPoolSize } from '../../src/proxy/upstream-pools.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';

const STREAM_BODY = JSON.stringify({ model: 'glm-4.7', stream: true, messages: [{ role: 'user', content: 'hi' }] });

/**
 * Admission is the only queue: every request it admits reaches the upstream at once, even
 * when UPSTREAM_CONNECTIONS is smaller than MAX_WORKERS. Streams are held open by the
 * simulator's chunk gate, so "admitted but not yet upstream" is a count, not a timing guess.
 */
describe('upstream pool follows the admission limit', () => {
  let sim: Simulator;
  let proxy: TestProxy;
  const ADMITTED = 6;

  before(async () => {
    sim = await startSimulator();
    proxy = await startProxyFor(sim, {
      MAX_WORKERS: String(ADMITTED),
      UPSTREAM_CONNECTIONS: '2',
      RATE_LIMIT_INITIAL: '1000',
      RATE_LIMIT_MAX: '1000',
    });
  });
  after(async () => {
    sim.setScenario({ gateChunks: false });
    await proxy.close();
    await sim.close();
  });

  it('sends every admitted stream upstream without waiting for a pooled connection', async () => {
    sim.setScenario({ gateChunks: true, streamChunks: 1 });
    const pending = Array.from({ length: ADMITTED }, () =>
      request(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: STREAM_BODY }),
    );
    // With a 2-connection pool only 2 of the 6 admitted streams would reach the simulator.
    const stats = await sim.waitFor((s) => s.inFlight === ADMITTED, 10_000).catch(() => sim.stats());
    assert.equal(stats.inFlight, ADMITTED, 'every admitted stream is in flight upstream');
    assert.equal(proxy.admission?.snapshot().queueDepth, 0);
    sim.setScenario({ gateChunks: false });
    for (const res of await Promise.all(pending)) {
      assert.equal(res.statusCode, 200);
      await res.body.text();
    }
  });

  it('sizes the pool at least at MAX_WORKERS with the limiter on, at UPSTREAM_CONNECTIONS with it off', () => {
    assert.equal(upstreamPoolSize({ RATE_LIMIT_ENABLED: true, MAX_WORKERS: 256, UPSTREAM_CONNECTIONS: 128 }), 256);
    assert.equal(upstreamPoolSize({ RATE_LIMIT_ENABLED: true, MAX_WORKERS: 10, UPSTREAM_CONNECTIONS: 128 }), 128);
    assert.equal(upstreamPoolSize({ RATE_LIMIT_ENABLED: false, MAX_WORKERS: 256, UPSTREAM_CONNECTIONS: 64 }), 64);
  });
});
