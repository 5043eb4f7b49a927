import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuotaPacer, type RateGate } from '../../src/quota/pacing.js';
import type { QuotaSample } from '../../src/quota/parse.js';

/**
 * The limiter stand-in: its own rate, the pacer's cap and block, as the real limiter combines
 * them (admitted = min(own, cap), nothing while blocked). It records every call.
 */
class RecordingGate implements RateGate {
  cap: number | undefined;
  blockedUntil: number | undefined;
  readonly capCalls: Array<number | undefined> = [];
  readonly blockCalls: Array<number | undefined> = [];
  constructor(public own: number) {}
  setRateCap(rps: number | undefined): void {
    this.cap = rps;
    this.capCalls.push(rps);
  }
  blockUntil(epochMs: number | undefined): void {
    this.blockedUntil = epochMs;
    this.blockCalls.push(epochMs);
  }
  snapshot() {
    return { rate: Math.min(this.own, this.cap ?? Infinity) };
  }
}

const MIN = 60_000;
const T0 = 1_800_000_000_000;

/**
 * One five-hour window under a steady offered load, sampled once a minute (the poller's
 * default). Each admitted request burns `perRequest` of the window. Returns what happened.
 */
function run(opts: {
  pacer: boolean;
  gate: RateGate & { snapshot(): { rate: number } };
  offered: (minute: number) => number;
  perRequest: number;
  used0: number;
  resetInMin: number;
  minutes: number;
  floorRps?: number;
}) {
  let now = T0;
  const clock = { now: () => now };
  const pacer = opts.pacer ? new QuotaPacer(opts.gate, { floorRps: opts.floorRps ?? 0.2 }, clock) : undefined;
  const resetAtMs = T0 + opts.resetInMin * MIN;
  let used = opts.used0;
  let exhaustedAtMin: number | undefined;
  const admittedByMinute: number[] = [];
  const sample = (): QuotaSample => ({
    fetchedAtMs: now,
    limits: [{ window: 'five_hour', limitType: 'credit_limit', usedRatio: Math.min(1, used), remainingRatio: 1 - Math.min(1, used), resetAtMs }],
  });
  pacer?.onSample(sample());
  for (let m = 1; m <= opts.minutes; m++) {
    const admitted = Math.min(opts.offered(m), opts.gate.snapshot().rate);
    admittedByMinute.push(admitted);
    used += admitted * opts.perRequest * 60;
    now += MIN;
    if (used >= 1 && exhaustedAtMin === undefined) exhaustedAtMin = m;
    pacer?.onSample(sample());
  }
  return { used, exhaustedAtMin, admittedByMinute, pacer, resetAtMs, now };
}

// 2 req/s offered, 0.0125 % of the window per request: from 10 % used, the window would run
// out after 60 minutes; it resets after 180. The budget that lasts is (0.9 − 0.02 reserve) over
// 3 h = 8.15e-5 per second, i.e. 0.652 req/s.
const PER_REQUEST = 1.25e-4;
const SUSTAINABLE = (0.9 - 0.02) / (180 * 60) / PER_REQUEST;

test('observe-only (no pacer): the window runs out long before its reset and the gate is never touched', () => {
  const gate = new RecordingGate(5);
  const r = run({ pacer: false, gate, offered: () => 2, perRequest: PER_REQUEST, used0: 0.1, resetInMin: 180, minutes: 180 });
  assert.equal(r.exhaustedAtMin, 60);
  assert.deepEqual(gate.capCalls, []);
  assert.deepEqual(gate.blockCalls, []);
});

