import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { requireBinary } from '../support/binaries.js';
import { Admission } from '../../src/limits/admission.js';
import { systemClock } from '../../src/limits/clock.js';
import { createMetrics } from '../../src/metrics/catalogue.js';
import { options, silentLog } from './support.js';

const redisBin = requireBinary('redis-server');
let port = 0;
let redis: ChildProcess | undefined;

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const p = (srv.address() as { port: number }).port;
  srv.close();
  return p;
}

async function startRedis(): Promise<void> {
  redis = spawn(redisBin.path!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  redis.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('Ready to accept connections'), 10_000, 'redis-server did not start');
}

async function stopRedis(): Promise<void> {
  if (!redis || redis.exitCode !== null) return;
  const exited = once(redis, 'exit');
  redis.kill('SIGKILL');
  await exited;
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; i < 10_000 && !cond(); i++) {
    if (Date.now() > deadline) throw new Error(what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  if (redisBin.skip) return;
  port = await freePort();
  await startRedis();
});
after(stopRedis);

function replica(rate: number) {
  return new Admission(
    options({ redisUrl: `redis://127.0.0.1:${port}`, initialRate: rate, maxRate: rate, minRate: 1, maxWorkers: 100, queueMax: 1000, queueTimeoutMs: 20_000, windowMs: 600_000 }),
    createMetrics('test', { processMetrics: false }),
    silentLog,
    systemClock,
  );
}

test('two replicas sharing Redis admit together no more than one budget', { skip: redisBin.skip }, async (t) => {
  const a = replica(20);
  const b = replica(20);
  t.after(async () => {
    await a.close();
    await b.close();
  });
  await Promise.all([a.start(), b.start()]);
  assert.equal(a.snapshot().sharedState, 'redis');
  const started = Date.now();
  const signal = new AbortController().signal;
  const each = 30;
  await Promise.all(
    [a, b].flatMap((adm) => Array.from({ length: each }, () => adm.acquire('c1', signal).then((p) => p.release('ok')))),
  );
  const elapsed = (Date.now() - started) / 1000;
  // One shared bucket (burst 20, 20/s) needs (60 − 20) / 20 = 2 s for 60 admissions; two
  // private buckets would need only (30 − 20) / 20 = 0.5 s.
  assert.ok(elapsed >= 1.8, `60 admissions took ${elapsed.toFixed(2)} s`);
});

test('a Redis outage degrades to local limits without failing requests, and Redis is picked up again', { skip: redisBin.skip }, async (t) => {
  const adm = replica(50);
  t.after(() => adm.close());
  await adm.start();
  const signal = new AbortController().signal;
  (await adm.acquire('c0', signal)).release('ok');
  assert.equal(adm.snapshot().sharedState, 'redis');
  await stopRedis();
  await waitFor(() => adm.snapshot().sharedState === 'redis_unavailable', 5000, 'outage not noticed');
  for (let i = 0; i < 5; i++) (await adm.acquire('c0', signal)).release('ok');
  await startRedis();
  await waitFor(() => adm.snapshot().sharedState === 'redis', 10_000, 'did not reconnect');
  (await adm.acquire('c0', signal)).release('ok');
});
