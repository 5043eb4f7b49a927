import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startSimulator } from '../../src/sim/index.js';
import type { QuotaView } from '../../src/quota/index.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { metricValue } from '../support/metric-values.js';

/**
 * Opt-in pacing (QUOTA_PACING=on) through a live proxy in front of the simulator:
 *  - a window that would run out before its reset at the offered load bends the admitted
 *    rate so that projected exhaustion moves to the reset;
 *  - an exhausted window (a 1308 from upstream, or a sample at 100 %) stops all upstream
 *    traffic until the reset, clients get 429 with a correct Retry-After in their API shape,
 *    and requests flow again after the reset.
 * Waits are on conditions (poll counters, the clock passing the reset), bounded.
 */

const KEY = 'e2e-pacing-operator-key-c41d9a7e03b6f258';
const CHAT = '/api/paas/v4/chat/completions';
const MESSAGES = '/api/anthropic/v1/messages';
const PROVIDER_QUOTA_TEXT = 'Usage limit reached for 5 hour';

const LIMITER = {
  RATE_LIMIT_INITIAL: '20',
  RATE_LIMIT_MAX: '20',
  RATE_LIMIT_MIN: '1',
  RATE_LIMIT_WINDOW: '1h',
  MAX_WORKERS: '10',
};

const chatBody = JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'pace me '.repeat(40) }] });

async function chat(proxy: TestProxy, texts?: string[]) {
  const res = await request(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody });
  const text = await res.body.text();
  texts?.push(text);
  return { status: res.statusCode, headers: res.headers, text };
}

async function messages(proxy: TestProxy, texts?: string[]) {
  const res = await request(`${proxy.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'glm-4.7', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] }),
  });
  const text = await res.body.text();
  texts?.push(text);
  return { status: res.statusCode, headers: res.headers, text };
}

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Total tokens the simulator charges for one `chatBody` call, asked of it directly. */
async function costOfOneCall(openaiBaseUrl: string): Promise<number> {
  const res = await request(`${openaiBaseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: chatBody,
  });
  return ((await res.body.json()) as { usage: { total_tokens: number } }).usage.total_tokens;
}

interface TracePoint {
  at: number;
  used: number;
  rate: number;
  metric: number;
  exhaustsAt: number;
}

const successPolls = (proxy: TestProxy) => metricValue(proxy.metrics, 'zai_proxy_quota_poll_total', { result: 'success' });

async function quota(proxy: TestProxy, texts?: string[]): Promise<QuotaView> {
  const res = await request(`${proxy.url}/quota`);
  const text = await res.body.text();
  texts?.push(text);
  return JSON.parse(text) as QuotaView;
}