test('a window that would run out at the offered load: the cap bends so exhaustion moves to the reset', () => {
  const gate = new RecordingGate(5);
  const r = run({ pacer: true, gate, offered: () => 2, perRequest: PER_REQUEST, used0: 0.1, resetInMin: 180, minutes: 180 });
  assert.equal(r.exhaustedAtMin, undefined, 'never ran out before the reset');
  assert.ok(r.used > 0.9, `the budget was used, not hoarded (used ${r.used})`);
  // The first cap comes after two samples (one burn measurement), and it is below the offered load.
  assert.equal(gate.capCalls.length > 0, true);
  assert.ok(gate.capCalls[0]! < 2, `first cap ${gate.capCalls[0]}`);
  // Once the burn estimate has settled, the admitted rate is the rate that lasts until the reset.
  const settled = r.admittedByMinute.slice(30, 150);
  for (const rate of settled) assert.ok(Math.abs(rate - SUSTAINABLE) / SUSTAINABLE < 0.1, `admitted ${rate} vs sustainable ${SUSTAINABLE}`);
});

test('projection at the settled cap: exhaustion lands at the reset, not before', () => {
  const gate = new RecordingGate(5);
  const r = run({ pacer: true, gate, offered: () => 2, perRequest: PER_REQUEST, used0: 0.1, resetInMin: 180, minutes: 90 });
  const burnPerSecond = gate.snapshot().rate * PER_REQUEST;
  const projectedExhaustion = r.now + ((1 - r.used) / burnPerSecond) * 1000;
  assert.ok(projectedExhaustion >= r.resetAtMs, 'projected exhaustion is not before the reset');
  assert.ok(projectedExhaustion - r.resetAtMs < 15 * MIN, `…and not far after it (${(projectedExhaustion - r.resetAtMs) / MIN} min)`);
  const snap = r.pacer!.snapshot();
  assert.equal(snap.capRps, gate.cap);
  assert.equal(snap.windows.length, 1);
  assert.equal(snap.windows[0]!.window, 'five_hour');
});

test('a safe projection sets no cap at all', () => {
  const gate = new RecordingGate(5);
  const r = run({ pacer: true, gate, offered: () => 0.5, perRequest: PER_REQUEST, used0: 0.1, resetInMin: 180, minutes: 180 });
  assert.equal(r.exhaustedAtMin, undefined);
  assert.deepEqual(gate.capCalls, []);
  assert.deepEqual(gate.blockCalls, []);
});

test('the cap is lifted once load falls and the projection is safe again', () => {
  const gate = new RecordingGate(5);
  const r = run({ pacer: true, gate, offered: (m) => (m <= 40 ? 2 : 0.2), perRequest: PER_REQUEST, used0: 0.1, resetInMin: 180, minutes: 70 });
  assert.ok(
    gate.capCalls.some((c) => c !== undefined),
    'was capped',
  );
  assert.equal(gate.cap, undefined, `cap lifted (calls ${gate.capCalls.map((c) => c?.toFixed(2)).join(' ')})`);
  assert.equal(r.pacer!.snapshot().capRps, undefined);
  // The cap rose step by step (≤ 25 % a sample) before it was lifted.
  const defined = gate.capCalls.filter((c): c is number => c !== undefined);
  const peak = defined.indexOf(Math.min(...defined));
  for (let i = peak + 1; i < defined.length; i++) assert.ok(defined[i]! <= defined[i - 1]! * 1.25 + 1e-9);
});

test('the cap never goes below the floor that interactive use needs', () => {
  const gate = new RecordingGate(5);
  // 0.1 % per request: only 0.08 req/s would last until the reset; the floor holds at 0.2.
  run({ pacer: true, gate, offered: () => 2, perRequest: 1e-3, used0: 0.1, resetInMin: 180, minutes: 5, floorRps: 0.2 });
  assert.ok(gate.capCalls.length > 0);
  assert.ok(
    gate.capCalls.every((c) => c === undefined || c >= 0.2),
    gate.capCalls.join(' '),
  );
  assert.equal(gate.cap, 0.2);
});

