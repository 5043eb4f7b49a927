import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type Server } from 'node:http';
import { Agent, request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { spawnProxy } from '../support/proxy-process.js';
import { rawConnect, rawPost } from '../support/raw-http.js';
import { metricValue } from '../support/metric-values.js';
import { pollUntil } from '../support/wait.js';

/**
 * The client side of the fault matrix: clients that leave during the queue wait, the retry
 * backoff, the upstream's work and the stream; a client that reads slowly; many idle
 * keep-alive connections; thousands of concurrent requests against MAX_WORKERS=10; and a
 * very large stream relayed without being buffered. Each case checks the proxy serves
 * normally afterwards and that in flight, queue and upstream calls are back at zero.
 */
type Dialect = 'openai' | 'anthropic';
const DIALECTS: Dialect[] = ['openai', 'anthropic'];
const PATH: Record<Dialect, string> = { openai: '/v1/chat/completions', anthropic: '/v1/messages' };
const body = (stream: boolean) => JSON.stringify({ model: 'glm-4.7', max_tokens: 32, stream, messages: [{ role: 'user', content: 'hi' }] });

function post(base: string, dialect: Dialect, stream: boolean, opts: { signal?: AbortSignal; dispatcher?: Agent } = {}) {
  return request(`${base}${PATH[dialect]}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body(stream),
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
    ...opts,
  });
}

async function health(proxy: { url: string }) {
  return (await (await request(`${proxy.url}/health`)).body.json()) as { inFlight: number; limiter: { inFlight: number; queueDepth: number } };
}

async function settled(proxy: TestProxy, sim: Simulator): Promise<void> {
  await pollUntil(
    async () => {
      const h = await health(proxy);
      return (
        h.inFlight === 0 &&
        h.limiter.inFlight === 0 &&
        h.limiter.queueDepth === 0 &&
        sim.stats().inFlight === 0 &&
        (await metricValue(proxy.metrics, 'zai_proxy_concurrent_requests')) === 0
      );
    },
    'in flight, queue and upstream calls back at zero',
    15_000,
  );
}

async function servesNormally(base: string, dialect: Dialect, stream: boolean): Promise<void> {
  const res = await post(base, dialect, stream);
  const text = await res.body.text();
  assert.equal(res.statusCode, 200, text);
  if (stream) assert.ok(text.includes(dialect === 'openai' ? 'data: [DONE]' : 'event: message_stop'));
}

describe('fault matrix: clients that leave', () => {
  let sim: Simulator;
  let proxy: TestProxy;
  before(async () => {
    sim = await startSimulator({ scenario: { streamChunks: 6 } });
    proxy = await startTestProxy({
      ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl,
      ZAI_ANTHROPIC_BASE_URL: sim.anthropicBaseUrl,
      RATE_LIMIT_ENABLED: 'false',
      MAX_WORKERS: '1',
      MAX_RETRIES: '1',
    });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  const disconnects = (dialect: Dialect) => metricValue(proxy.metrics, 'zai_proxy_client_disconnects_total', { path: PATH[dialect] });

  for (const dialect of DIALECTS) {
    for (const stream of [false, true]) {
      const kind = `${dialect}, ${stream ? 'streaming' : 'not streaming'}`;

      it(`gone during the queue wait (${kind}): leaves the queue, never reaches the upstream`, async () => {
        sim.setScenario({ gateChunks: true });
        // Headers come with the first chunk, which the gate holds: the holder is awaited after release.
        const holder = post(proxy.url, 'openai', true);
        await sim.waitFor((s) => s.inFlight === 1);
        sim.resetStats();
        const ac = new AbortController();
        const victim = post(proxy.url, dialect, stream, { signal: ac.signal }).then(
          () => 'answered',
          () => 'aborted',
        );
        await pollUntil(async () => (await health(proxy)).limiter.queueDepth === 1, 'queued');
        ac.abort();
        assert.equal(await victim, 'aborted');
        await pollUntil(async () => (await health(proxy)).limiter.queueDepth === 0, 'left the queue');
        sim.releaseChunk(100);
        await (await holder).body.text();
        sim.setScenario({ gateChunks: false });
        await settled(proxy, sim);
        assert.equal(sim.stats().requests, 0, 'the departed waiter was never sent upstream');
        await servesNormally(proxy.url, dialect, stream);
      });

      it(`gone during the retry backoff (${kind}): no further attempt`, async () => {
        sim.resetStats();
        sim.setScenario({ faults: [{ kind: 'zaiError', code: 1303, times: -1, retryAfter: '30' }] });
        try {
          const ac = new AbortController();
          const victim = post(proxy.url, dialect, stream, { signal: ac.signal }).then(
            () => 'answered',
            () => 'aborted',
          );
          await pollUntil(
            async () =>
              (await metricValue(proxy.metrics, 'zai_proxy_upstream_errors_total', { error_type: '429' })) > 0 &&
              sim.stats().inFlight === 0 &&
              sim.stats().requests === 1,
            'first attempt refused',
          );
          const retries = await metricValue(proxy.metrics, 'zai_proxy_retry_attempts_total');
          ac.abort();
          assert.equal(await victim, 'aborted');
          await settled(proxy, sim);
          assert.equal(sim.stats().requests, 1, 'no attempt after the client left');
          assert.equal(await metricValue(proxy.metrics, 'zai_proxy_retry_attempts_total'), retries);
        } finally {
          sim.setScenario({ faults: [] });
        }
        await servesNormally(proxy.url, dialect, stream);
      });

      it(`gone while the upstream works (${kind}): the upstream call is aborted`, async () => {
        sim.resetStats();
        sim.setScenario({ faults: [{ kind: 'slowFirstByte', delayMs: 60_000, times: -1 }] });
        const before = await disconnects(dialect);
        try {
          const ac = new AbortController();
          const victim = post(proxy.url, dialect, stream, { signal: ac.signal }).then(
            () => 'answered',
            () => 'aborted',
          );
          await sim.waitFor((s) => s.inFlight === 1);
          ac.abort();
          assert.equal(await victim, 'aborted');
          await sim.waitFor((s) => s.clientAborts === 1 && s.inFlight === 0);
          await settled(proxy, sim);
          assert.equal(await disconnects(dialect), before + 1);
        } finally {
          sim.setScenario({ faults: [] });
        }
        await servesNormally(proxy.url, dialect, stream);
      });
    }

    it(`gone mid-stream (${dialect}): the upstream stream is aborted, counted once`, async () => {
      sim.resetStats();
      sim.setScenario({ gateChunks: true, streamChunks: 10 });
      const before = await disconnects(dialect);
      try {
        const pending = post(proxy.url, dialect, true);
        await sim.waitFor((s) => s.inFlight === 1);
        sim.releaseChunk(2);
        const res = await pending;
        const it = res.body[Symbol.asyncIterator]();
        await it.next();
        res.body.destroy();
        await sim.waitFor((s) => s.clientAborts === 1 && s.inFlight === 0);
        await settled(proxy, sim);
        assert.equal(await disconnects(dialect), before + 1);
      } finally {
        sim.releaseChunk(100);
        sim.setScenario({ gateChunks: false, streamChunks: 6 });
      }
      await servesNormally(proxy.url, dialect, true);
    });
  }
});

describe('fault matrix: slow, idle and many clients', () => {
  let sim: Simulator;
  let proxy: TestProxy;
  before(async () => {
    sim = await startSimulator();
    proxy = await startTestProxy({
      ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl,
      ZAI_ANTHROPIC_BASE_URL: sim.anthropicBaseUrl,
      RATE_LIMIT_ENABLED: 'false',
      MAX_WORKERS: '10',
      QUEUE_MAX: '5000',
      LOG_LEVEL: 'warn',
    });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  for (const dialect of DIALECTS) {
    it(`a client that stops reading a long stream (~3 MB), then reads it all (${dialect}): every chunk arrives, in order`, async () => {
      sim.setScenario({ streamChunks: 20_000 });
      try {
        const c = await rawConnect(proxy.url);
        c.socket.write(rawPost(PATH[dialect], body(true)));
        await pollUntil(() => c.received().length > 0, 'first bytes');
        c.socket.pause();
        // While the client reads nothing the stream fills the socket buffers and waits; the request is still in flight.
        await pollUntil(async () => (await health(proxy)).inFlight === 1, 'paused with the stream open');
        c.socket.resume();
        const text = dechunk(await c.closed);
        const chunks = text.match(/chunk \d+/g) ?? [];
        assert.equal(chunks.length, 20_000);
        assert.equal(chunks[19_999], 'chunk 19999');
        assert.ok(text.includes(dialect === 'openai' ? 'data: [DONE]' : 'event: message_stop'));
        await settled(proxy, sim);
      } finally {
        sim.setScenario({ streamChunks: 5 });
      }
      await servesNormally(proxy.url, dialect, true);
    });
  }

  it('many idle keep-alive connections: 500 held open do not stop normal service, and cost no request slots', async () => {
    const conns = await Promise.all(Array.from({ length: 500 }, () => rawConnect(proxy.url)));
    try {
      // Each made one request and now idles on its kept-alive connection.
      for (const c of conns) c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      await pollUntil(() => conns.every((c) => /\r\n\r\n\{.*\}$/s.test(c.received())), 'every idle connection got its answer', 30_000);
      for (const dialect of DIALECTS) for (const stream of [false, true]) await servesNormally(proxy.url, dialect, stream);
      await settled(proxy, sim);
      assert.ok(
        conns.every((c) => Number.isNaN(c.closedAfterMs())),
        'kept alive, not closed',
      );
    } finally {
      for (const c of conns) c.socket.destroy();
    }
    await pollUntil(async () => (await health(proxy)).inFlight === 0, 'nothing left in flight');
  });

  it('2000 concurrent requests against MAX_WORKERS=10: at most 10 upstream at once, every one answered, the queue drains to zero', async () => {
    sim.resetStats();
    const agent = new Agent({ connections: 2000 });
    try {
      const pending = Array.from({ length: 2000 }, async (_, i) => {
        const dialect = DIALECTS[i % 2]!;
        const stream = i % 4 >= 2;
        const res = await post(proxy.url, dialect, stream, { dispatcher: agent });
        const text = await res.body.text();
        return res.statusCode === 200 && (!stream || text.includes(dialect === 'openai' ? 'data: [DONE]' : 'event: message_stop'));
      });
      const ok = await Promise.all(pending);
      assert.equal(ok.filter(Boolean).length, 2000);
      assert.ok(sim.stats().maxInFlight <= 10, `max upstream in flight ${sim.stats().maxInFlight}`);
      assert.equal(sim.stats().requests, 2000);
      await settled(proxy, sim);
    } finally {
      await agent.close();
    }
  });
});

describe('fault matrix: a very large stream is relayed, never buffered', () => {
  const MiB = 1024 * 1024;
  /** 2 GiB of SSE, about 8 s here (LARGE_STREAM_MIB to change it). */
  const TOTAL = Number(process.env.LARGE_STREAM_MIB ?? 2048) * MiB;
  let upstream: Server;
  let base: string;
  before(async () => {
    // A stand-in upstream that streams as fast as the proxy reads, honouring backpressure.
    const event = Buffer.from(
      `data: {"id":"big","object":"chat.completion.chunk","model":"glm-4.7","choices":[{"index":0,"delta":{"content":"${'x'.repeat(64 * 1024 - 130)}"}}]}\n\n`,
    );
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', async () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (let sent = 0; sent < TOTAL && !res.destroyed; sent += event.length) {
          if (!res.write(event)) await once(res, 'drain').catch(() => undefined);
        }
        res.end(
          'data: {"id":"big","object":"chat.completion.chunk","model":"glm-4.7","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}\n\ndata: [DONE]\n\n',
        );
      });
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    base = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((r) => upstream.close(() => r())));

  it(`${TOTAL / MiB} MiB through a proxy process to a client that reads in bursts: all of it arrives, the proxy holds no more than a few MiB of it`, async () => {
    const proxy = await spawnProxy({ ZAI_OPENAI_BASE_URL: `${base}/api/paas/v4`, RATE_LIMIT_ENABLED: 'false', TOKEN_COUNTING_ENABLED: 'false' }, [], {
      memoryProbe: true,
    });
    try {
      await servesHealth(proxy.url);
      const memory = proxy.memory!;
      const start = await memory.sample();
      const rssBefore = proxy.rssBytes();
      await memory.watch();
      const res = await request(`${proxy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body(true),
        bodyTimeout: 60_000,
      });
      let bytes = 0;
      let tail = '';
      let n = 0;
      for await (const c of res.body) {
        bytes += (c as Buffer).length;
        tail = (tail + (c as Buffer).toString('latin1')).slice(-64);
        // Bursts: a pause now and then, so a proxy that ignored backpressure would pile the stream up.
        if (++n % 64 === 0) await sleep(5);
      }
      const peak = await memory.peak();
      const rssPeak = proxy.peakRssBytes();
      assert.equal(res.statusCode, 200);
      assert.ok(bytes >= TOTAL, `${bytes} bytes`);
      assert.ok(tail.endsWith('data: [DONE]\n\n'));
      const live = (peak.arrayBuffers - start.arrayBuffers) / MiB;
      const detail = `relayed ${(bytes / MiB).toFixed(0)} MiB; live array buffers +${live.toFixed(1)} MiB at the peak, heap +${((peak.heapUsed - start.heapUsed) / MiB).toFixed(1)} MiB; RSS ${(rssBefore / MiB).toFixed(0)} MiB before, ${(rssPeak / MiB).toFixed(0)} MiB at its peak`;
      console.log(detail);
      // Live memory after a full collection: the stream in flight is a few socket buffers, not the stream.
      assert.ok(live < 32, detail);
      assert.ok(peak.heapUsed - start.heapUsed < 32 * MiB, detail);
      // RSS also counts garbage not yet collected; generous, but far under what a buffered stream would add.
      assert.ok(rssPeak - rssBefore < 150 * MiB, detail);
      const h = await health(proxy);
      assert.equal(h.inFlight, 0);
    } finally {
      await proxy.stop();
    }
  });
});

async function servesHealth(url: string): Promise<void> {
  const r = await request(`${url}/health`);
  assert.equal(r.statusCode, 200);
  await r.body.dump();
}

/** The body of a raw HTTP/1.1 response with chunked transfer encoding, its framing removed. */
function dechunk(raw: string): string {
  let i = raw.indexOf('\r\n\r\n') + 4;
  let out = '';
  for (let n = 0; n < 10_000_000 && i < raw.length; n++) {
    const eol = raw.indexOf('\r\n', i);
    if (eol < 0) break;
    const size = parseInt(raw.slice(i, eol), 16);
    if (!(size > 0)) break;
    out += raw.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
  return out;
}
