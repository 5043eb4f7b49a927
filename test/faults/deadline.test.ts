import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startSimulator, type Simulator, type SimFault } from '../../src/sim/index.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { metricValue } from '../support/metric-values.js';
import { pollUntil } from '../support/wait.js';

/**
 * REQUEST_TIMEOUT is one deadline for the whole request: attempts and backoff fit inside it,
 * so a stalling upstream costs the client the deadline, not (1 + MAX_RETRIES) per-attempt
 * timeouts. Per-attempt timeouts here are 2 s with 3 retries, so without the total deadline
 * a client would wait at least 8 s; with REQUEST_TIMEOUT=1s it hears 504 after about 1 s.
 */
const DEADLINE_MS = 1000;
const WITHOUT_DEADLINE_MS = 8000;

describe('total request deadline', () => {
  let sim: Simulator;
  let proxy: TestProxy;

  before(async () => {
    sim = await startSimulator();
    proxy = await startProxyFor(sim, {
      RATE_LIMIT_ENABLED: 'false',
      MAX_RETRIES: '3',
      RETRY_BASE_DELAY: '10ms',
      UPSTREAM_HEADERS_TIMEOUT: '2s',
      UPSTREAM_BODY_TIMEOUT: '2s',
      REQUEST_TIMEOUT: `${DEADLINE_MS}ms`,
    });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  const send = (dialect: 'openai' | 'anthropic', stream: boolean) =>
    request(`${proxy.url}${dialect === 'openai' ? '/v1/chat/completions' : '/v1/messages'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'glm-4.7', max_tokens: 32, stream, messages: [{ role: 'user', content: 'hi' }] }),
    });

  const stalls: [string, SimFault][] = [
    ['headers then silence', { kind: 'headersThenSilence', times: -1 }],
    ['no headers at all', { kind: 'slowFirstByte', delayMs: 60_000, times: -1 }],
  ];
  for (const [name, fault] of stalls) {
    for (const dialect of ['openai', 'anthropic'] as const) {
      for (const stream of [false, true]) {
        it(`${name} (${dialect}, ${stream ? 'streaming' : 'not streaming'}): 504 in the API's shape at the deadline`, async () => {
          sim.resetStats();
          sim.setScenario({ faults: [fault] });
          const timeouts = await metricValue(proxy.metrics, 'zai_proxy_upstream_errors_total', { error_type: 'timeout' });
          const t0 = performance.now();
          const res = await send(dialect, stream);
          const body = (await res.body.json()) as { type?: string; error: { type: string; message: string } };
          const elapsed = performance.now() - t0;
          sim.setScenario({ faults: [] });
          assert.equal(res.statusCode, 504);
          assert.equal(body.error.type, 'timeout_error');
          if (dialect === 'anthropic') assert.equal(body.type, 'error');
          assert.match(body.error.message, /REQUEST_TIMEOUT/);
          assert.ok(elapsed >= DEADLINE_MS - 50, `answered after ${elapsed.toFixed(0)} ms`);
          assert.ok(elapsed < WITHOUT_DEADLINE_MS / 2, `answered after ${elapsed.toFixed(0)} ms, well inside one retry chain`);
          assert.equal(await metricValue(proxy.metrics, 'zai_proxy_upstream_errors_total', { error_type: 'timeout' }), timeouts + 1);
          // The stalled upstream call was abandoned, not left hanging.
          await pollUntil(() => sim.stats().inFlight === 0, 'simulator calls closed');
        });
      }
    }
  }

  it('a stream that keeps flowing is not cut by the deadline, however long it runs', async () => {
    sim.setScenario({ faults: [], streamChunks: 8, chunkIntervalMs: 250 });
    try {
      const t0 = performance.now();
      const res = await send('openai', true);
      const text = await res.body.text();
      assert.ok(performance.now() - t0 > DEADLINE_MS * 1.5);
      assert.ok(text.includes('data: [DONE]'));
    } finally {
      sim.setScenario({ streamChunks: 5, chunkIntervalMs: 0 });
    }
  });
});