test('an exhausted window in a sample blocks admission until its reset; a later healthy sample clears it', () => {
  let now = T0;
  const gate = new RecordingGate(5);
  const pacer = new QuotaPacer(gate, { floorRps: 0.2 }, { now: () => now });
  const reset = T0 + 90 * MIN;
  pacer.onSample({ fetchedAtMs: now, limits: [{ window: 'weekly', limitType: 'credit_limit', usedRatio: 1, remainingRatio: 0, resetAtMs: reset }] });
  assert.deepEqual(gate.blockCalls, [reset]);
  assert.equal(pacer.snapshot().blockedUntilMs, reset);
  // the same state again: no repeated call
  now += MIN;
  pacer.onSample({ fetchedAtMs: now, limits: [{ window: 'weekly', limitType: 'credit_limit', usedRatio: 1, remainingRatio: 0, resetAtMs: reset }] });
  assert.deepEqual(gate.blockCalls, [reset]);
  // the provider raised the limit: the sample no longer shows exhaustion
  now += MIN;
  pacer.onSample({ fetchedAtMs: now, limits: [{ window: 'weekly', limitType: 'credit_limit', usedRatio: 0.5, remainingRatio: 0.5, resetAtMs: reset }] });
  assert.deepEqual(gate.blockCalls, [reset, undefined]);
  // exhausted without an advertised reset: nothing to block until
  pacer.onSample({ fetchedAtMs: now + 1, limits: [{ window: 'weekly', limitType: 'credit_limit', usedRatio: 1, remainingRatio: 0 }] });
  assert.deepEqual(gate.blockCalls, [reset, undefined]);
});

test('a 1308/1310 upstream blocks until the announced reset, which samples do not shorten', () => {
  let now = T0;
  const gate = new RecordingGate(5);
  const pacer = new QuotaPacer(gate, { floorRps: 0.2 }, { now: () => now });
  pacer.onQuotaExhausted(T0 - 1); // already past: ignored
  pacer.onQuotaExhausted(Number.NaN);
  assert.deepEqual(gate.blockCalls, []);
  const reset = T0 + 3 * 3_600_000;
  pacer.onQuotaExhausted(reset);
  assert.deepEqual(gate.blockCalls, [reset]);
  pacer.onQuotaExhausted(reset - MIN); // an earlier reset does not shorten the block
  assert.deepEqual(gate.blockCalls, [reset]);
  now += MIN;
  pacer.onSample({ fetchedAtMs: now, limits: [{ window: 'five_hour', limitType: 'credit_limit', usedRatio: 0.99, remainingRatio: 0.01, resetAtMs: reset }] });
  assert.deepEqual(gate.blockCalls, [reset]);
  // a reset absurdly far away is bounded (32 days)
  pacer.onQuotaExhausted(now + 400 * 86_400_000);
  assert.deepEqual(gate.blockCalls, [reset, now + 32 * 86_400_000]);
  // after the reset, the next sample releases the gate
  now = now + 33 * 86_400_000;
  pacer.onSample({ fetchedAtMs: now, limits: [] });
  assert.equal(gate.blockCalls.at(-1), undefined);
  assert.equal(pacer.snapshot().blockedUntilMs, undefined);
});

test('windows are paced independently: the tighter one sets the cap', () => {
  let now = T0;
  const gate = new RecordingGate(5);
  const pacer = new QuotaPacer(gate, { floorRps: 0.1, reserveFraction: 0 }, { now: () => now });
  const fiveHourReset = T0 + 100 * MIN;
  const weeklyReset = T0 + 3 * 86_400_000;
  const at = (fiveHour: number, weekly: number): QuotaSample => ({
    fetchedAtMs: now,
    limits: [
      { window: 'five_hour', limitType: 'credit_limit', usedRatio: fiveHour, remainingRatio: 1 - fiveHour, resetAtMs: fiveHourReset },
      { window: 'weekly', limitType: 'credit_limit', usedRatio: weekly, remainingRatio: 1 - weekly, resetAtMs: weeklyReset },
    ],
  });
  pacer.onSample(at(0.2, 0.9));
  now += MIN;
  // one minute at 5 req/s burnt 0.3 % of the five-hour window (safe: 0.8 over 99 min needs ≤ 0.81 %/min)
  // and 0.1 % of the weekly one (unsafe: 0.1 left over 3 days allows 0.0023 %/min).
  pacer.onSample(at(0.203, 0.901));
  const weeklyAllowed = (1 - 0.901) / ((weeklyReset - now) / 1000);
  const weeklyPerRps = 0.001 / 60 / 5;
  assert.ok(Math.abs(gate.cap! - weeklyAllowed / weeklyPerRps) < 1e-9, `cap ${gate.cap}`);
  const snap = pacer.snapshot();
  assert.deepEqual(
    snap.windows.map((w) => [w.window, w.atRisk]),
    [
      ['five_hour', false],
      ['weekly', true],
    ],
  );
});

