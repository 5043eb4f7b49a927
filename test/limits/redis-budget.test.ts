import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { requireBinary } from '../support/binaries.js';
import { RedisServer } from '../support/redis-server.js';
import { pollUntil } from '../support/wait.js';
import { Admission } from '../../src/limits/admission.js';
import { systemClock } from '../../src/limits/clock.js';
import { createMetrics } from '../../src/metrics/catalogue.js';
import { options, silentLog } from './support.js';

const redisBin = requireBinary('redis-server');
let redis: RedisServer | undefined;

before(async () => {
  if (redisBin.skip) return;
  redis = await RedisServer.start(redisBin.path!);
});
after(() => redis?.stop());

function replica(rate: number) {
  return new Admission(
    options({ redisUrl: redis!.url, initialRate: rate, maxRate: rate, minRate: 1, maxWorkers: 100, queueMax: 1000, queueTimeoutMs: 20_000, windowMs: 600_000 }),
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
  const each = 30;
  // A signal per request, as the proxy gives each: sixty waiters on one signal trip Node's listener-leak warning.
  await Promise.all([a, b].flatMap((adm) => Array.from({ length: each }, () => adm.acquire('c1', new AbortController().signal).then((p) => p.release('ok')))));
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
  await redis!.stop();
  await pollUntil(() => adm.snapshot().sharedState === 'redis_unavailable', 'the outage to be noticed', 5000);
  for (let i = 0; i < 5; i++) (await adm.acquire('c0', signal)).release('ok');
  await redis!.start();
  await pollUntil(() => adm.snapshot().sharedState === 'redis', 'the limiter to reconnect', 10_000);
  (await adm.acquire('c0', signal)).release('ok');
});