describe('quota pacing: a window that would run out before its reset', () => {
  it('bends the admitted rate so projected exhaustion moves to the reset', async (t) => {
    const RESET_IN_MS = 12_000;
    // tokens per call are fixed by the request (prompt) and the simulator (20 output tokens)
    const sim = await startSimulator({ scenario: { requiredKey: KEY } });
    t.after(() => sim.close());
    const perCall = await costOfOneCall(sim.openaiBaseUrl);
    // At the limiter's 20 req/s the budget would last 4 s of a 12 s window.
    const budget = Math.round(20 * perCall * 4);
    sim.setScenario({ quotaWindow: { budgetTokens: budget, usedTokens: 0, resetAt: Date.now() + 3_600_000 } });

    const proxy = await startProxyFor(sim, {
      ZAI_API_KEY: KEY,
      QUOTA_POLL_ENABLED: 'true',
      QUOTA_POLL_INTERVAL: '250ms',
      QUOTA_STALE_AFTER: '1m',
      QUOTA_PACING: 'on',
      ...LIMITER,
    });
    t.after(() => proxy.close());
    await waitFor(async () => (await successPolls(proxy)) >= 1, 'first poll');
    // The clock starts once everything is up, so start-up time on a busy machine is not part of the window.
    const t0 = Date.now();
    const resetAt = t0 + RESET_IN_MS;
    sim.setScenario({ quotaWindow: { budgetTokens: budget, usedTokens: 0, resetAt } });

    // Offered load: 8 clients back to back, far above what the window can sustain; they stop
    // just before the reset (the simulator does not roll its window over).
    const outcomes: Record<string, number> = {};
    let first1308At: number | undefined;
    let stop = false;
    const worker = async () => {
      for (let i = 0; i < 10_000 && !stop && Date.now() < resetAt - 250; i++) {
        const r = await chat(proxy);
        const key = `${r.status}${r.headers['x-zai-error-code'] ? `/${String(r.headers['x-zai-error-code'])}` : ''}`;
        if (key === '429/1308') first1308At ??= Date.now();
        outcomes[key] = (outcomes[key] ?? 0) + 1;
      }
    };
    const workers = Array.from({ length: 8 }, worker);

    // The trace: one point per poll until the reset.
    const trace: TracePoint[] = [];
    try {
      for (let seen = await successPolls(proxy); Date.now() < resetAt - 250 && trace.length < 200; ) {
        const want = seen + 1;
        await waitFor(async () => (await successPolls(proxy)) >= want || Date.now() >= resetAt - 250, 'next poll');
        seen = await successPolls(proxy);
        const view = await quota(proxy);
        const rate = proxy.admission!.snapshot().rate;
        const used = view.windows[0]?.usedRatio ?? NaN;
        const now = Date.now();
        trace.push({
          at: now,
          used,
          rate,
          metric: await metricValue(proxy.metrics, 'zai_proxy_rate_limit_requests_per_second'),
          // at this admitted rate the rest of the budget runs out at:
          exhaustsAt: now + (((1 - used) * budget) / perCall / rate) * 1000,
        });
      }
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    const summary = trace.map(
      (p) => `${((p.at - t0) / 1000).toFixed(1)}s used=${p.used.toFixed(3)} rate=${p.rate.toFixed(2)} exhausts=${((p.exhaustsAt - t0) / 1000).toFixed(1)}s`,
    );
    t.diagnostic(
      `per call ${perCall} tokens, budget ${budget}, reset at 12.0s, outcomes ${JSON.stringify(outcomes)}, first 1308 at ${first1308At === undefined ? 'never' : `${((first1308At - t0) / 1000).toFixed(1)}s`}`,
    );
    for (const line of summary) t.diagnostic(line);

    // Unpaced, the limiter's 20 req/s would exhaust the window a third of the way to the reset.
    assert.ok(t0 + (budget / perCall / 20) * 1000 < t0 + RESET_IN_MS / 2);
    assert.ok(trace.length >= 10, `enough polls to judge: ${trace.length}`);
    for (const p of trace) assert.equal(p.metric, p.rate, 'the gauge shows the admitted rate');
    // The cap applies within a few polls and stays on while the window is at risk.
    const firstCapped = trace.findIndex((p) => p.rate < 10);
    assert.ok(firstCapped >= 0 && trace[firstCapped]!.at <= t0 + 3_000, `capped early:\n${summary.join('\n')}`);
    for (const p of trace.slice(firstCapped)) assert.ok(p.rate < 20, `the cap stays on:\n${summary.join('\n')}`);
    // Once settled, projected exhaustion at the capped rate sits at the reset (a second's margin
    // on a 12 s window), never near the 4 s an uncapped limiter would have reached.
    const settled = trace.filter((p) => p.at >= trace[firstCapped]!.at + 1_500);
    assert.ok(settled.length >= 5);
    for (const p of settled) assert.ok(p.exhaustsAt >= resetAt - 1_000, `projection before the reset:\n${summary.join('\n')}`);
    // And it happened: the window lasted to (about) the reset, and most of it was used.
    assert.ok(first1308At === undefined || first1308At >= resetAt - 1_000, `window ran out early:\n${summary.join('\n')}`);
    assert.ok(trace.at(-1)!.used >= 0.8, `the budget was used, not hoarded: ${trace.at(-1)!.used}`);
    assert.ok((outcomes['200'] ?? 0) >= 0.8 * (budget / perCall));
  });
});

/** Whole seconds, as the provider's 1308 message states the reset to the second. */
const wholeSecondsFromNow = (ms: number) => Math.ceil((Date.now() + ms) / 1000) * 1000;

/** Both API shapes, round after round until a second before the reset: each must get a quota 429. */
async function keepTryingWhileShut(proxy: TestProxy, texts: string[], resetAt: number): Promise<number> {
  let tries = 0;
  while (Date.now() < resetAt - 1_000 && tries < 200) {
    tries++;
    assertQuota429(await chat(proxy, texts), 'openai', resetAt);
    assertQuota429(await messages(proxy, texts), 'anthropic', resetAt);
  }
  assert.ok(tries >= 3, `clients kept trying (${tries} rounds)`);
  return tries;
}

/**
 * Asserts a proxy-made quota 429 in the client's API shape, with Retry-After = seconds to the
 * reset, rounded up when the answer was made (so up to one second more, plus the time the answer
 * took to arrive on a loaded machine), and never earlier than the reset.
 */
function assertQuota429(r: { status: number; headers: Record<string, unknown>; text: string }, shape: 'openai' | 'anthropic', resetAt: number): void {
  assert.equal(r.status, 429);
  const expected = (resetAt - Date.now()) / 1000;
  const retryAfter = Number(r.headers['retry-after']);
  assert.ok(
    Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter >= Math.floor(expected) && retryAfter <= Math.ceil(expected) + 1,
    `Retry-After ${String(r.headers['retry-after'])} vs ${expected.toFixed(2)} s to the reset`,
  );
  const body = JSON.parse(r.text) as { type?: string; error: { type: string; message: string; code?: string } };
  if (shape === 'anthropic') assert.equal(body.type, 'error');
  else assert.equal(body.error.code, 'rate_limit_error');
  assert.equal(body.error.type, 'rate_limit_error');
  assert.match(body.error.message, /quota .* exhausted until its reset/);
  assert.ok(!r.text.includes(PROVIDER_QUOTA_TEXT));
}

describe('quota pacing: an exhausted window', () => {
  it('after the first 1308, nothing reaches the upstream until the reset; clients get 429 with Retry-After; then traffic flows', async (t) => {
    const resetAt = wholeSecondsFromNow(3_000);
    const sim = await startSimulator({ scenario: { requiredKey: KEY, quota: { exhausted: true, code: 1308, resetAt } } });
    t.after(() => sim.close());
    // Pacing without polling: the upstream's own 1308 is what blocks.
    const proxy = await startProxyFor(sim, { ZAI_API_KEY: KEY, QUOTA_PACING: 'on', ...LIMITER });
    t.after(() => proxy.close());
    const texts: string[] = [];

    const first = await chat(proxy, texts);
    assert.equal(first.status, 429);
    assert.equal(first.headers['x-zai-error-code'], '1308');
    // Whole seconds, rounded up when the upstream answered: by now up to a second more than is left.
    const relayed = Number(first.headers['retry-after']);
    const left = (resetAt - Date.now()) / 1000;
    assert.ok(
      relayed >= Math.floor(left) && relayed <= Math.ceil(left) + 1,
      `relayed Retry-After ${String(first.headers['retry-after'])} vs ${left.toFixed(2)} s left`,
    );
    assert.equal(sim.stats().byRoute[CHAT], 1);
    assert.equal(proxy.admission!.snapshot().blockedUntil, resetAt);

    // Clients keep trying in both API shapes, as long as the window is shut.
    const tries = await keepTryingWhileShut(proxy, texts, resetAt);
    assert.deepEqual(sim.stats().byRoute, { [CHAT]: 1 }, 'zero further requests reached the upstream');
    assert.equal(await metricValue(proxy.metrics, 'zai_proxy_rate_limit_rejections_total', { reason: 'quota' }), tries * 2);

    // The reset passes (the provider's window with it), and requests flow again.
    await waitFor(() => Date.now() > resetAt, 'the reset', 10_000);
    sim.setScenario({ quota: { exhausted: false } });
    const again = await chat(proxy, texts);
    assert.equal(again.status, 200);
    assert.equal((await messages(proxy, texts)).status, 200);
    assert.equal(sim.stats().byRoute[CHAT], 2);
    assert.equal(sim.stats().byRoute[MESSAGES], 1);
    assert.equal(proxy.admission!.snapshot().blockedUntil, undefined);

    const outputs = [...texts.slice(1), proxy.logs(), await proxy.metricsText()];
    for (const out of outputs) {
      assert.ok(!out.includes(KEY), 'no key');
      assert.ok(!out.includes(PROVIDER_QUOTA_TEXT), 'the provider message is relayed once, as the upstream answer, and never repeated');
    }
  });

  it('a sample at 100 % blocks before any request reaches the upstream, until its reset', async (t) => {
    const resetAt = wholeSecondsFromNow(3_000);
    const sim = await startSimulator({ scenario: { requiredKey: KEY, quotaWindow: { budgetTokens: 5_000, usedTokens: 5_000, resetAt } } });
    t.after(() => sim.close());
    const proxy = await startProxyFor(sim, {
      ZAI_API_KEY: KEY,
      QUOTA_POLL_ENABLED: 'true',
      QUOTA_POLL_INTERVAL: '100ms',
      QUOTA_PACING: 'on',
      ...LIMITER,
    });
    t.after(() => proxy.close());
    const texts: string[] = [];
    await waitFor(async () => (await successPolls(proxy)) >= 1, 'first poll');
    assert.equal(proxy.admission!.snapshot().blockedUntil, resetAt);

    await keepTryingWhileShut(proxy, texts, resetAt);
    assert.equal(sim.stats().byRoute[CHAT], undefined, 'no generation call reached the upstream');
    assert.equal(sim.stats().byRoute[MESSAGES], undefined);
    const view = await quota(proxy, texts);
    assert.equal(view.windows[0]!.usedRatio, 1);
    const health = await request(`${proxy.url}/health`);
    const healthText = await health.body.text();
    texts.push(healthText);
    assert.equal((JSON.parse(healthText) as { limiter: { blockedUntil?: number } }).limiter.blockedUntil, resetAt);

    // The provider rolls its window over at the reset; the next sample lifts the block.
    await waitFor(() => Date.now() > resetAt, 'the reset', 10_000);
    sim.setScenario({ quotaWindow: { budgetTokens: 5_000, usedTokens: 0, resetAt: Date.now() + 5 * 3_600_000 } });
    const polled = await successPolls(proxy);
    await waitFor(async () => (await successPolls(proxy)) >= polled + 1, 'a poll after the reset');
    assert.equal((await chat(proxy, texts)).status, 200);
    assert.equal(sim.stats().byRoute[CHAT], 1);
    assert.equal(proxy.admission!.snapshot().blockedUntil, undefined);

    for (const out of [...texts, proxy.logs(), await proxy.metricsText()]) {
      assert.ok(!out.includes(KEY));
      assert.ok(!out.includes(PROVIDER_QUOTA_TEXT));
      assert.ok(!out.includes('Operation successful'));
    }
  });
});
