import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import type { MetricName } from '../../src/metrics/catalogue.js';
import type { QuotaView } from '../../src/quota/index.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { metricValue } from '../support/metric-values.js';

/**
 * The quota poller seen from outside a live proxy: what /quota, /health and /metrics say for a
 * healthy endpoint, usage rising with real chat traffic through the same proxy, a malformed
 * body, a 500, a refused connection (stale after the bound) and recovery. Waits are on poll
 * counters, never on fixed sleeps.
 */

const KEY = 'e2e-quota-operator-key-7d3a9c1f5b2e4d6a';
/** Text the provider puts in its own answers: it must never be echoed by the proxy. */
const PROVIDER_TEXT = 'account-marker-91c4 suspended for review';
const HOUR = 3_600_000;
const VARIANT = 'stable';

interface Outputs {
  texts: string[];
}

async function getJson(url: string, outputs: Outputs): Promise<{ status: number; body: unknown }> {
  const res = await request(url);
  const text = await res.body.text();
  outputs.texts.push(text);
  return { status: res.statusCode, body: JSON.parse(text) as unknown };
}

async function quotaView(proxy: TestProxy, outputs: Outputs): Promise<QuotaView> {
  const { status, body } = await getJson(`${proxy.url}/quota`, outputs);
  assert.equal(status, 200);
  return body as QuotaView;
}

async function healthQuota(proxy: TestProxy, outputs: Outputs): Promise<QuotaView> {
  const { status, body } = await getJson(`${proxy.url}/health`, outputs);
  assert.equal(status, 200);
  return (body as { quota: QuotaView }).quota;
}

/** Bounded wait until the poll counter for `result` reaches `atLeast`; returns its value. */
async function waitForPolls(proxy: TestProxy, result: string, atLeast: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await metricValue(proxy.metrics, 'zai_proxy_quota_poll_total', { result });
    if (n >= atLeast) return n;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${atLeast} '${result}' polls (have ${n})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const polls = (proxy: TestProxy, result: string) => metricValue(proxy.metrics, 'zai_proxy_quota_poll_total', { result });

/** Every quota-family sample line of the exposition, with its value. */
function quotaLines(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('zai_proxy_quota_'));
}

function assertCleanMetrics(text: string): void {
  for (const line of quotaLines(text)) {
    assert.doesNotMatch(line, /\b(NaN|[+-]?Inf)\b/, `no NaN/Inf: ${line}`);
    const labels = /\{([^}]*)\}/.exec(line)?.[1] ?? '';
    for (const [, value] of labels.matchAll(/="([^"]*)"/g)) assert.match(value!, /^[a-z0-9_-]{1,32}$/, `label value sanitized: ${line}`);
  }
}

const gauge = (proxy: TestProxy, name: MetricName) => metricValue(proxy.metrics, name, { window: 'five_hour', limit_type: 'credit_limit' });

