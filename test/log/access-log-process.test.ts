import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { spawnProxyFor } from '../support/proxy-process.js';

const BODY = JSON.stringify({ model: 'glm-4.7', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });

const serve = (sim: Simulator) => spawnProxyFor(sim, { RATE_LIMIT_INITIAL: '5000', RATE_LIMIT_MAX: '5000', MAX_WORKERS: '64', LOG_LEVEL: 'info' });

async function send(url: string, n: number, concurrency: number): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        const t0 = performance.now();
        const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
        await res.body.text();
        assert.equal(res.statusCode, 200);
        times.push(performance.now() - t0);
      }
    }),
  );
  return times;
}

const accessLines = (text: string) => text.split('\n').filter((l) => l.includes('"component":"access"')).length;

describe('access log of a real proxy process', () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator();
  });
  after(async () => {
    await sim.close();
  });

  it('loses no line on SIGTERM right after the last answer', async () => {
    const { child, url, logs } = await serve(sim);
    await send(url, 300, 8);
    child.kill('SIGTERM');
    const [code] = await once(child, 'close');
    assert.equal(code, 0);
    assert.equal(accessLines(logs()), 300);
  });

  it('answers at full speed while nobody reads its log, and writes the backlog once read again', async () => {
    const { child, url, logs } = await serve(sim);
    child.stdout!.pause(); // the pipe (64 KiB) fills after a few hundred lines
    const times = await send(url, 3000, 8);
    times.sort((a, b) => a - b);
    // Loose enough for a loaded 2-core machine; a log write on the request path would stall
    // every request once the pipe is full.
    assert.ok(times[Math.floor(times.length * 0.99)]! < 1_000, `p99 ${times[Math.floor(times.length * 0.99)]} ms`);
    child.stdout!.resume();
    child.kill('SIGTERM');
    await once(child, 'close');
    assert.equal(accessLines(logs()), 3000);
  });
});
