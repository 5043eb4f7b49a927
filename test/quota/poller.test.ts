import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { startSimulator, type SimScenario, type Simulator } from '../../src/sim/index.js';
import { createMetrics, type Metrics } from '../../src/metrics/catalogue.js';
import { createLogger } from '../../src/log/logger.js';
import { QuotaPoller, QUOTA_PATH, type QuotaPollerOptions, type QuotaView } from '../../src/quota/poller.js';
import type { QuotaSample } from '../../src/quota/parse.js';

const KEY = 'quota-test-key-5f0e2c9a7b31d4e8-not-a-credential';
/** Stands for account details a provider message may carry; it must never be echoed. */
const MARKER = 'acct:marker-7f3a9';
const T0 = 1_788_500_000_000; // 2026-09-04T05:33:20Z, before every reset in the bodies below
const MIN = 60_000;
const STALE_AFTER = 15 * MIN;

const body = (limits: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ code: 200, msg: `Operation successful ${MARKER}`, success: true, data: { level: 'pro', limits }, ...extra });

const FIVE_HOUR = { type: 'CREDIT_LIMIT', unit: 3, number: 5, usage: 2000, currentValue: 740, remaining: 1259, percentage: 37, nextResetTime: 1788541838272 };
const WEEKLY = { type: 'CREDIT_LIMIT', unit: 6, number: 1, usage: 10000, currentValue: 5207, remaining: 4792, percentage: 52, nextResetTime: 1788900000000 };
const CURRENT = body([FIVE_HOUR, WEEKLY]);

type Harness = Awaited<ReturnType<typeof harness>>;

async function harness(t: TestContext, scenario: Partial<SimScenario> = {}, over: Partial<QuotaPollerOptions> & { port?: number } = {}) {
  const fullScenario: Partial<SimScenario> = { requiredKey: KEY, ...scenario };
  let sim: Simulator = await startSimulator({ scenario: fullScenario, port: over.port });
  t.after(() => sim.close());
  const clock = { ms: T0, now: () => clock.ms };
  const metrics = createMetrics('test', { processMetrics: false });
  const captured: string[] = [];
  const log = createLogger('debug', { write: (line: string) => void captured.push(line) });
  const poller = new QuotaPoller(
    { baseUrl: `${sim.quotaBaseUrl}/`, apiKey: KEY, intervalMs: MIN, timeoutMs: 2_000, staleAfterMs: STALE_AFTER, ...over },
    metrics,
    log,
    clock,
  );
  t.after(() => poller.stop());
  const samples: QuotaSample[] = [];
  poller.onSample((s) => samples.push(s));
  let staleCalls = 0;
  poller.onStale(() => staleCalls++);

  const h = {
    get sim() {
      return sim;
    },
    clock,
    metrics,
    poller,
    samples,
    captured,
    staleCalls: () => staleCalls,
    view(): QuotaView {
      const v = poller.view();
      captured.push(JSON.stringify(v));
      return v;
    },
    /** Closes the simulator so its port refuses connections. */
    async refuse() {
      await sim.close();
    },
    /** A fresh simulator on the same port (recovery after refused connections). */
    async revive(patch: Partial<SimScenario>) {
      const port = Number(new URL(sim.url).port);
      sim = await startSimulator({ scenario: { ...fullScenario, ...patch }, port });
      t.after(() => sim.close());
    },
    /** Every log line, view and the metrics text: none may carry the key or the provider's message. */
    async assertNoSecrets() {
      const everything = [...captured, await metrics.registry.metrics()].join('\n');
      assert.ok(captured.length > 0, 'something was captured');
      assert.ok(!everything.includes(KEY), 'the key leaked');
      assert.ok(!everything.includes(KEY.slice(0, 16)), 'part of the key leaked');
      assert.ok(!everything.includes(MARKER), "the provider's message leaked");
      assert.ok(!/Operation successful|Authentication failed/.test(everything), "the provider's message leaked");
    },
  };
  return h;
}

