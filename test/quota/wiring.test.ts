import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readProxyEnv } from '../../src/config/proxy.js';
import { createMetrics } from '../../src/metrics/catalogue.js';
import { createLogger } from '../../src/log/logger.js';
import { startSimulator } from '../../src/sim/index.js';
import { QuotaPacer, QuotaPoller, connectPacing, quotaPollerOptionsFrom, type RateGate } from '../../src/quota/index.js';

const KEY = 'wiring-test-key-0b8d2e4f6a1c3e5d-not-a-credential';

test('poller options from the environment: off by default, documented defaults, overrides, key required', () => {
  assert.equal(quotaPollerOptionsFrom(readProxyEnv({})), undefined);
  assert.deepEqual(quotaPollerOptionsFrom(readProxyEnv({ QUOTA_POLL_ENABLED: 'true', ZAI_API_KEY: KEY })), {
    baseUrl: 'https://api.z.ai',
    apiKey: KEY,
    intervalMs: 60_000,
    timeoutMs: 5_000,
    staleAfterMs: 15 * 60_000,
  });
  const env = readProxyEnv({
    QUOTA_POLL_ENABLED: 'on',
    ZAI_API_KEY: KEY,
    QUOTA_POLL_INTERVAL: '45s',
    QUOTA_POLL_TIMEOUT: '2s',
    QUOTA_STALE_AFTER: '1h',
    ZAI_QUOTA_BASE_URL: 'http://127.0.0.1:9/',
  });
  assert.deepEqual(quotaPollerOptionsFrom(env), { baseUrl: 'http://127.0.0.1:9', apiKey: KEY, intervalMs: 45_000, timeoutMs: 2_000, staleAfterMs: 3_600_000 });
  assert.throws(() => readProxyEnv({ QUOTA_POLL_ENABLED: 'true' }), /QUOTA_POLL_ENABLED requires ZAI_API_KEY/);
});

class RecordingGate implements RateGate {
  readonly capCalls: Array<number | undefined> = [];
  readonly blockCalls: Array<number | undefined> = [];
  setRateCap(rps: number | undefined) {
    this.capCalls.push(rps);
  }
  blockUntil(epochMs: number | undefined) {
    this.blockCalls.push(epochMs);
  }
  snapshot() {
    return { rate: 10 };
  }
}

async function setup(t: import('node:test').TestContext, usedTokens: number, resetAt: number) {
  const sim = await startSimulator({ scenario: { requiredKey: KEY, quotaWindow: { budgetTokens: 1_000, usedTokens, resetAt } } });
  t.after(() => sim.close());
  const clock = { ms: resetAt - 3_600_000, now: () => clock.ms };
  const poller = new QuotaPoller(
    { baseUrl: sim.quotaBaseUrl, apiKey: KEY, intervalMs: 60_000, timeoutMs: 2_000, staleAfterMs: 5 * 60_000 },
    createMetrics('test', { processMetrics: false }),
    createLogger('silent'),
    clock,
  );
  t.after(() => poller.stop());
  return { sim, clock, poller };
}

test('pacing connected: an exhausted window on the endpoint blocks admission until its reset; stale lifts the cap', async (t) => {
  const resetAt = 1_800_000_000_000;
  const { sim, clock, poller } = await setup(t, 1_000, resetAt);
  const gate = new RecordingGate();
  const pacer = new QuotaPacer(gate, { floorRps: 0.2 }, clock);
  connectPacing(poller, pacer);
  await poller.pollOnce();
  assert.deepEqual(gate.blockCalls, [resetAt]);
  assert.equal(pacer.snapshot().blockedUntilMs, resetAt);

  // the window drains fast: a cap appears, then the endpoint goes away and the cap is lifted
  sim.setScenario({ quotaWindow: { budgetTokens: 1_000, usedTokens: 100, resetAt } });
  clock.ms += 60_000;
  await poller.pollOnce();
  sim.setScenario({ quotaWindow: { budgetTokens: 1_000, usedTokens: 400, resetAt } });
  clock.ms += 60_000;
  await poller.pollOnce();
  assert.ok(typeof gate.capCalls.at(-1) === 'number', `capped: ${gate.capCalls.join(' ')}`);
  sim.setScenario({ quotaResponse: { status: 500 } });
  clock.ms += 6 * 60_000;
  await poller.pollOnce();
  assert.equal(poller.view().stale, true);
  assert.equal(gate.capCalls.at(-1), undefined);
});

test('observe-only: the same exhausted window with no pacer connected leaves admission alone', async (t) => {
  const resetAt = 1_800_000_000_000;
  const { poller } = await setup(t, 1_000, resetAt);
  const gate = new RecordingGate();
  new QuotaPacer(gate, { floorRps: 0.2 }); // constructed but not connected, as with QUOTA_PACING off
  await poller.pollOnce();
  assert.equal(poller.view().windows[0]!.usedRatio, 1);
  assert.deepEqual(gate.capCalls, []);
  assert.deepEqual(gate.blockCalls, []);
});
