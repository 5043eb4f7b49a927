import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdmissionRejected, type Permit } from '../../src/limits/admission.js';
import { admission, flush } from './support.js';

const never = () => new AbortController().signal;

test('admits at once while rate and concurrency allow, with no timer armed', async (t) => {
  const { adm, clock } = await admission({ maxWorkers: 2, initialRate: 10 });
  t.after(() => adm.close());
  const timers = clock.pendingTimers; // the window timer only
  const p = await adm.acquire('c0', never());
  assert.equal(p.waitedSeconds, 0);
  assert.equal(clock.pendingTimers, timers);
  assert.equal(adm.snapshot().inFlight, 1);
  p.release('ok');
  p.release('ok'); // a second release is a no-op
  assert.equal(adm.snapshot().inFlight, 0);
});

test('waits for a concurrency slot and gets it when one is released', async (t) => {
  const { adm } = await admission({ maxWorkers: 1 });
  t.after(() => adm.close());
  const first = await adm.acquire('c0', never());
  let second: Permit | undefined;
  void adm.acquire('c1', never()).then((p) => (second = p));
  await flush();
  assert.equal(second, undefined);
  assert.equal(adm.snapshot().queueDepth, 1);
  first.release('ok');
  await flush();
  const got = second as Permit | undefined;
  assert.ok(got);
  got.release('ok');
});

test('waits for a rate token on the injected clock', async (t) => {
  const { adm, clock } = await admission({ maxWorkers: 50, initialRate: 2 });
  t.after(() => adm.close());
  const permits = [await adm.acquire('c0', never()), await adm.acquire('c0', never())]; // burst 2
  let third: Permit | undefined;
  void adm.acquire('c0', never()).then((p) => (third = p));
  await flush();
  assert.equal(third, undefined);
  clock.advance(499);
  await flush();
  assert.equal(third, undefined);
  clock.advance(1);
  await flush();
  const got = third as Permit | undefined;
  assert.ok(got);
  assert.equal(got.waitedSeconds, 0.5);
  for (const p of [...permits, got]) p.release('ok');
});

test('round-robin across client buckets: a busy client cannot starve another', async (t) => {
  const { adm } = await admission({ maxWorkers: 1 });
  t.after(() => adm.close());
  const gate = await adm.acquire('c0', never());
  const order: string[] = [];
  const all = ['a1', 'a2', 'a3', 'b1', 'b2'].map((name) =>
    adm.acquire(name[0] === 'a' ? 'c2' : 'c5', never()).then((p) => {
      order.push(name);
      p.release('ok');
    }),
  );
  await flush();
  gate.release('ok');
  await Promise.all(all);
  assert.deepEqual(order, ['a1', 'b1', 'a2', 'b2', 'a3']);
});

test('queue bound: past QUEUE_MAX the client is rejected with capacity and a Retry-After', async (t) => {
  const { adm, metrics } = await admission({ maxWorkers: 1, queueMax: 2 });
  t.after(() => adm.close());
  const gate = await adm.acquire('c0', never());
  const waiting = [adm.acquire('c1', never()), adm.acquire('c1', never())];
  await assert.rejects(adm.acquire('c3', never()), (e: unknown) => e instanceof AdmissionRejected && e.reason === 'capacity' && e.retryAfterSeconds >= 1);
  const text = await metrics.registry.metrics();
  assert.match(text, /zai_proxy_rate_limit_rejections_total\{reason="capacity",client="c3",variant="test"\} 1/);
  gate.release('ok');
  for (const p of waiting) (await p).release('ok');
});

test('queue timeout on the injected clock rejects the waiter with queue_timeout', async (t) => {
  const { adm, clock } = await admission({ maxWorkers: 1, queueTimeoutMs: 5000 });
  t.after(() => adm.close());
  const gate = await adm.acquire('c0', never());
  const late = adm.acquire('c1', never());
  let settled = false;
  late.catch(() => (settled = true));
  clock.advance(4999);
  await flush();
  assert.equal(settled, false);
  clock.advance(1);
  await assert.rejects(late, (e: unknown) => e instanceof AdmissionRejected && e.reason === 'queue_timeout');
  assert.equal(adm.snapshot().queueDepth, 0);
  gate.release('ok');
});

test('a client that disconnects leaves the queue at once, with its own reason', async (t) => {
  const { adm } = await admission({ maxWorkers: 1 });
  t.after(() => adm.close());
  const gate = await adm.acquire('c0', never());
  const ac = new AbortController();
  const gone = adm.acquire('c1', ac.signal);
  assert.equal(adm.snapshot().queueDepth, 1);
  ac.abort(new Error('client went away'));
  assert.equal(adm.snapshot().queueDepth, 0);
  await assert.rejects(gone, /client went away/);
  await assert.rejects(adm.acquire('c1', ac.signal), /client went away/);
  gate.release('ok');
  assert.equal(adm.snapshot().inFlight, 0, 'the slot was not handed to the departed client');
});