type Labels = Record<string, string>;
async function metricValue(
  metric: Metrics['zai_proxy_quota_usage_ratio'] | Metrics['zai_proxy_quota_poll_total'] | Metrics['zai_proxy_quota_sample_age_seconds'],
  labels: Labels = {},
) {
  const { values } = await metric.get();
  const hit = values.filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Labels)[k] === want));
  assert.ok(hit.length <= 1, 'at most one series matches');
  return hit[0]?.value;
}
async function seriesOf(metric: Metrics['zai_proxy_quota_usage_ratio']) {
  return (await metric.get()).values.map((v) => `${v.labels.window}/${v.labels.limit_type}`).sort();
}
async function polls(h: Harness) {
  const out: Record<string, number | undefined> = {};
  for (const result of ['success', 'error', 'malformed', 'stale']) out[result] = await metricValue(h.metrics.zai_proxy_quota_poll_total, { result });
  return out;
}

test('healthy: the current shape becomes windows in the view and gauges, the request carries the raw key', async (t) => {
  const h = await harness(t); // the simulator's default body: the current shape (docs/zai.md)
  await h.poller.pollOnce();
  assert.deepEqual(h.view(), {
    enabled: true,
    level: 'pro',
    windows: [
      { window: 'five_hour', limitType: 'credit_limit', usedRatio: 0.37, remainingRatio: 0.63, resetAt: '2026-09-04T17:10:38Z', resetInSeconds: 41839 },
      { window: 'weekly', limitType: 'credit_limit', usedRatio: 0.5207, remainingRatio: 1 - 0.5207, resetAt: '2026-09-08T20:40:00Z', resetInSeconds: 400000 },
      { window: 'monthly', limitType: 'time_limit', usedRatio: 0.12, remainingRatio: 0.88, resetAt: '2026-09-21T14:13:20Z', resetInSeconds: 1500000 },
    ],
    sampleAgeSeconds: 0,
    stale: false,
    lastPoll: { at: '2026-09-04T05:33:20.000Z', result: 'success' },
  });
  const m = h.metrics;
  const fiveHour = { window: 'five_hour', limit_type: 'credit_limit' };
  assert.equal(await metricValue(m.zai_proxy_quota_usage_ratio, fiveHour), 0.37);
  assert.equal(await metricValue(m.zai_proxy_quota_remaining_ratio, fiveHour), 0.63);
  assert.equal(await metricValue(m.zai_proxy_quota_reset_time_seconds, fiveHour), 1788541838);
  assert.equal(await metricValue(m.zai_proxy_quota_reset_time_seconds, { window: 'weekly' }), 1788900000);
  assert.equal(await metricValue(m.zai_proxy_quota_usage_ratio, { window: 'monthly', limit_type: 'time_limit' }), 0.12);
  assert.equal(await metricValue(m.zai_proxy_quota_sample_age_seconds), 0);
  assert.deepEqual(await polls(h), { success: 1, error: 0, malformed: 0, stale: 0 });
  // every series carries the variant
  assert.match(await m.registry.metrics(), /zai_proxy_quota_usage_ratio\{window="five_hour",limit_type="credit_limit",variant="test"\} 0\.37/);

  const stats = h.sim.stats();
  assert.equal(stats.byRoute[QUOTA_PATH], 1);
  assert.equal(stats.lastAuth[QUOTA_PATH]?.authorization, KEY, 'raw key, no Bearer prefix');
  assert.equal(h.samples.length, 1);
  await h.assertNoSecrets();
});

