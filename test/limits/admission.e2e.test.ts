import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { metricValue } from '../support/metric-values.js';
import { pollUntil } from '../support/wait.js';

/**
 * The admission queue, /health, the admin reset and the state file, end to end: a real proxy
 * in front of the simulator. Capacity is held by gated simulator streams (each chunk waits
 * for a release), so "the slot is busy" is a fact the test controls, not a timing guess.
 */
const KEY = 'zai-operator-key-e2e-admission-77c2';
const CLIENT_KEY = 'client-key-e2e-admission-0a9f';
const ADMIN_TOKEN = 'admin-token-e2e-admission-3e41';

const BODY = JSON.stringify({ model: 'glm-4.7', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
const STREAM_BODY = JSON.stringify({ model: 'glm-4.7', stream: true, messages: [{ role: 'user', content: 'hi' }] });

function post(proxy: TestProxy, path: string, body: string, signal?: AbortSignal, headers: Record<string, string> = {}) {
  return request(`${proxy.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}`, ...headers },
    body,
    signal,
  });
}

const baseEnv = (extra: Record<string, string>) => ({
  ZAI_API_KEY: KEY,
  PROXY_API_KEYS: CLIENT_KEY,
  ADMIN_TOKEN,
  RETRY_BASE_DELAY: '10ms',
  RATE_LIMIT_INITIAL: '50',
  RATE_LIMIT_MAX: '50',
  ...extra,
});

