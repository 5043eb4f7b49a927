import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { request } from 'undici';
import { ChunkGate, SlidingWindowCeiling } from '../../src/sim/limits.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { MESSAGES, post } from './support.js';

describe('SlidingWindowCeiling', () => {
  it('admits exactly rps per sliding window and does not count rejections', () => {
    const c = new SlidingWindowCeiling();
    const admitted = (t: number, n: number) => Array.from({ length: n }, () => c.tryAdmit(t, 3, 1000)).filter(Boolean).length;
    assert.equal(admitted(0, 5), 3);
    assert.equal(admitted(999, 5), 0, 'still inside the window that started at 0');
    assert.equal(admitted(1000, 5), 3, 'the three from t=0 have left the window');
    assert.equal(admitted(1500, 1), 0);
    assert.equal(admitted(2000, 2), 2);
  });
});

describe('ChunkGate', () => {
  it('keeps credits released before anyone waits and wakes waiters in order', async () => {
    const g = new ChunkGate();
    g.release(1);
    await g.acquire().ready;
    const order: number[] = [];
    const a = g.acquire().ready.then(() => order.push(1));
    const b = g.acquire().ready.then(() => order.push(2));
    g.release(2);
    await Promise.all([a, b]);
    assert.deepEqual(order, [1, 2]);
  });
});

describe('simulator limits over HTTP', () => {
  let sim: Simulator;
  let clock = 1_000_000;
  before(async () => {
    sim = await startSimulator({ now: () => clock });
  });
  after(() => sim.close());
  beforeEach(() => {
    sim.resetScenario();
    sim.resetStats();
  });

  const chat = (stream = false) => post(`${sim.openaiBaseUrl}/chat/completions`, { model: 'glm-4.7', messages: MESSAGES, stream });

  it('a concurrent burst past the rate ceiling: exactly the excess gets 429 / 1303, then the next window admits again', async () => {
    sim.setScenario({ rateLimit: { rps: 4 } });
    const results = await Promise.all(Array.from({ length: 10 }, () => chat()));
    const rejected = results.filter((r) => r.status === 429);
    assert.equal(rejected.length, 6);
    assert.ok(rejected.every((r) => JSON.parse(r.text).error.code === '1303'));
    assert.equal(sim.stats().byOutcome['1303'], 6);
    assert.equal(sim.stats().byOutcome.ok, 4);
    clock += 1000;
    const next = await Promise.all(Array.from({ length: 5 }, () => chat()));
    assert.equal(next.filter((r) => r.status === 200).length, 4);
  });

  it('in-flight streams beyond the concurrency limit get 429 / 1302, in the flat shape when asked', async () => {
    sim.setScenario({ concurrencyLimit: 2, gateChunks: true, streamChunks: 1, errorShape: 'flat' });
    const open = [chat(true), chat(true)];
    await sim.waitFor((s) => s.inFlight === 2);
    const extra = await chat(true);
    assert.equal(extra.status, 429);
    const flat = JSON.parse(extra.text);
    assert.equal(flat.code, 1302);
    assert.equal(typeof flat.msg, 'string');
    assert.equal(flat.error, undefined);
    sim.releaseChunk(2);
    const done = await Promise.all(open);
    assert.ok(done.every((r) => r.status === 200));
    const s = await sim.waitFor((st) => st.inFlight === 0);
    assert.equal(s.maxInFlight, 2);
    assert.equal(s.byOutcome['1302'], 1);
  });

  it('gated chunks are written one release at a time', async () => {
    sim.setScenario({ gateChunks: true, streamChunks: 3 });
    const res = await request(`${sim.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'glm-4.7', messages: MESSAGES, stream: true }),
    });
    assert.equal(res.statusCode, 200);
    assert.equal(sim.stats().chunksSent, 0);
    let text = '';
    const iterator = res.body[Symbol.asyncIterator]();
    for (let i = 1; i <= 3; i++) {
      if (i === 3) {
        // The last release goes through the control endpoint, as another process would do it.
        const r = await request(`${sim.url}/_sim/release?n=1`, { method: 'POST' });
        await r.body.text();
      } else sim.releaseChunk();
      for (let reads = 0; text.split('\n\n').length - 1 < i && reads < 100; reads++) {
        const { value, done } = await iterator.next();
        if (done) break;
        text += Buffer.from(value as Uint8Array).toString('utf8');
      }
      assert.equal(text.split('\n\n').length - 1 >= i, true);
      assert.equal(sim.stats().chunksSent, i, `chunk ${i + 1} must not be sent before its release`);
    }
    for (let reads = 0; reads < 100; reads++) {
      const { value, done } = await iterator.next();
      if (done) break;
      text += Buffer.from(value as Uint8Array).toString('utf8');
    }
    assert.match(text, /data: \[DONE\]\n\n$/);
  });

  it('counts a client that goes away mid-stream as an abort and frees its slot', async () => {
    sim.setScenario({ gateChunks: true });
    const ac = new AbortController();
    const res = await request(`${sim.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'glm-4.7', messages: MESSAGES, stream: true }),
      signal: ac.signal,
    });
    assert.equal(res.statusCode, 200);
    await sim.waitFor((s) => s.inFlight === 1);
    ac.abort();
    await res.body.text().catch(() => undefined);
    const s = await sim.waitFor((st) => st.clientAborts === 1 && st.inFlight === 0);
    assert.equal(s.chunksSent, 0);
  });
});
