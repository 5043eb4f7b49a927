import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readProxyEnv } from '../../src/config/proxy.js';
import { ARM_HEADER, armFor } from '../../src/split/canary-split.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { metricValue } from '../support/metric-values.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { freePort } from '../support/wait.js';

/**
 * The bound: with n distinct clients each landing on the canary with probability w, the
 * observed share has standard deviation sqrt(w(1-w)/n); it must lie within 4 of them (a
 * 1-in-15,000 miss for a truly random split; the hash is deterministic, so a pass is a pass).
 */
const bound = (w: number, n: number) => 4 * Math.sqrt((w * (1 - w)) / n);

describe('sticky canary split by client identity', () => {
  it("puts the weight's share of 10,000 distinct clients on the canary, within 4 standard deviations", () => {
    const n = 10_000;
    for (const weight of [1, 5, 10, 30, 50, 90, 99]) {
      let canary = 0;
      for (let i = 0; i < n; i++) if (armFor(`sk-client-${i}`, weight) === 'canary') canary++;
      const w = weight / 100;
      const observed = canary / n;
      assert.ok(Math.abs(observed - w) <= bound(w, n), `weight ${weight}: observed ${observed} vs ${w} ± ${bound(w, n).toFixed(4)}`);
      console.log(`weight ${weight}%: observed ${(observed * 100).toFixed(2)}% of ${n} clients (bound ±${(bound(w, n) * 100).toFixed(2)} points)`);
    }
  });

  it('weight 0 never and weight 100 always picks the canary; raising the weight only moves clients to the canary', () => {
    for (let i = 0; i < 5000; i++) {
      const id = `client-${i}`;
      assert.equal(armFor(id, 0), 'stable');
      assert.equal(armFor(id, 100), 'canary');
      if (armFor(id, 20) === 'canary') assert.equal(armFor(id, 60), 'canary', id);
    }
  });

  it('refuses a weight outside 0–100 and a weight without a canary upstream, with one line', () => {
    assert.throws(() => readProxyEnv({ CANARY_UPSTREAM: 'http://127.0.0.1:1', CANARY_WEIGHT: '101' }), /CANARY_WEIGHT must be an integer between 0 and 100/);
    assert.throws(() => readProxyEnv({ CANARY_WEIGHT: '10' }), /CANARY_WEIGHT needs CANARY_UPSTREAM/);
    assert.throws(() => readProxyEnv({ CANARY_UPSTREAM: 'ftp://x', CANARY_WEIGHT: '10' }), /CANARY_UPSTREAM must be an http\(s\) URL/);
    assert.throws(() => readProxyEnv({ CANARY_UPSTREAM: 'http://x', CANARY_STICKY_HEADER: 'bad header' }), /CANARY_STICKY_HEADER must be a header name/);
    assert.equal(readProxyEnv({}).CANARY_UPSTREAM, undefined);
  });
});

