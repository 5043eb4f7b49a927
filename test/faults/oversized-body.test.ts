import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { rawConnect } from '../support/raw-http.js';

/**
 * A chunked body (no Content-Length) that grows past MAX_BODY_BYTES gets 413 in the API's
 * shape and then a closed connection, not a reset: SDKs retry a reset as a network error.
 */
const MAX = 256 * 1024;
type ErrorShape = { type?: string; error: { type: string; code?: string } };

describe('oversized chunked request bodies', () => {
  let sim: Simulator;
  let proxy: TestProxy;
  before(async () => {
    sim = await startSimulator();
    proxy = await startProxyFor(sim, {
      RATE_LIMIT_ENABLED: 'false',
      MAX_BODY_BYTES: String(MAX),
    });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  /** A chunked body of `total` bytes (endless when Infinity). */
  async function* body(total: number) {
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    for (let sent = 0; sent < total; sent += chunk.length) yield chunk;
  }

  for (const [path, shape] of [
    ['/v1/chat/completions', (b: ErrorShape) => b.error.type === 'request_too_large' && b.error.code === 'request_too_large'],
    ['/v1/messages', (b: ErrorShape) => b.type === 'error' && b.error.type === 'request_too_large'],
  ] as const) {
    it(`${path}: 413 in the API's shape with Connection: close, nothing sent upstream`, async () => {
      sim.resetStats();
      const res = await request(`${proxy.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Readable.from(body(MAX * 8)) });
      assert.equal(res.statusCode, 413);
      assert.equal(res.headers.connection, 'close');
      assert.ok(shape((await res.body.json()) as ErrorShape));
      assert.equal(sim.stats().requests, 0);
    });
  }

  it('a client that never stops sending still gets its 413, then the connection closes', async () => {
    const c = await rawConnect(proxy.url);
    c.socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = `4000\r\n${' '.repeat(0x4000)}\r\n`;
    const timer = setInterval(() => c.socket.writable && c.socket.write(chunk), 5);
    try {
      const got = await c.closed;
      assert.match(got, /^HTTP\/1\.1 413/);
      assert.ok(c.closedAfterMs() < 10_000, `closed after ${c.closedAfterMs()} ms`);
    } finally {
      clearInterval(timer);
    }
    const health = await request(`${proxy.url}/health`);
    assert.equal(health.statusCode, 200);
    await health.body.dump();
  });
});
