import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { openGatedStream, startProxyFor, type TestProxy } from '../support/proxy.js';

const KEY = 'zai-operator-key-8c1e55aa';
const CLIENT_KEY = 'team-client-key-41f0';

/** Reads an SSE response body chunk by chunk as the test needs it. */
function chunkReader(body: AsyncIterable<Buffer>) {
  const it = body[Symbol.asyncIterator]();
  return async () => {
    const next = await it.next();
    return next.done ? undefined : next.value.toString('utf8');
  };
}

describe('proxy core behaviour', () => {
  let sim: Simulator;
  let proxy: TestProxy;

  before(async () => {
    sim = await startSimulator();
    proxy = await startProxyFor(sim, {
      ZAI_API_KEY: KEY,
      PROXY_API_KEYS: `other-key, ${CLIENT_KEY}`,
      MAX_BODY_BYTES: '2048',
      RATE_LIMIT_ENABLED: 'false',
    });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    request(`${proxy.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('relays each stream chunk to the client before the next one is sent upstream', async () => {
    sim.resetStats();
    sim.setScenario({ gateChunks: true, streamChunks: 4 });
    try {
      // The proxy commits a stream at its first chunk (so an empty stream can still be
      // retried): release that one, then each next chunk only after the previous arrived.
      const pending = post('/v1/chat/completions', { model: 'glm-4.7', stream: true, messages: [{ role: 'user', content: 'x' }] });
      await sim.waitFor((s) => s.inFlight === 1);
      sim.releaseChunk();
      const res = await pending;
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-accel-buffering'], 'no');
      const read = chunkReader(res.body);
      let received = (await read()) ?? '';
      assert.equal(sim.stats().chunksSent, 1);
      for (let i = 2; i <= 4; i++) {
        sim.releaseChunk();
        const text = await read();
        assert.ok(text !== undefined);
        received += text;
        assert.equal(sim.stats().chunksSent, i, 'the upstream has sent exactly the chunks the client has seen');
      }
      for (let text = await read(); text !== undefined; text = await read()) received += text;
      assert.ok(received.includes('data: [DONE]'));
      assert.equal((received.match(/"chat.completion.chunk"/g) ?? []).length >= 4, true);
    } finally {
      sim.setScenario({ gateChunks: false });
    }
  });

  it('aborts the upstream request at once when the client disconnects', async () => {
    sim.resetStats();
    sim.setScenario({ gateChunks: true, streamChunks: 10 });
    try {
      const pending = post('/v1/messages', { model: 'glm-4.7', stream: true, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
      await sim.waitFor((s) => s.inFlight === 1);
      sim.releaseChunk();
      const res = await pending;
      assert.equal(res.statusCode, 200);
      await chunkReader(res.body)();
      res.body.destroy();
      const stats = await sim.waitFor((s) => s.clientAborts >= 1);
      assert.equal(stats.clientAborts, 1);
      assert.equal(stats.inFlight, 0);
    } finally {
      sim.setScenario({ gateChunks: false });
    }
  });

  it('refuses a body over MAX_BODY_BYTES with 413 before anything goes upstream', async () => {
    sim.resetStats();
    const big = { model: 'glm-4.7', messages: [{ role: 'user', content: 'x'.repeat(4096) }] };
    const res = await post('/v1/chat/completions', big);
    assert.equal(res.statusCode, 413);
    const body = (await res.body.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'request_too_large');
    assert.match(body.error.message, /MAX_BODY_BYTES/);
    const anth = await post('/v1/messages', big);
    assert.equal(anth.statusCode, 413);
    const anthBody = (await anth.body.json()) as { type: string; error: { type: string } };
    assert.equal(anthBody.type, 'error');
    assert.equal(anthBody.error.type, 'request_too_large');
    assert.equal(sim.stats().requests, 0);
  });

  it('answers 401 in each API shape without a valid client key, and never echoes a key', async () => {
    const openai = await post('/v1/chat/completions', { model: 'glm-4.7', messages: [] }, { authorization: 'Bearer wrong-key-123' });
    assert.equal(openai.statusCode, 401);
    const openaiText = await openai.body.text();
    assert.equal(JSON.parse(openaiText).error.type, 'authentication_error');
    const anthropic = await post('/v1/messages', { model: 'glm-4.7', messages: [] }, { authorization: '', 'x-api-key': 'wrong-key-123' });
    assert.equal(anthropic.statusCode, 401);
    const anthropicText = await anthropic.body.text();
    assert.equal(JSON.parse(anthropicText).type, 'error');
    for (const text of [openaiText, anthropicText]) {
      assert.ok(!text.includes('wrong-key-123') && !text.includes(KEY) && !text.includes(CLIENT_KEY));
    }
  });

  it('accepts a client key as x-api-key too', async () => {
    const res = await post(
      '/v1/messages',
      { model: 'glm-4.7', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] },
      { authorization: '', 'x-api-key': CLIENT_KEY },
    );
    assert.equal(res.statusCode, 200);
    await res.body.dump();
  });

  it('answers unknown paths outside /v1 with a JSON 404', async () => {
    const res = await request(`${proxy.url}/nope`);
    assert.equal(res.statusCode, 404);
    assert.match(String(res.headers['content-type']), /json/);
    const body = (await res.body.json()) as { error: { message: string } };
    assert.match(body.error.message, /\/nope/);
  });

  it('passes query strings through and drops hop-by-hop headers', async () => {
    sim.resetStats();
    // node:http, unlike undici, lets a client list its own hop-by-hop headers in Connection.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${proxy.url}/v1/models?limit=3&after=x`, {
        headers: { authorization: `Bearer ${CLIENT_KEY}`, connection: 'keep-alive, x-hop', 'x-hop': 'secret-hop', 'x-custom': 'kept', te: 'trailers' },
        agent: false,
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 200);
    assert.equal(sim.stats().lastQuery, 'limit=3&after=x');
    const seen = sim.stats().lastHeaders;
    assert.equal(seen['x-custom'], 'kept');
    assert.equal(seen['x-hop'], undefined);
    assert.equal(seen.te, undefined);
  });

  it('reports its own and the upstream time in Server-Timing', async () => {
    const res = await post('/v1/chat/completions', { model: 'glm-4.7', messages: [{ role: 'user', content: 'x' }] });
    await res.body.dump();
    assert.match(String(res.headers['server-timing']), /proxy;dur=[\d.]+, upstream;dur=[\d.]+/);
  });

  it("sends its own usage and timing headers once, in place of an upstream's of the same name", async () => {
    // An upstream behind another gateway (or another zai-proxy) may already send these names.
    const upstream = createServer((req, res) => {
      req.resume();
      const stream = req.url?.includes('stream') === true;
      res.writeHead(200, {
        'content-type': stream ? 'text/event-stream' : 'application/json',
        'server-timing': 'upstream-gateway;dur=1',
        'x-zai-proxy-input-tokens': '999',
        'x-zai-proxy-usage-source': 'estimated',
        'x-accel-buffering': 'yes',
        'x-upstream': 'kept',
      });
      res.end(stream ? 'data: {"choices":[]}\n\ndata: [DONE]\n\n' : '{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3}}');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const own = await startProxyFor(sim, { ZAI_OPENAI_BASE_URL: `${base}/api/paas/v4`, RATE_LIMIT_ENABLED: 'false' });
    try {
      for (const path of ['/v1/chat/completions', '/v1/chat/completions?stream']) {
        const res = await request(`${own.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"glm-4.7"}' });
        await res.body.dump();
        const raw = res.headers as Record<string, string | string[]>;
        assert.equal(raw['x-upstream'], 'kept', path);
        assert.match(String(raw['server-timing']), /^proxy;dur=[\d.]+, upstream;dur=[\d.]+, queue;dur=[\d.]+$/, path);
        if (path.includes('stream')) {
          assert.equal(raw['x-accel-buffering'], 'no');
          assert.equal(raw['x-zai-proxy-input-tokens'], undefined, 'a stream has no usage headers: its usage comes last');
        } else {
          assert.equal(raw['x-zai-proxy-input-tokens'], '12');
          assert.equal(raw['x-zai-proxy-usage-source'], 'reported');
        }
      }
    } finally {
      await own.close();
      upstream.close();
    }
  });

  it('serves /health and /ready', async () => {
    const health = await request(`${proxy.url}/health`);
    assert.equal(health.statusCode, 200);
    const h = (await health.body.json()) as { status: string; variant: string };
    assert.equal(h.status, 'ok');
    assert.equal(h.variant, 'production');
    const ready = await request(`${proxy.url}/ready`);
    assert.equal(ready.statusCode, 200);
    await ready.body.dump();
  });
});

describe('graceful drain', () => {
  it('finishes a stream in flight, refuses new work, and reports not ready', async () => {
    const sim = await startSimulator({ scenario: { gateChunks: true, streamChunks: 3 } });
    const proxy = await startProxyFor(sim, { RATE_LIMIT_ENABLED: 'false' });
    try {
      const res = await openGatedStream(sim, proxy.url);
      const read = chunkReader(res.body);
      await read();
      const drained = proxy.shutdown(10_000);
      let closedEarly = false;
      void drained.then(() => (closedEarly = true));
      // Drain has begun: new connections are refused while the stream keeps flowing.
      await assert.rejects(request(`${proxy.url}/ready`));
      assert.equal(closedEarly, false);
      sim.releaseChunk(100);
      let rest = '';
      for (let t = await read(); t !== undefined; t = await read()) rest += t;
      assert.ok(rest.includes('[DONE]'), 'the stream in flight finished');
      await drained;
    } finally {
      await proxy.shutdown(0);
      await sim.close();
    }
  });
});