test('blockUntil rejects new and queued requests with quota until the time passes', async (t) => {
  const { adm, clock } = await admission({ maxWorkers: 1 });
  t.after(() => adm.close());
  const gate = await adm.acquire('c0', never());
  const queued = adm.acquire('c1', never());
  adm.blockUntil(clock.now() + 90_500);
  await assert.rejects(queued, (e: unknown) => e instanceof AdmissionRejected && e.reason === 'quota' && e.retryAfterSeconds === 91);
  await assert.rejects(adm.acquire('c1', never()), (e: unknown) => e instanceof AdmissionRejected && e.reason === 'quota');
  assert.equal(adm.snapshot().blockedUntil, clock.now() + 90_500);
  gate.release('ok');
  clock.advance(90_500);
  (await adm.acquire('c1', never())).release('ok');
  assert.equal(adm.snapshot().blockedUntil, undefined);
});

test('setRateCap caps the admitted rate; undefined removes the cap', async (t) => {
  const { adm } = await admission({ initialRate: 10 });
  t.after(() => adm.close());
  adm.setRateCap(3);
  assert.equal(adm.snapshot().rate, 3);
  adm.setRateCap(undefined);
  assert.equal(adm.snapshot().rate, 10);
});

test('frequency 429s over a window lower the rate; 1302s lower the concurrency limit; reset restores both', async (t) => {
  const { adm, clock, metrics } = await admission({ maxWorkers: 8, initialRate: 20, windowMs: 1000 });
  t.after(() => adm.close());
  // Twenty answers, half refused: enough evidence to judge (fewer would wait for more).
  for (let i = 0; i < 20; i++) {
    const p = await adm.acquire('c0', never());
    p.release(i < 10 ? 'ok' : 'frequency');
  }
  clock.advance(1000);
  assert.ok(adm.snapshot().rate < 20);
  assert.ok(adm.snapshot().ceiling < 20);
  assert.match(await metrics.registry.metrics(), /zai_proxy_rate_limit_adjustments_total\{direction="decrease",variant="test"\} 1/);
  // A 1302 while half the limit is in flight lowers it; one while fewer are says nothing about it.
  const held = await Promise.all(Array.from({ length: 4 }, () => adm.acquire('c0', never())));
  held[0]!.release('concurrency');
  assert.equal(adm.snapshot().concurrencyLimit, 4);
  for (const p of held.slice(1)) p.release('ok');
  adm.reset();
  assert.deepEqual([adm.snapshot().rate, adm.snapshot().ceiling, adm.snapshot().concurrencyLimit], [20, 20, 8]);
});

test('gauges follow in-flight, queue depth and utilization', async (t) => {
  const { adm, metrics } = await admission({ maxWorkers: 2 });
  t.after(() => adm.close());
  const a = await adm.acquire('c0', never());
  const text = await metrics.registry.metrics();
  assert.match(text, /zai_proxy_concurrent_requests\{variant="test"\} 1/);
  assert.match(text, /zai_proxy_worker_utilization_ratio\{variant="test"\} 0.5/);
  assert.match(text, /zai_proxy_max_workers\{variant="test"\} 2/);
  assert.match(text, /zai_proxy_rate_limit_requests_per_second\{variant="test"\} 10/);
  a.release('ok');
});

test('disabled: no rate limit, fixed MAX_WORKERS, outcomes teach nothing', async (t) => {
  const { adm } = await admission({ enabled: false, maxWorkers: 3, initialRate: 1 });
  t.after(() => adm.close());
  const ps = await Promise.all([adm.acquire('c0', never()), adm.acquire('c0', never()), adm.acquire('c0', never())]);
  for (const p of ps) p.release('concurrency');
  assert.equal(adm.snapshot().concurrencyLimit, 3);
});

test('names the binding limit (gauge and snapshot), and /health degrades while a client waits past 5 s', async (t) => {
  const { healthStatus } = await import('../../src/proxy/health.js');
  const { adm, clock, metrics } = await admission({ maxWorkers: 1, initialRate: 1, queueTimeoutMs: 60_000 });
  t.after(() => adm.close());
  const binding = async () => {
    const text = await metrics.registry.metrics();
    const on = [...text.matchAll(/zai_proxy_limiter_binding\{limit="(\w+)",variant="test"\} 1/g)].map((m) => m[1]);
    assert.equal(on.length, 1, text);
    assert.equal(on[0], adm.snapshot().binding);
    return on[0];
  };
  assert.equal(await binding(), 'none');
  const held = await adm.acquire('c0', never());
  assert.equal(await binding(), 'none', 'a full slot with nobody waiting holds nobody back');
  const queued = adm.acquire('c1', never());
  await flush();
  assert.equal(await binding(), 'concurrency');
  assert.equal(healthStatus(adm.snapshot()).status, 'ok');
  clock.advance(5_001);
  const health = healthStatus(adm.snapshot());
  assert.equal(health.status, 'degraded');
  assert.match(health.degraded!.reason, /1 client request\(s\) queued, the oldest for 5 s; binding limit: concurrency/);
  held.release('ok');
  // The slot is free now, but the one token a second was spent by the first request.
  const second = await queued;
  const third = adm.acquire('c2', never());
  second.release('ok');
  await flush();
  assert.equal(await binding(), 'learned_rate');
  adm.setRateCap(0.5);
  assert.equal(await binding(), 'quota_pacing');
  clock.advance(3000);
  (await third).release('ok');
  assert.equal(await binding(), 'none');
  adm.blockUntil(clock.now() + 10_000);
  assert.equal(await binding(), 'quota_pacing');
});
