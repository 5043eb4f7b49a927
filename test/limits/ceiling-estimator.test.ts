import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CeilingEstimator, type CeilingOptions } from '../../src/limits/ceiling-estimator.js';

const WINDOW_S = 30;
const opts = (o: Partial<CeilingOptions> = {}): CeilingOptions => ({
  alpha: 0.3,
  holdMargin: 0.02,
  probeInterval: 10,
  minRate: 1,
  maxRate: 50,
  initialRate: 10,
  ...o,
});

/** An estimator past slow start, as after its first refusal: probes wait for the probe interval. */
function settled(o: Partial<CeilingOptions> = {}): CeilingEstimator {
  const est = new CeilingEstimator(opts(o));
  est.restore({ ...CeilingEstimator.initialState(opts(o)), slowStart: false });
  return est;
}

/** One window against an upstream that accepts at most `trueCeiling` req/s of what we send at `rate`. */
function windowAgainst(est: CeilingEstimator, trueCeiling: number) {
  const sent = est.rate * WINDOW_S;
  const ok = Math.min(sent, trueCeiling * WINDOW_S);
  const limited = sent - ok;
  const share = limited / sent;
  est.endWindow({ ok, limited, seconds: WINDOW_S });
  return { share, rate: est.rate };
}

test('converges from 5x above the ceiling to 85-100 % of it within 10 windows, then stays under 2 % 429s', () => {
  const est = new CeilingEstimator(opts({ initialRate: 50, maxRate: 60 }));
  const trace: number[] = [];
  let settledAt = -1;
  for (let w = 1; w <= 10; w++) {
    windowAgainst(est, 10);
    trace.push(Number(est.rate.toFixed(2)));
    if (settledAt < 0 && est.rate >= 8.5 && est.rate <= 10) settledAt = w;
  }
  assert.ok(settledAt > 0 && settledAt <= 10, `trace ${trace.join(' ')}`);
  let limited = 0;
  let sent = 0;
  for (let w = 0; w < 200; w++) {
    const r = windowAgainst(est, 10);
    sent += 1;
    limited += r.share;
    assert.ok(est.rate >= 8.5 && est.rate <= 10.5, `window ${w}: rate ${est.rate}`);
  }
  assert.ok(limited / sent < 0.02, `steady 429 share ${((100 * limited) / sent).toFixed(2)} %`);
  assert.ok(limited / sent < 0.005, 'one +2 % probe per 11 windows costs about 0.2 %');
});

test('finds a doubled ceiling within 10 windows once the probe is due (probe interval 3)', () => {
  const est = new CeilingEstimator(opts({ probeInterval: 3 }));
  for (let w = 0; w < 40; w++) windowAgainst(est, 10);
  assert.ok(est.rate > 9 && est.rate <= 10.2);
  const trace: number[] = [];
  let found = -1;
  for (let w = 1; w <= 12; w++) {
    windowAgainst(est, 20);
    trace.push(Number(est.rate.toFixed(2)));
    if (found < 0 && est.rate >= 17 && est.rate <= 20) found = w;
  }
  assert.ok(found > 0 && found <= 10, `trace ${trace.join(' ')}`);
});

test('with the default probe interval a doubled ceiling is found within interval + 7 windows', () => {
  const est = new CeilingEstimator(opts());
  for (let w = 0; w < 40; w++) windowAgainst(est, 10);
  let found = -1;
  for (let w = 1; w <= 30 && found < 0; w++) {
    windowAgainst(est, 20);
    if (est.rate >= 17) found = w;
  }
  assert.ok(found > 0 && found <= 17, `found at ${found}`);
});

test('a massive 429 window is believed at once; a mild one is smoothed with alpha', () => {
  const massive = new CeilingEstimator(opts({ initialRate: 40 }));
  massive.endWindow({ ok: 300, limited: 900, seconds: 30 }); // sent 40, accepted 10
  assert.ok(Math.abs(massive.ceiling - 10) < 1e-9);
  assert.ok(Math.abs(massive.rate - 9.8) < 1e-9);

  const mild = new CeilingEstimator(opts({ initialRate: 30 }));
  // 6 % refused: accepted 28.2; alpha' = max(0.3, 0.12) = 0.3 → 0.3·28.2 + 0.7·30 = 29.46,
  // clamped to 28.2 (no estimate may stay above what a dirty window accepted).
  mild.endWindow({ ok: 846, limited: 54, seconds: 30 });
  assert.ok(Math.abs(mild.ceiling - 28.2) < 1e-9, String(mild.ceiling));
  assert.ok(mild.rate < 28.2, 'the hold sits below what was accepted');
});