describe('quota poller through a live proxy', () => {
  let sim: Simulator;
  let proxy: TestProxy;
  const resetAt = Math.floor((Date.now() + 2 * HOUR) / 1000) * 1000 + 123; // the provider sends milliseconds
  const outputs: Outputs = { texts: [] };

  before(async () => {
    sim = await startSimulator({ scenario: { requiredKey: KEY, quotaWindow: { budgetTokens: 10_000, usedTokens: 2_500, resetAt, level: 'pro' } } });
    proxy = await startProxyFor(sim, {
      ZAI_API_KEY: KEY,
      DEPLOYMENT_VARIANT: VARIANT,
      QUOTA_POLL_ENABLED: 'true',
      QUOTA_POLL_INTERVAL: '100ms',
      QUOTA_POLL_TIMEOUT: '2s',
      // long enough that the failure phases below are judged before the sample ages out
      QUOTA_STALE_AFTER: '10m',
      RATE_LIMIT_ENABLED: 'false',
    });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  it('healthy: plan level, window used fraction and reset, sample age and last poll on /quota, /health and /metrics', async () => {
    await waitForPolls(proxy, 'success', 1);
    const view = await quotaView(proxy, outputs);
    assert.equal(view.enabled, true);
    assert.equal(view.level, 'pro');
    assert.equal(view.stale, false);
    assert.equal(view.lastPoll?.result, 'success');
    assert.ok(Math.abs(Date.parse(view.lastPoll!.at) - Date.now()) < 60_000, `lastPoll.at is a current ISO time: ${view.lastPoll!.at}`);
    assert.ok(view.sampleAgeSeconds !== undefined && view.sampleAgeSeconds >= 0 && view.sampleAgeSeconds < 60, `sample age ${view.sampleAgeSeconds}`);
    assert.equal(view.windows.length, 1);
    const w = view.windows[0]!;
    assert.deepEqual(
      { window: w.window, limitType: w.limitType, usedRatio: w.usedRatio, remainingRatio: w.remainingRatio, resetAt: w.resetAt },
      {
        window: 'five_hour',
        limitType: 'credit_limit',
        usedRatio: 0.25,
        remainingRatio: 0.75,
        resetAt: new Date(resetAt - 123).toISOString().replace('.000Z', 'Z'),
      },
    );
    const expectIn = (resetAt - Date.now()) / 1000;
    assert.ok(Math.abs(w.resetInSeconds! - expectIn) <= 2, `resetInSeconds ${w.resetInSeconds} vs ${expectIn}`);

    // /health carries the same view (the age and countdown may tick between the two reads)
    const health = await healthQuota(proxy, outputs);
    const steady = (v: QuotaView) => ({
      ...v,
      sampleAgeSeconds: undefined,
      lastPoll: undefined,
      windows: v.windows.map((x) => ({ ...x, resetInSeconds: undefined })),
    });
    assert.deepEqual(steady(health), steady(view));

    assert.equal(await gauge(proxy, 'zai_proxy_quota_usage_ratio'), 0.25);
    assert.equal(await gauge(proxy, 'zai_proxy_quota_remaining_ratio'), 0.75);
    assert.equal(await gauge(proxy, 'zai_proxy_quota_reset_time_seconds'), Math.floor(resetAt / 1000));
    const text = await proxy.metricsText();
    outputs.texts.push(text);
    assert.match(text, new RegExp(`^zai_proxy_quota_usage_ratio\\{window="five_hour",limit_type="credit_limit",variant="${VARIANT}"\\} 0\\.25$`, 'm'));
    assert.match(text, /^zai_proxy_quota_sample_age_seconds\{variant="stable"\} \d+(\.\d+)?$/m);
    for (const result of ['success', 'error', 'malformed', 'stale'])
      assert.match(text, new RegExp(`^zai_proxy_quota_poll_total\\{result="${result}",variant="stable"\\} \\d+$`, 'm'));
    assertCleanMetrics(text);
  });

  it('usage rising: chat traffic through the proxy shows up in the next samples as the exact used fraction', async () => {
    let tokens = 0;
    for (let i = 0; i < 12; i++) {
      const res = await request(`${proxy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: `question ${i} `.repeat(20) }] }),
      });
      const body = (await res.body.json()) as { usage: { total_tokens: number } };
      assert.equal(res.statusCode, 200);
      tokens += body.usage.total_tokens;
    }
    assert.ok(tokens > 500, `traffic consumed ${tokens} tokens`);
    // two more successful polls: the second certainly started after the last request ended
    const before = await polls(proxy, 'success');
    await waitForPolls(proxy, 'success', before + 2);
    const used = (2_500 + tokens) / 10_000;
    const view = await quotaView(proxy, outputs);
    assert.equal(view.windows[0]!.usedRatio, used);
    assert.equal(view.windows[0]!.remainingRatio, 1 - used);
    assert.equal(view.lastPoll?.result, 'success');
    assert.equal(await gauge(proxy, 'zai_proxy_quota_usage_ratio'), used);
    assert.equal(await gauge(proxy, 'zai_proxy_quota_remaining_ratio'), 1 - used);
  });

  it('malformed body and 500: the last good sample stays, fresh, and the outcome is counted', async () => {
    const last = (await quotaView(proxy, outputs)).windows;
    const before = { malformed: await polls(proxy, 'malformed'), error: await polls(proxy, 'error') };

    sim.setScenario({
      quotaResponse: { status: 200, body: JSON.stringify({ code: 200, msg: PROVIDER_TEXT, success: true, data: { level: 'pro', limits: 'not-a-list' } }) },
    });
    await waitForPolls(proxy, 'malformed', before.malformed + 1);
    let view = await quotaView(proxy, outputs);
    assert.equal(view.lastPoll?.result, 'malformed');
    assert.equal(view.stale, false);
    assert.deepEqual(
      view.windows.map((w) => w.usedRatio),
      last.map((w) => w.usedRatio),
    );

    sim.setScenario({ quotaResponse: { status: 500, body: JSON.stringify({ code: 500, msg: PROVIDER_TEXT, success: false }) } });
    await waitForPolls(proxy, 'error', before.error + 1);
    view = await quotaView(proxy, outputs);
    assert.equal(view.lastPoll?.result, 'error');
    assert.equal(view.stale, false);
    assert.equal(view.level, 'pro');
    assert.deepEqual(
      view.windows.map((w) => w.usedRatio),
      last.map((w) => w.usedRatio),
    );
    const health = await healthQuota(proxy, outputs);
    assert.equal(health.lastPoll?.result, 'error');

    // the provider's own error envelope on a 200 is an error too, and its msg is not repeated
    sim.setScenario({ quotaResponse: { status: 200, body: JSON.stringify({ code: 1001, msg: PROVIDER_TEXT, success: false }) } });
    await waitForPolls(proxy, 'error', (await polls(proxy, 'error')) + 1);

    // recovery
    sim.setScenario({ quotaResponse: {}, quotaWindow: { budgetTokens: 10_000, usedTokens: 9_000, resetAt, level: 'pro' } });
    const ok = await polls(proxy, 'success');
    await waitForPolls(proxy, 'success', ok + 1);
    view = await quotaView(proxy, outputs);
    assert.equal(view.lastPoll?.result, 'success');
    assert.equal(view.windows[0]!.usedRatio, 0.9);
    assert.equal(await gauge(proxy, 'zai_proxy_quota_usage_ratio'), 0.9);
    const text = await proxy.metricsText();
    outputs.texts.push(text);
    assertCleanMetrics(text);
  });

  it('nothing the run produced carries the key or the provider text', async () => {
    outputs.texts.push(await proxy.metricsText(), proxy.logs());
    assert.ok(proxy.logs().includes('quota poll failed'), 'the failures were logged (in our words)');
    for (const text of outputs.texts) {
      assert.ok(!text.includes(KEY), 'the key never appears');
      assert.ok(!text.includes(PROVIDER_TEXT), 'the provider message never appears');
      assert.ok(!text.includes('Operation successful'), 'the provider success message is not echoed either');
    }
  });
});

describe('quota poller: refused connection goes stale after the bound, then recovers', () => {
  it('keeps the last sample, counts errors then stale, and recovers when the endpoint returns', async (t) => {
    const resetAt = Date.now() + 3 * HOUR;
    const scenario = { requiredKey: KEY, quotaWindow: { budgetTokens: 1_000, usedTokens: 400, resetAt, level: 'lite' } };
    let quotaSim = await startSimulator({ scenario });
    const port = Number(new URL(quotaSim.quotaBaseUrl).port);
    const upstream = await startSimulator();
    t.after(() => upstream.close());
    const proxy = await startProxyFor(upstream, {
      ZAI_QUOTA_BASE_URL: quotaSim.quotaBaseUrl,
      ZAI_API_KEY: KEY,
      QUOTA_POLL_ENABLED: 'true',
      QUOTA_POLL_INTERVAL: '100ms',
      QUOTA_POLL_TIMEOUT: '1s',
      QUOTA_STALE_AFTER: '2s',
      RATE_LIMIT_ENABLED: 'false',
    });
    t.after(() => proxy.close());
    t.after(() => quotaSim.close());
    const outputs: Outputs = { texts: [] };

    await waitForPolls(proxy, 'success', 1);
    const good = await quotaView(proxy, outputs);
    assert.equal(good.level, 'lite');
    assert.equal(good.windows[0]!.usedRatio, 0.4);

    await quotaSim.close(); // connection refused from now on
    const closedAt = Date.now();
    await waitForPolls(proxy, 'error', 1);
    await waitForPolls(proxy, 'stale', 1);
    const stale = await quotaView(proxy, outputs);
    assert.equal(stale.stale, true);
    assert.equal(stale.lastPoll?.result, 'stale');
    assert.ok(stale.sampleAgeSeconds! > 2, `age ${stale.sampleAgeSeconds} is past the 2 s bound`);
    assert.ok(stale.sampleAgeSeconds! <= (Date.now() - closedAt) / 1000 + 1, 'age counts from the last good sample');
    assert.deepEqual(
      stale.windows,
      good.windows.map((w) => ({ ...w, resetInSeconds: stale.windows[0]!.resetInSeconds })),
      'the last good sample is kept',
    );
    assert.equal((await healthQuota(proxy, outputs)).stale, true);
    assert.ok((await metricValue(proxy.metrics, 'zai_proxy_quota_sample_age_seconds')) > 2);
    assert.equal(await metricValue(proxy.metrics, 'zai_proxy_quota_usage_ratio', { window: 'five_hour' }), 0.4, 'the gauges keep the last good sample');
    assert.match(proxy.logs(), /"reason":"ECONNREFUSED"/);
    assert.match(proxy.logs(), /quota sample is stale/);

    // the endpoint comes back on the same address with more usage
    quotaSim = await startSimulator({ port, scenario: { ...scenario, quotaWindow: { ...scenario.quotaWindow, usedTokens: 700 } } });
    const ok = await polls(proxy, 'success');
    await waitForPolls(proxy, 'success', ok + 1);
    const back = await quotaView(proxy, outputs);
    assert.equal(back.stale, false);
    assert.equal(back.lastPoll?.result, 'success');
    assert.equal(back.windows[0]!.usedRatio, 0.7);
    assert.ok(back.sampleAgeSeconds! < 2);
    assert.match(proxy.logs(), /quota sample fresh again/);
    const text = await proxy.metricsText();
    assertCleanMetrics(text);
    for (const out of [...outputs.texts, text, proxy.logs()]) assert.ok(!out.includes(KEY));
  });
});