test('usage rising between polls: real traffic to the simulator moves the five-hour gauge', async (t) => {
  const resetAt = T0 + 3 * 3_600_000;
  const h = await harness(t, { quotaWindow: { budgetTokens: 10_000, usedTokens: 1_000, resetAt } });
  await h.poller.pollOnce();
  const fiveHour = { window: 'five_hour', limit_type: 'credit_limit' };
  assert.equal(await metricValue(h.metrics.zai_proxy_quota_usage_ratio, fiveHour), 0.1);
  for (let i = 0; i < 3; i++) {
    const res = await request(`${h.sim.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'x'.repeat(400) }] }),
    });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
  }
  const used = h.sim.scenario().quotaWindow!.usedTokens!;
  assert.ok(used > 1_000);
  h.clock.ms += MIN;
  await h.poller.pollOnce();
  assert.equal(await metricValue(h.metrics.zai_proxy_quota_usage_ratio, fiveHour), used / 10_000);
  assert.equal(await metricValue(h.metrics.zai_proxy_quota_remaining_ratio, fiveHour), 1 - used / 10_000);
  assert.equal(await metricValue(h.metrics.zai_proxy_quota_reset_time_seconds, fiveHour), resetAt / 1000);
  assert.deepEqual(
    h.samples.map((s) => s.limits[0]!.usedRatio),
    [0.1, used / 10_000],
  );
  assert.deepEqual(
    h.samples.map((s) => s.fetchedAtMs),
    [T0, T0 + MIN],
  );
  const v = h.view();
  assert.equal(v.windows[0]!.resetInSeconds, 3 * 3600 - 60);
  assert.deepEqual(await polls(h), { success: 2, error: 0, malformed: 0, stale: 0 });
  await h.assertNoSecrets();
});

test('legacy shape: percentages only, no reset series; windows that vanished lose their series', async (t) => {
  const h = await harness(t);
  await h.poller.pollOnce();
  assert.deepEqual(await seriesOf(h.metrics.zai_proxy_quota_usage_ratio), ['five_hour/credit_limit', 'monthly/time_limit', 'weekly/credit_limit']);
  h.sim.setScenario({ quotaResponse: { legacy: true } });
  h.clock.ms += MIN;
  await h.poller.pollOnce();
  const v = h.view();
  assert.deepEqual(v.windows, [
    { window: 'five_hour', limitType: 'tokens_limit', usedRatio: 0.37, remainingRatio: 0.63 },
    { window: 'weekly', limitType: 'tokens_limit', usedRatio: 0.52, remainingRatio: 0.48 },
  ]);
  for (const metric of [h.metrics.zai_proxy_quota_usage_ratio, h.metrics.zai_proxy_quota_remaining_ratio]) {
    assert.deepEqual(await seriesOf(metric), ['five_hour/tokens_limit', 'weekly/tokens_limit']);
  }
  assert.deepEqual((await h.metrics.zai_proxy_quota_reset_time_seconds.get()).values, []);
  assert.deepEqual(await polls(h), { success: 2, error: 0, malformed: 0, stale: 0 });
  await h.assertNoSecrets();
});

test('only unknown types: a good sample with no windows, and the old series go away', async (t) => {
  const h = await harness(t, { quotaResponse: { body: CURRENT } });
  await h.poller.pollOnce();
  assert.equal((await seriesOf(h.metrics.zai_proxy_quota_usage_ratio)).length, 2);
  h.sim.setScenario({
    quotaResponse: {
      body: body([
        { type: 'PROMO_LIMIT', unit: 42, number: 1, percentage: 50 },
        { type: 'SOME_FUTURE_LIMIT', unit: 9, usage: 5, currentValue: 1 },
      ]),
    },
  });
  h.clock.ms += MIN;
  await h.poller.pollOnce();
  const v = h.view();
  assert.deepEqual(v.windows, []);
  assert.equal(v.stale, false);
  assert.equal(v.lastPoll?.result, 'success');
  for (const metric of [h.metrics.zai_proxy_quota_usage_ratio, h.metrics.zai_proxy_quota_remaining_ratio, h.metrics.zai_proxy_quota_reset_time_seconds]) {
    assert.deepEqual((await metric.get()).values, []);
  }
  assert.equal(await metricValue(h.metrics.zai_proxy_quota_sample_age_seconds), 0);
  assert.deepEqual(await polls(h), { success: 2, error: 0, malformed: 0, stale: 0 });
});

test('malformed body and HTTP 500 keep the last good sample while it is fresh; past the bound polls count as stale; recovery', async (t) => {
  const h = await harness(t, { quotaResponse: { body: CURRENT } });
  await h.poller.pollOnce();
  const fiveHour = { window: 'five_hour', limit_type: 'credit_limit' };

  h.sim.setScenario({ quotaResponse: { body: '{"code":200,"success":true,"data":{"limits":[{"type":"CRED' } });
  h.clock.ms += MIN;
  await h.poller.pollOnce();
  let v = h.view();
  assert.deepEqual([v.stale, v.lastPoll?.result, v.sampleAgeSeconds, v.windows.length], [false, 'malformed', 60, 2]);
  assert.equal(await metricValue(h.metrics.zai_proxy_quota_usage_ratio, fiveHour), 0.37);

  h.sim.setScenario({ quotaResponse: { status: 500, body: JSON.stringify({ code: 500, msg: `boom ${MARKER}`, success: false }) } });
  h.clock.ms = T0 + STALE_AFTER; // exactly at the bound: still fresh
  await h.poller.pollOnce();
  v = h.view();
  assert.deepEqual([v.stale, v.lastPoll?.result, v.sampleAgeSeconds], [false, 'error', 900]);
  assert.equal(h.staleCalls(), 0);

  h.clock.ms = T0 + STALE_AFTER + 1_000;
  await h.poller.pollOnce();
  v = h.view();
  assert.deepEqual([v.stale, v.lastPoll?.result, v.sampleAgeSeconds, v.windows.length], [true, 'stale', 901, 2]);
  assert.equal(await metricValue(h.metrics.zai_proxy_quota_sample_age_seconds), 901);
  assert.equal(await metricValue(h.metrics.zai_proxy_quota_usage_ratio, fiveHour), 0.37, 'a stale sample stays exported');
  h.clock.ms += MIN;
  await h.poller.pollOnce();
  assert.equal(h.staleCalls(), 1, 'announced once per outage');
  assert.deepEqual(await polls(h), { success: 1, error: 1, malformed: 1, stale: 2 });

  // a 200 carrying the provider's error envelope is an error too, never a sample
  h.sim.setScenario({ quotaResponse: { body: JSON.stringify({ code: 401, msg: `token expired ${MARKER}`, success: false, data: null }) } });
  h.clock.ms += MIN;
  await h.poller.pollOnce();
  assert.equal(h.view().lastPoll?.result, 'stale');

  h.sim.setScenario({ quotaResponse: { body: body([{ ...FIVE_HOUR, currentValue: 1000, percentage: 50 }]) } });
  h.clock.ms += MIN;
  await h.poller.pollOnce();
  v = h.view();
  assert.deepEqual([v.stale, v.lastPoll?.result, v.sampleAgeSeconds], [false, 'success', 0]);
  assert.deepEqual(
    v.windows.map((w) => [w.window, w.usedRatio]),
    [['five_hour', 0.5]],
  );
  assert.deepEqual(await seriesOf(h.metrics.zai_proxy_quota_usage_ratio), ['five_hour/credit_limit']);
  assert.deepEqual(await polls(h), { success: 2, error: 1, malformed: 1, stale: 3 });
  assert.equal(h.samples.length, 2);
  await h.assertNoSecrets();
});

test('refused connection: error while fresh, stale after the bound, recovery when the endpoint is back', async (t) => {
  const h = await harness(t, { quotaResponse: { body: CURRENT } });
  await h.poller.pollOnce();
  await h.refuse();
  h.clock.ms += 5 * MIN;
  await h.poller.pollOnce();
  let v = h.view();
  // (the pooled connection sees the close first, a new one is refused)
  assert.deepEqual([v.stale, v.lastPoll?.result, v.sampleAgeSeconds], [false, 'error', 300]);

  h.clock.ms = T0 + STALE_AFTER + 1;
  await h.poller.pollOnce();
  v = h.view();
  assert.deepEqual([v.stale, v.lastPoll?.result, v.windows.length], [true, 'stale', 2]);
  assert.ok(
    h.captured.some((l) => l.includes('"reason":"ECONNREFUSED"')),
    'the log says why, in an error code',
  );
  assert.equal(h.staleCalls(), 1);

  await h.revive({ quotaResponse: { body: body([WEEKLY]) } });
  h.clock.ms += MIN;
  await h.poller.pollOnce();
  v = h.view();
  assert.deepEqual([v.stale, v.lastPoll?.result, v.sampleAgeSeconds], [false, 'success', 0]);
  assert.deepEqual(await seriesOf(h.metrics.zai_proxy_quota_usage_ratio), ['weekly/credit_limit']);
  assert.deepEqual(await polls(h), { success: 2, error: 1, malformed: 0, stale: 1 });
  await h.assertNoSecrets();
});

test('no good sample yet: failures count as themselves, the view is stale with no windows and no age series', async (t) => {
  const h = await harness(t, { quotaResponse: { status: 503, body: `{"msg":"${MARKER}"}` } });
  await h.poller.pollOnce();
  h.clock.ms += STALE_AFTER * 2;
  await h.poller.pollOnce();
  assert.deepEqual(h.view(), { enabled: true, windows: [], stale: true, lastPoll: { at: new Date(h.clock.ms).toISOString(), result: 'error' } });
  assert.deepEqual((await h.metrics.zai_proxy_quota_sample_age_seconds.get()).values, []);
  assert.deepEqual(await polls(h), { success: 0, error: 2, malformed: 0, stale: 0 });
  assert.equal(h.staleCalls(), 0);
  await h.assertNoSecrets();
});

test('a wrong key is a 401 error, the response past the size bound is malformed, and a redirect is not followed', async (t) => {
  const h = await harness(t, {}, { apiKey: `${KEY}-wrong`, maxBodyBytes: 1024 });
  await h.poller.pollOnce();
  assert.equal(h.view().lastPoll?.result, 'error');
  assert.ok(h.captured.some((l) => l.includes('"status":401')));
  assert.ok(!h.captured.join('\n').includes(`${KEY}-wrong`));
  await h.assertNoSecrets();

  const big = await harness(t, { quotaResponse: { body: body([FIVE_HOUR], { padding: 'x'.repeat(2048) }) } }, { maxBodyBytes: 1024 });
  await big.poller.pollOnce();
  assert.deepEqual(await polls(big), { success: 0, error: 0, malformed: 1, stale: 0 });
  big.sim.setScenario({ quotaResponse: { body: body([FIVE_HOUR]) } }); // under the bound: fine
  await big.poller.pollOnce();
  assert.equal(big.view().lastPoll?.result, 'success');

  const moved = await harness(t, { quotaResponse: { status: 302, body: CURRENT } });
  await moved.poller.pollOnce();
  assert.deepEqual(await polls(moved), { success: 0, error: 1, malformed: 0, stale: 0 });
  assert.equal(moved.sim.stats().byRoute[QUOTA_PATH], 1);
  await big.assertNoSecrets();
  await moved.assertNoSecrets();
});

test('a poll that outlives its timeout is an error and does not hang', async (t) => {
  // A black hole, not a Z.AI double: it accepts connections and never answers.
  const sockets = new Set<Socket>();
  const hole = createServer((s) => void sockets.add(s));
  await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        hole.close(() => resolve());
      }),
  );
  const { port } = hole.address() as AddressInfo;
  const captured: string[] = [];
  const metrics = createMetrics('test', { processMetrics: false });
  const poller = new QuotaPoller(
    { baseUrl: `http://127.0.0.1:${port}`, apiKey: KEY, intervalMs: MIN, timeoutMs: 100, staleAfterMs: STALE_AFTER },
    metrics,
    createLogger('debug', { write: (l: string) => void captured.push(l) }),
    { now: () => T0 },
  );
  t.after(() => poller.stop());
  await poller.pollOnce();
  assert.equal(poller.view().lastPoll?.result, 'error');
  assert.equal(await metricValue(metrics.zai_proxy_quota_poll_total, { result: 'error' }), 1);
  assert.ok(!captured.join('').includes(KEY));
});

test('start polls at once and never overlaps; stop ends it', async (t) => {
  const h = await harness(t, { quotaResponse: { body: CURRENT } });
  // concurrent calls join one request
  await Promise.all([h.poller.pollOnce(), h.poller.pollOnce(), h.poller.pollOnce()]);
  assert.equal(h.sim.stats().byRoute[QUOTA_PATH], 1);
  const first = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no poll within 5 s of start()')), 5_000);
    h.poller.onSample(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  h.poller.start();
  h.poller.start(); // a second start is a no-op
  await first;
  await h.poller.stop();
  assert.equal(h.sim.stats().byRoute[QUOTA_PATH], 2);
  await h.poller.pollOnce(); // after stop: nothing
  h.poller.start();
  assert.equal(h.sim.stats().byRoute[QUOTA_PATH], 2);
});

test('configuration errors are typed and name no secret', () => {
  const metrics = createMetrics('test', { processMetrics: false });
  const log = createLogger('silent');
  const ok: QuotaPollerOptions = { baseUrl: 'https://api.z.ai', apiKey: KEY, intervalMs: MIN, timeoutMs: 5_000, staleAfterMs: STALE_AFTER };
  for (const bad of [
    { apiKey: '' },
    { apiKey: '  ' },
    { intervalMs: 0 },
    { timeoutMs: -1 },
    { staleAfterMs: Number.NaN },
    { baseUrl: 'ftp://x' },
    { baseUrl: 'not a url' },
  ]) {
    assert.throws(
      () => new QuotaPoller({ ...ok, ...bad }, metrics, log),
      (err: Error) => err.name === 'QuotaConfigError' && !err.message.includes(KEY),
    );
  }
});