test('the EWMA moves toward, not to, an accepted rate above the ceiling (a dirty probe)', () => {
  const est = settled({ probeInterval: 1, initialRate: 20 });
  est.endWindow({ ok: 600, limited: 0, seconds: 30 }); // probe starts: 20.4
  assert.ok(est.probing);
  // Probe window at 20.4 req/s... suppose the upstream accepted 19.2 (6 % refused)
  est.endWindow({ ok: 576, limited: 36, seconds: 30 });
  assert.equal(est.probing, false);
  assert.ok(Math.abs(est.ceiling - 19.2) < 1e-9, String(est.ceiling));
});

test('bounds: the rate stays in [min, max] under every pressure', () => {
  const est = new CeilingEstimator(opts({ minRate: 2, maxRate: 20, initialRate: 10, probeInterval: 1 }));
  for (let w = 0; w < 30; w++) {
    est.endWindow({ ok: 0, limited: 100, seconds: 30 });
    assert.ok(est.rate >= 2 && est.ceiling >= 2);
  }
  assert.equal(est.rate, 2);
  for (let w = 0; w < 100; w++) {
    est.endWindow({ ok: est.rate * 30, limited: 0, seconds: 30 });
    assert.ok(est.rate <= 20 && est.rate >= 2);
  }
  assert.ok(est.rate >= 19);
});

test('three regimes: > 5 % decreases, 1–5 % holds (keeping the clean count), < 1 % counts clean', () => {
  const est = settled({ initialRate: 30, probeInterval: 100 });
  const at = (limitedPerMille: number) => est.endWindow({ ok: 1000 - limitedPerMille, limited: limitedPerMille, seconds: 1000 / 30 });
  at(9);
  assert.equal(est.cleanWindows, 1);
  at(11);
  assert.equal(est.cleanWindows, 1);
  assert.equal(est.rate, 30);
  at(50);
  assert.equal(est.cleanWindows, 1, 'exactly 5 % is middle');
  at(0);
  assert.equal(est.cleanWindows, 2);
  const before = est.rate;
  assert.equal(at(51).adjustment, 'decrease');
  assert.equal(est.cleanWindows, 0);
  assert.ok(est.rate < before);
});

test('climbs back to the hold point within three clean windows, never past it', () => {
  const est = new CeilingEstimator(opts({ initialRate: 50, maxRate: 50, probeInterval: 100 }));
  est.endWindow({ ok: 1000, limited: 1000, seconds: 40 }); // a large sample accepted 25: ceiling 25, hold 24.5
  assert.equal(est.ceiling, 25);
  const hold = est.ceiling * 0.98;
  est.restore({ ...est.state(), rate: 10 });
  const seen = [est.rate];
  for (let w = 0; w < 8; w++) {
    est.endWindow({ ok: est.rate * 30, limited: 0, seconds: 30 });
    seen.push(est.rate);
  }
  // Each step is at least half the gap and at least a third of the hold point.
  assert.ok(Math.abs(seen[1]! - (10 + Math.max((hold - 10) / 2, hold / 3))) < 1e-9, String(seen));
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]! && seen[i]! <= hold + 1e-9);
  assert.ok(Math.abs(seen[3]! - hold) < 1e-9, `back at the hold point after three windows: ${seen}`);
});

test('no probe while demand does not exercise the current rate', () => {
  const est = new CeilingEstimator(opts({ probeInterval: 2 }));
  for (let w = 0; w < 10; w++) est.endWindow({ ok: 3 * 30, limited: 0, seconds: 30 }); // demand 3 req/s at rate 10
  assert.equal(est.probing, false);
  assert.equal(est.rate, 10);
});

test('a middle probe window collapses back to the held rate under the last proven ceiling', () => {
  const est = settled({ probeInterval: 1, initialRate: 10 });
  est.endWindow({ ok: 300, limited: 0, seconds: 30 });
  assert.ok(est.probing && Math.abs(est.rate - 10.2) < 1e-9);
  est.endWindow({ ok: 300, limited: 6, seconds: 30 }); // 1.96 % refused
  assert.equal(est.probing, false);
  assert.equal(est.ceiling, 10);
  assert.ok(Math.abs(est.rate - 9.8) < 1e-9);
  assert.equal(est.cleanWindows, 0);
});

test('empty windows change nothing; reset returns to the initial rate', () => {
  const est = new CeilingEstimator(opts());
  assert.equal(est.endWindow({ ok: 0, limited: 0, seconds: 30 }).adjustment, 'none');
  est.endWindow({ ok: 10, limited: 290, seconds: 30 });
  assert.ok(est.rate < 2);
  est.reset();
  assert.deepEqual(est.state(), CeilingEstimator.initialState(opts()));
  assert.equal(est.rate, 10);
});
