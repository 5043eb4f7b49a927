import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { rawConnect } from '../support/raw-http.js';

/**
 * Slow clients cannot hold sockets forever: unfinished headers, a silent connection and a
 * dribbled body are each answered 408 and closed, while a long stream (whose request arrived
 * in time) keeps flowing past both timeouts.
 */
const HEADERS_MS = 500;
const BODY_MS = 1000;
/** Node sweeps connections once a second (or at the headers timeout when shorter): allow two sweeps. */
const SLACK_MS = 2500;

describe('client-side timeouts (slowloris)', () => {
  let sim: Simulator;
  let proxy: TestProxy;
  before(async () => {
    sim = await startSimulator();
    proxy = await startProxyFor(sim, {
      RATE_LIMIT_ENABLED: 'false',
      CLIENT_HEADERS_TIMEOUT: `${HEADERS_MS}ms`,
      CLIENT_BODY_TIMEOUT: `${BODY_MS}ms`,
    });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  it('unfinished headers: 408 and closed after the headers timeout', async () => {
    const c = await rawConnect(proxy.url);
    c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    const got = await c.closed;
    assert.match(got, /^HTTP\/1\.1 408/);
    assert.ok(c.closedAfterMs() >= HEADERS_MS - 50 && c.closedAfterMs() < HEADERS_MS + SLACK_MS, `closed after ${c.closedAfterMs()} ms`);
  });

  it('headers sent one byte at a time are still bounded by the headers timeout', async () => {
    const c = await rawConnect(proxy.url);
    const bytes = `GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(10_000)}`;
    let i = 0;
    const timer = setInterval(() => c.socket.writable && c.socket.write(bytes[i++ % bytes.length]!), 20);
    try {
      const got = await c.closed;
      assert.match(got, /^HTTP\/1\.1 408/);
      assert.ok(c.closedAfterMs() < HEADERS_MS + SLACK_MS, `closed after ${c.closedAfterMs()} ms`);
    } finally {
      clearInterval(timer);
    }
  });

  it('a connection that never sends a byte is closed', async () => {
    const c = await rawConnect(proxy.url);
    await c.closed;
    assert.ok(c.closedAfterMs() < HEADERS_MS + SLACK_MS, `closed after ${c.closedAfterMs()} ms`);
  });

  it('a dribbled body: 408 and closed after the body timeout, nothing sent upstream', async () => {
    sim.resetStats();
    const c = await rawConnect(proxy.url);
    c.socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
    const timer = setInterval(() => c.socket.writable && c.socket.write(' '), 50);
    try {
      const got = await c.closed;
      assert.match(got, /^HTTP\/1\.1 408/);
      assert.ok(c.closedAfterMs() >= BODY_MS - 50 && c.closedAfterMs() < BODY_MS + SLACK_MS, `closed after ${c.closedAfterMs()} ms`);
      assert.equal(sim.stats().requests, 0);
    } finally {
      clearInterval(timer);
    }
  });

  it('a stream that outlives both timeouts keeps flowing to the end', async () => {
    sim.setScenario({ streamChunks: 8, chunkIntervalMs: 300 });
    try {
      const t0 = performance.now();
      const res = await request(`${proxy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'glm-4.7', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      const text = await res.body.text();
      assert.ok(performance.now() - t0 > BODY_MS * 2);
      assert.ok(text.includes('data: [DONE]'));
    } finally {
      sim.resetScenario();
    }
  });
});
