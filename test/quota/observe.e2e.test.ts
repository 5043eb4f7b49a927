import { it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import type { QuotaView } from '../../src/quota/index.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { metricValue } from '../support/metric-values.js';

/**
 * Observe-only (QUOTA_POLL_ENABLED on, QUOTA_PACING off) must change nothing about admission.
 * Two proxies, each in front of its own identical simulator, take the same traffic into a
 * window that runs out; one polls the quota, the other does not. Their admission state, rate
 * and client outcomes must be the same, and every request must still reach the upstream, even
 * once the polling proxy has seen the window at 100 %.
 */

const KEY = 'e2e-observe-operator-key-5a0c7e2b9d14';
const CHAT = '/api/paas/v4/chat/completions';
const BUDGET = 3_000;

const LIMITER = {
  RATE_LIMIT_INITIAL: '20',
  RATE_LIMIT_MAX: '20',
  RATE_LIMIT_MIN: '1',
  // no window closes during the test, so neither limiter adjusts on its own schedule
  RATE_LIMIT_WINDOW: '1h',
  MAX_WORKERS: '10',
};

interface Pair {
  sim: Simulator;
  proxy: TestProxy;
}

async function start(t: import('node:test').TestContext, resetAt: number, polling: boolean): Promise<Pair> {
  const sim = await startSimulator({ scenario: { requiredKey: KEY, quotaWindow: { budgetTokens: BUDGET, usedTokens: BUDGET - 400, resetAt } } });
  t.after(() => sim.close());
  const proxy = await startProxyFor(sim, {
    ZAI_API_KEY: KEY,
    ...LIMITER,
    ...(polling ? { QUOTA_POLL_ENABLED: 'true', QUOTA_POLL_INTERVAL: '100ms', QUOTA_PACING: 'off' } : {}),
  });
  t.after(() => proxy.close());
  return { sim, proxy };
}

/** `count` chat requests over `concurrency` workers; returns each status (and zai code) in order of completion. */
async function traffic(proxy: TestProxy, count: number, concurrency: number): Promise<string[]> {
  const outcomes: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const res = await request(`${proxy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'how far is the wall?' }] }),
      });
      await res.body.dump();
      outcomes.push(`${res.statusCode}${res.headers['x-zai-error-code'] ? `/${String(res.headers['x-zai-error-code'])}` : ''}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

const tally = (outcomes: string[]) => {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
  return counts;
};

async function waitFor(cond: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function quota(proxy: TestProxy): Promise<QuotaView> {
  const res = await request(`${proxy.url}/quota`);
  return (await res.body.json()) as QuotaView;
}

it('observe-only: polling a window into exhaustion leaves admission exactly as without polling, and requests still go upstream', async (t) => {
  const resetAt = Date.now() + 3_600_000;
  const polled = await start(t, resetAt, true);
  const plain = await start(t, resetAt, false);
  await waitFor(async () => (await metricValue(polled.proxy.metrics, 'zai_proxy_quota_poll_total', { result: 'success' })) >= 1, 'first poll');
  assert.ok((await quota(polled.proxy)).windows[0]!.usedRatio > 0.85, 'the polled window starts near exhaustion');

  // The same bounded traffic through both: it runs the window out part-way through.
  const [a, b] = [await traffic(polled.proxy, 40, 6), await traffic(plain.proxy, 40, 6)];
  assert.deepEqual(tally(a), tally(b));
  assert.ok((tally(a)['429/1308'] ?? 0) > 0 && (tally(a)['200'] ?? 0) > 0, `the window ran out during the traffic: ${JSON.stringify(tally(a))}`);

  // The poller has now seen the window full …
  const seen = await metricValue(polled.proxy.metrics, 'zai_proxy_quota_poll_total', { result: 'success' });
  await waitFor(async () => (await metricValue(polled.proxy.metrics, 'zai_proxy_quota_poll_total', { result: 'success' })) >= seen + 2, 'two more polls');
  const view = await quota(polled.proxy);
  assert.equal(view.windows[0]!.usedRatio, 1);
  assert.equal(await metricValue(polled.proxy.metrics, 'zai_proxy_quota_usage_ratio', { window: 'five_hour' }), 1);

  // … and still admits exactly like the proxy that knows nothing about quotas.
  const [a2, b2] = [await traffic(polled.proxy, 10, 2), await traffic(plain.proxy, 10, 2)];
  assert.deepEqual(a2, Array(10).fill('429/1308'), 'the upstream answers, not the proxy');
  assert.deepEqual(b2, a2);
  for (const { sim } of [polled, plain]) assert.equal(sim.stats().byRoute[CHAT], 50, 'every request reached the upstream');

  const snapA = polled.proxy.admission!.snapshot();
  const snapB = plain.proxy.admission!.snapshot();
  assert.deepEqual(snapA, snapB);
  assert.equal(snapA.rate, 20);
  assert.equal(snapA.blockedUntil, undefined);
  for (const { proxy } of [polled, plain]) {
    assert.equal(await metricValue(proxy.metrics, 'zai_proxy_rate_limit_requests_per_second'), 20);
    assert.equal(await metricValue(proxy.metrics, 'zai_proxy_rate_limit_rejections_total', { reason: 'quota' }), 0);
  }
  // The proxy without polling says so, and exports no quota series that could read as a sample.
  const off = await request(`${plain.proxy.url}/quota`);
  assert.equal(off.statusCode, 404);
  assert.equal(((await off.body.json()) as { enabled: boolean }).enabled, false);
  const health = await request(`${plain.proxy.url}/health`);
  assert.deepEqual(((await health.body.json()) as { quota: unknown }).quota, { enabled: false });
  const plainText = await plain.proxy.metricsText();
  assert.doesNotMatch(plainText, /^zai_proxy_quota_(usage_ratio|remaining_ratio|reset_time_seconds|sample_age_seconds)\{/m);

  for (const out of [polled.proxy.logs(), await polled.proxy.metricsText(), JSON.stringify(view)]) assert.ok(!out.includes(KEY));
});