test('a rollover keeps the burn estimate and starts the fresh window uncapped', () => {
  let now = T0;
  const gate = new RecordingGate(5);
  const pacer = new QuotaPacer(gate, { floorRps: 0.2 }, { now: () => now });
  let reset = T0 + 30 * MIN;
  const s = (used: number): QuotaSample => ({
    fetchedAtMs: now,
    limits: [{ window: 'five_hour', limitType: 'tokens_limit', usedRatio: used, remainingRatio: 1 - used, resetAtMs: reset }],
  });
  pacer.onSample(s(0.97));
  now += MIN;
  pacer.onSample(s(0.972)); // 0.2 %/min at 5 req/s: the last 1 % (after the 2 % reserve) lasts 5 of the 29 minutes
  assert.ok(gate.cap! < 5);
  const burn = pacer.snapshot().windows[0]!.burnPerRps;
  reset += 5 * 3_600_000; // the window rolled over: usage drops, reset moves on
  now += MIN;
  pacer.onSample(s(0.01));
  assert.equal(pacer.snapshot().windows[0]!.burnPerRps, burn, 'the estimate describes the workload, not the window');
  assert.equal(gate.cap, undefined, 'a fresh window with a safe projection does not climb back from the old cap');
  // a heavier workload in the new window (10 %/min) is capped again
  now += MIN;
  pacer.onSample(s(0.11));
  assert.ok(gate.cap! < 5);
});

test('a stale quota lifts the cap but keeps a block; a blocked interval is not a burn measurement', () => {
  let now = T0;
  const gate = new RecordingGate(5);
  const pacer = new QuotaPacer(gate, { floorRps: 0.2 }, { now: () => now });
  const reset = T0 + 60 * MIN;
  const s = (used: number): QuotaSample => ({
    fetchedAtMs: now,
    limits: [{ window: 'five_hour', limitType: 'credit_limit', usedRatio: used, remainingRatio: 1 - used, resetAtMs: reset }],
  });
  pacer.onSample(s(0.5));
  now += MIN;
  pacer.onSample(s(0.6));
  const burn = pacer.snapshot().windows[0]!.burnPerRps;
  pacer.onQuotaExhausted(now + 10 * MIN);
  now += MIN;
  pacer.onSample(s(0.6)); // blocked: nothing burnt, and that is not the workload getting cheaper
  assert.equal(pacer.snapshot().windows[0]!.burnPerRps, burn);
  assert.ok(gate.cap !== undefined);
  pacer.onStale();
  assert.equal(gate.cap, undefined);
  assert.equal(gate.blockedUntil, T0 + 11 * MIN);
  assert.deepEqual(pacer.snapshot().windows, []);
});

test('options are validated', () => {
  const gate = new RecordingGate(1);
  assert.throws(() => new QuotaPacer(gate, { floorRps: 0 }), RangeError);
  assert.throws(() => new QuotaPacer(gate, { floorRps: Number.NaN }), RangeError);
  assert.throws(() => new QuotaPacer(gate, { floorRps: 1, smoothing: 0 }), RangeError);
  assert.throws(() => new QuotaPacer(gate, { floorRps: 1, reserveFraction: 1 }), RangeError);
  assert.throws(() => new QuotaPacer(gate, { floorRps: 1, maxIncrease: 0.5 }), RangeError);
});