describe('admission queue through the live proxy', () => {
  let sim: Simulator;
  let proxy: TestProxy; // one slot, one queue place, a queue timeout no test reaches
  let quick: TestProxy; // one slot, a short queue timeout

  before(async () => {
    sim = await startSimulator();
    proxy = await startProxyFor(sim, baseEnv({ MAX_WORKERS: '1', QUEUE_MAX: '1', QUEUE_TIMEOUT: '60s' }));
    quick = await startProxyFor(sim, baseEnv({ MAX_WORKERS: '1', QUEUE_MAX: '10', QUEUE_TIMEOUT: '150ms' }));
  });
  after(async () => {
    sim.setScenario({ gateChunks: false });
    await proxy.close();
    await quick.close();
    await sim.close();
  });

  /** Occupies `p`'s only slot with a gated stream; returns a function that lets it finish. */
  async function holdSlot(p: TestProxy): Promise<() => Promise<void>> {
    sim.setScenario({ gateChunks: true, streamChunks: 1 });
    const before = sim.stats().inFlight;
    const pending = post(p, '/v1/chat/completions', STREAM_BODY);
    await sim.waitFor((s) => s.inFlight === before + 1);
    return async () => {
      sim.setScenario({ gateChunks: false });
      const res = await pending;
      await res.body.text();
      assert.equal(res.statusCode, 200);
    };
  }

  it('answers 429 with Retry-After in each API shape when the queue is full, and serves the queued request once the slot frees', async () => {
    const release = await holdSlot(proxy);
    const queued = post(proxy, '/v1/chat/completions', BODY);
    await pollUntil(() => proxy.admission!.snapshot().queueDepth === 1, 'one request queued');
    const rejectedBefore = await metricValue(proxy.metrics, 'zai_proxy_rate_limit_rejections_total', { reason: 'capacity' });

    const openai = await post(proxy, '/v1/chat/completions', BODY);
    const openaiBody = JSON.parse(await openai.body.text());
    assert.equal(openai.statusCode, 429);
    assert.ok(Number(openai.headers['retry-after']) >= 1);
    assert.equal(openaiBody.error.type, 'rate_limit_error');
    assert.match(openaiBody.error.message, /queue full/);

    const anthropic = await post(proxy, '/v1/messages', BODY);
    const anthropicBody = JSON.parse(await anthropic.body.text());
    assert.equal(anthropic.statusCode, 429);
    assert.ok(Number(anthropic.headers['retry-after']) >= 1);
    assert.equal(anthropicBody.type, 'error');
    assert.equal(anthropicBody.error.type, 'rate_limit_error');

    assert.equal((await metricValue(proxy.metrics, 'zai_proxy_rate_limit_rejections_total', { reason: 'capacity' })) - rejectedBefore, 2);
    await release();
    const served = await queued;
    await served.body.text();
    assert.equal(served.statusCode, 200);
    await pollUntil(() => proxy.admission!.snapshot().inFlight === 0, 'slot free again');
  });

  it('shows the limiter state in /health', async () => {
    const release = await holdSlot(proxy);
    const queued = post(proxy, '/v1/chat/completions', BODY);
    try {
      await pollUntil(() => proxy.admission!.snapshot().queueDepth === 1, 'one request queued');
      const res = await request(`${proxy.url}/health`);
      const health = JSON.parse(await res.body.text());
      assert.equal(res.statusCode, 200);
      const { oldestWaitMs, ...limiter } = health.limiter;
      assert.deepEqual(limiter, { rate: 50, ceiling: 50, concurrencyLimit: 1, inFlight: 1, queueDepth: 1, binding: 'concurrency', sharedState: 'local' });
      assert.ok(oldestWaitMs >= 0 && oldestWaitMs < 5000, String(oldestWaitMs));
      // Waiting under 5 s is not degraded yet.
      assert.equal(health.status, 'ok');
    } finally {
      await release();
      await (await queued).body.text();
    }
  });

  it('a client that disconnects while queued leaves the queue at once and never reaches the upstream', async () => {
    const release = await holdSlot(proxy);
    const callsBefore = sim.stats().requests;
    const ac = new AbortController();
    const queued = post(proxy, '/v1/chat/completions', BODY, ac.signal).then(
      () => 'answered',
      () => 'aborted',
    );
    await pollUntil(async () => (await metricValue(proxy.metrics, 'zai_proxy_queue_depth')) === 1, 'queue depth gauge at 1');
    ac.abort();
    assert.equal(await queued, 'aborted');
    await pollUntil(async () => (await metricValue(proxy.metrics, 'zai_proxy_queue_depth')) === 0, 'queue depth gauge back to 0');
    assert.equal(proxy.admission!.snapshot().queueDepth, 0);
    await release();
    // The held stream was the only upstream call: the departed waiter was never admitted.
    assert.equal(sim.stats().requests, callsBefore);
  });

  it('answers 429 with Retry-After when a request waits longer than QUEUE_TIMEOUT', async () => {
    const release = await holdSlot(quick);
    try {
      const before = await metricValue(quick.metrics, 'zai_proxy_rate_limit_rejections_total', { reason: 'queue_timeout' });
      const res = await post(quick, '/v1/messages', BODY);
      const body = JSON.parse(await res.body.text());
      assert.equal(res.statusCode, 429);
      assert.ok(Number(res.headers['retry-after']) >= 1);
      assert.equal(body.error.type, 'rate_limit_error');
      assert.match(body.error.message, /waited too long/);
      assert.equal((await metricValue(quick.metrics, 'zai_proxy_rate_limit_rejections_total', { reason: 'queue_timeout' })) - before, 1);
      assert.equal(quick.admission!.snapshot().queueDepth, 0);
    } finally {
      await release();
    }
  });
});