describe('canary split between live proxies in front of the simulator', () => {
  let sim: Simulator;
  let canary: TestProxy;
  const started: TestProxy[] = [];
  const base = { ZAI_API_KEY: 'sk-operator', RATE_LIMIT_ENABLED: 'false', LOG_LEVEL: 'silent' };
  const stableWith = async (env: Record<string, string>) => {
    const p = await startProxyFor(sim, { ...base, DEPLOYMENT_VARIANT: 'stable', ...env });
    started.push(p);
    return p;
  };
  const chat = async (proxy: TestProxy, key: string, headers: Record<string, string> = {}, stream = false) => {
    const res = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
      body: JSON.stringify({ model: 'glm-4.7', stream, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await res.text();
    return { status: res.status, arm: res.headers.get(ARM_HEADER), text };
  };
  const requests = (p: TestProxy, variant: string) => metricValue(p.metrics, 'zai_proxy_requests_total', { variant });

  before(async () => {
    sim = await startSimulator();
    canary = await startProxyFor(sim, { ...base, DEPLOYMENT_VARIANT: 'canary' });
  });
  after(async () => {
    await Promise.all(started.map((p) => p.close()));
    await canary?.close();
    await sim?.close();
  });

  it('sends 30 % of 300 clients to the canary, within the bound; each arm records only its own requests', async () => {
    const stable = await stableWith({ CANARY_UPSTREAM: canary.url, CANARY_WEIGHT: '30' });
    const canaryBefore = await requests(canary, 'canary');
    const n = 300;
    let onCanary = 0;
    for (let i = 0; i < n; i++) {
      const r = await chat(stable, `sk-agent-${i}`);
      assert.equal(r.status, 200);
      assert.equal(r.arm, armFor(`sk-agent-${i}`, 30));
      if (r.arm === 'canary') onCanary++;
    }
    assert.ok(Math.abs(onCanary / n - 0.3) <= bound(0.3, n), `observed ${onCanary}/${n}`);
    console.log(
      `live split at 30%: ${onCanary}/${n} = ${((onCanary / n) * 100).toFixed(1)}% on the canary (bound ±${(bound(0.3, n) * 100).toFixed(1)} points)`,
    );
    assert.equal(await requests(stable, 'stable'), n - onCanary);
    assert.equal((await requests(canary, 'canary')) - canaryBefore, onCanary);
    assert.equal(await metricValue(stable.metrics, 'zai_proxy_canary_requests_total', { arm: 'canary' }), onCanary);
    assert.equal(await metricValue(stable.metrics, 'zai_proxy_canary_requests_total', { arm: 'stable' }), n - onCanary);
  });

  it('keeps one client on one arm across 60 requests, by key or by the sticky header', async () => {
    const stable = await stableWith({ CANARY_UPSTREAM: canary.url, CANARY_WEIGHT: '50' });
    const arms = new Set<string | null>();
    for (let i = 0; i < 60; i++) arms.add((await chat(stable, 'sk-one-agent')).arm);
    assert.equal(arms.size, 1);
    const bySession = await stableWith({ CANARY_UPSTREAM: canary.url, CANARY_WEIGHT: '50', CANARY_STICKY_HEADER: 'X-Session-Id' });
    const sessionArms = new Set<string | null>();
    // Different keys, one session: the header decides.
    for (let i = 0; i < 60; i++) sessionArms.add((await chat(bySession, `sk-rotating-${i}`, { 'x-session-id': 'conversation-7' })).arm);
    assert.deepEqual([...sessionArms], [armFor('conversation-7', 50)]);
  });

  it('weight 0 and 100 are exact on live traffic, and streams are relayed through the canary arm', async () => {
    const none = await stableWith({ CANARY_UPSTREAM: canary.url, CANARY_WEIGHT: '0' });
    const all = await stableWith({ CANARY_UPSTREAM: canary.url, CANARY_WEIGHT: '100' });
    for (let i = 0; i < 40; i++) {
      assert.equal((await chat(none, `sk-w-${i}`)).arm, 'stable');
      assert.equal((await chat(all, `sk-w-${i}`)).arm, 'canary');
    }
    const streamed = await chat(all, 'sk-streamer', {}, true);
    assert.equal(streamed.status, 200);
    assert.match(streamed.text, /data: \[DONE\]/);
    assert.equal(await requests(all, 'stable'), 0);
  });

  it('an unreachable canary arm fails over to stable, counted, and the client gets its answer', async () => {
    const stable = await stableWith({ CANARY_UPSTREAM: `http://127.0.0.1:${await freePort()}`, CANARY_WEIGHT: '100' });
    for (let i = 0; i < 20; i++) {
      const r = await chat(stable, `sk-f-${i}`);
      assert.equal(r.status, 200);
      assert.equal(r.arm, 'stable');
    }
    assert.equal(await metricValue(stable.metrics, 'zai_proxy_canary_failovers_total', { reason: 'connection' }), 20);
    assert.equal(await metricValue(stable.metrics, 'zai_proxy_canary_requests_total', { arm: 'stable' }), 20);
    assert.equal(await requests(stable, 'stable'), 20);
  });

  it('is off by default: no arm header, no split series', async () => {
    const plain = await stableWith({});
    const r = await chat(plain, 'sk-plain');
    assert.equal(r.status, 200);
    assert.equal(r.arm, null);
    assert.doesNotMatch(await plain.metricsText(), /^zai_proxy_canary_[a-z_]+\{/m);
  });
});
