import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';

/**
 * What the proxy tells SDKs about deadlines and retries, with the real Node SDKs at their
 * defaults and the Python SDKs' headers reproduced byte for byte. Each test here failed
 * before the proxy read these signals: the retry product, the hours-long sleep on a quota
 * answer, the missed 3 s deadline.
 */
const KEY = 'zai-operator-key-client-signals-71c2';
const MAX_RETRIES = 3;
const CHAT = '/api/paas/v4/chat/completions';
const MESSAGES = '/api/anthropic/v1/messages';

describe('deadlines and retry signals for SDK clients', () => {
  let sim: Simulator;
  let proxy: TestProxy;

  before(async () => {
    sim = await startSimulator();
    proxy = await startProxyFor(sim, {
      ZAI_API_KEY: KEY,
      MAX_RETRIES: String(MAX_RETRIES),
      RETRY_BASE_DELAY: '10ms',
      RATE_LIMIT_ENABLED: 'false',
    });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  it('a default openai client under a persistent 1302 makes one round of proxy retries, not its own on top', async () => {
    sim.resetStats();
    sim.setScenario({ faults: [{ kind: 'zaiError', code: 1302, times: -1 }] });
    try {
      const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'placeholder' }); // maxRetries: the default 2
      const err = await client.chat.completions.create({ model: 'glm-4.7', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
      assert.ok(err instanceof OpenAI.RateLimitError, String(err));
      assert.equal(err.headers.get('x-should-retry'), 'false');
      assert.ok(Number(err.headers.get('retry-after')) >= 1, 'Retry-After is kept');
      assert.equal(sim.stats().byRoute[CHAT], MAX_RETRIES + 1, 'the proxy retried; the SDK did not multiply it (was 12)');
    } finally {
      sim.setScenario({ faults: [] });
    }
  });

  it('a default anthropic client gets its RateLimitError on a 1308 at once instead of sleeping until the reset', async () => {
    sim.resetStats();
    sim.setScenario({ quota: { exhausted: true, code: 1308, resetAt: Date.now() + 5 * 3_600_000 } });
    try {
      const client = new Anthropic({ baseURL: proxy.url, apiKey: 'placeholder' }); // maxRetries: the default 2
      const started = Date.now();
      const err = await client.messages
        .create({ model: 'glm-4.7', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }, { signal: AbortSignal.timeout(8000) })
        .catch((e: unknown) => e);
      assert.ok(err instanceof Anthropic.RateLimitError, `expected RateLimitError, got ${String(err)}`);
      assert.equal(err.headers.get('x-should-retry'), 'false');
      assert.ok(Number(err.headers.get('retry-after')) > 17_000, `Retry-After ${err.headers.get('retry-after')} still tells a human when`);
      assert.ok(Date.now() - started < 5000);
      assert.equal(sim.stats().byRoute[MESSAGES], 1);
    } finally {
      sim.resetScenario();
    }
  });

  // The Python SDKs with a 3 s timeout set on the client: read timeout 3.0, total NOT_GIVEN.
  for (const headers of [
    { 'x-stainless-read-timeout': '3.0', 'x-stainless-timeout': 'NOT_GIVEN' },
    { 'x-stainless-read-timeout': '3.0' },
    { 'x-stainless-timeout': '3' },
  ]) {
    it(`a 1305 with Retry-After 5 under a 3 s client deadline (${Object.keys(headers).join(' + ')}) is answered before the deadline`, async () => {
      sim.resetStats();
      sim.setScenario({ faults: [{ kind: 'zaiError', code: 1305, times: -1, retryAfter: '5' }] });
      try {
        const started = Date.now();
        const r = await request(`${proxy.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'hi' }] }),
          headersTimeout: 3000, // the client's own timeout
        });
        await r.body.text();
        assert.equal(r.statusCode, 429);
        assert.equal(r.headers['retry-after'], '5');
        assert.ok(Date.now() - started < 3000);
        assert.equal(sim.stats().byRoute[CHAT], 1, 'no retry scheduled past the deadline');
      } finally {
        sim.setScenario({ faults: [] });
      }
    });
  }

  it('a retryable answer the proxy did not retry leaves the SDK free to retry (no x-should-retry)', async () => {
    sim.setScenario({ faults: [{ kind: 'zaiError', code: 1305, times: 1, retryAfter: '5' }] });
    try {
      const r = await request(`${proxy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-stainless-timeout': '1' },
        body: JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'hi' }] }),
      });
      await r.body.text();
      assert.equal(r.statusCode, 429);
      assert.equal(r.headers['x-should-retry'], undefined);
    } finally {
      sim.setScenario({ faults: [] });
    }
  });

  it('HEAD / and GET / answer 200 with a one-line description', async () => {
    const head = await request(`${proxy.url}/`, { method: 'HEAD' });
    await head.body.text();
    assert.equal(head.statusCode, 200);
    const get = await request(`${proxy.url}/`);
    const text = await get.body.text();
    assert.equal(get.statusCode, 200);
    assert.match(text, /^zai-proxy .*\/v1.*\n$/);
    assert.equal(text.trim().split('\n').length, 1);
  });
});

describe('SHOULD_RETRY_FALSE_AFTER_RETRIES=false', () => {
  it('leaves the final answer after proxy retries without x-should-retry, so SDKs retry as before', async () => {
    const sim = await startSimulator({ scenario: { faults: [{ kind: 'zaiError', code: 1302, times: -1 }] } });
    const proxy = await startProxyFor(sim, {
      MAX_RETRIES: '1',
      RETRY_BASE_DELAY: '10ms',
      RATE_LIMIT_ENABLED: 'false',
      SHOULD_RETRY_FALSE_AFTER_RETRIES: 'false',
    });
    try {
      const r = await request(`${proxy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'hi' }] }),
      });
      await r.body.text();
      assert.equal(r.statusCode, 429);
      assert.equal(r.headers['x-should-retry'], undefined);
      assert.equal(sim.stats().byRoute[CHAT], 2);
    } finally {
      await proxy.close();
      await sim.close();
    }
  });
});