describe('POST /admin/reset-rate-limit', () => {
  let sim: Simulator;
  let proxy: TestProxy;

  before(async () => {
    sim = await startSimulator();
    proxy = await startProxyFor(sim, baseEnv({ MAX_WORKERS: '2' }));
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  const reset = (headers: Record<string, string>, method = 'POST') => request(`${proxy.url}/admin/reset-rate-limit`, { method, headers });

  it('needs the admin token (a client key is not enough once ADMIN_TOKEN is set), and puts learned limits back to their start', async () => {
    // One 1302 with the only slot of two in flight lowers the in-flight limit (2 → 1); the retry
    // then succeeds. (A 1302 while under half the limit is in flight says nothing about it.)
    sim.setScenario({ faults: [{ kind: 'zaiError', code: 1302, times: 1 }] });
    const res = await post(proxy, '/v1/chat/completions', BODY);
    await res.body.text();
    assert.equal(res.statusCode, 200);
    assert.equal(proxy.admission!.snapshot().concurrencyLimit, 1);

    for (const headers of [{}, { authorization: 'Bearer not-a-key' }, { 'x-api-key': KEY }, { 'x-api-key': CLIENT_KEY }] as Record<string, string>[]) {
      const denied = await reset(headers);
      const body = JSON.parse(await denied.body.text());
      assert.equal(denied.statusCode, 401, JSON.stringify(Object.keys(headers)));
      assert.equal(body.error.type, 'authentication_error');
      assert.ok(!JSON.stringify(body).includes(KEY));
    }
    assert.equal(proxy.admission!.snapshot().concurrencyLimit, 1, 'a refused reset changes nothing');
    assert.equal((await reset({ authorization: `Bearer ${ADMIN_TOKEN}` }, 'GET')).statusCode, 405);

    const byAdmin = await reset({ authorization: `Bearer ${ADMIN_TOKEN}` });
    const answer = JSON.parse(await byAdmin.body.text());
    assert.equal(byAdmin.statusCode, 200);
    assert.equal(answer.limiter.concurrencyLimit, 2);
    assert.equal(await metricValue(proxy.metrics, 'zai_proxy_concurrency_limit'), 2);
  });

  it('without ADMIN_TOKEN, a configured client key may reset', async () => {
    const open = await startProxyFor(sim, baseEnv({ MAX_WORKERS: '2', ADMIN_TOKEN: '' }));
    try {
      sim.setScenario({ faults: [{ kind: 'zaiError', code: 1302, times: 1 }] });
      await (await post(open, '/v1/chat/completions', BODY)).body.text();
      assert.equal(open.admission!.snapshot().concurrencyLimit, 1);
      const byClient = await request(`${open.url}/admin/reset-rate-limit`, { method: 'POST', headers: { 'x-api-key': CLIENT_KEY } });
      await byClient.body.text();
      assert.equal(byClient.statusCode, 200);
      assert.equal(open.admission!.snapshot().concurrencyLimit, 2);
    } finally {
      await open.close();
    }
  });
});

describe('limiter state file', () => {
  it('carries the learned ceiling across a proxy restart', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'zai-limits-e2e-'));
    const file = join(dir, 'limiter-state.json');
    const sim = await startSimulator({ scenario: { rateLimit: { rps: 4, windowMs: 1000 } } });
    t.after(async () => {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    });
    const env = baseEnv({ RATE_LIMIT_STATE_FILE: file, RATE_LIMIT_WINDOW: '250ms', RATE_LIMIT_INITIAL: '40', RATE_LIMIT_MAX: '40', MAX_RETRIES: '0' });

    const first = await startProxyFor(sim, env);
    let learned: number;
    try {
      // A burst 2.5× over the true ceiling: most of it is refused, and the window that saw it
      // pulls the ceiling down (MAX_RETRIES=0 keeps the burst to one round).
      await Promise.all(Array.from({ length: 10 }, async () => (await post(first, '/v1/chat/completions', BODY)).body.text()));
      await pollUntil(() => first.admission!.snapshot().ceiling < 40, 'a window lowered the ceiling');
      learned = first.admission!.snapshot().ceiling;
    } finally {
      await first.close();
    }
    const saved = JSON.parse(await readFile(file, 'utf8')) as { ceiling: number; rate: number };
    assert.equal(saved.ceiling, learned);

    const second = await startProxyFor(sim, env);
    t.after(() => second.close());
    const health = JSON.parse(await (await request(`${second.url}/health`)).body.text());
    assert.equal(health.limiter.ceiling, learned, 'resumed, not relearned from RATE_LIMIT_INITIAL');
    assert.ok(health.limiter.rate <= learned);
    assert.equal(await metricValue(second.metrics, 'zai_proxy_rate_limit_ceiling'), learned);
  });
});
