import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runWeather, type WeatherScenario } from '../../src/sim/weather/run.js';
import { SCENARIOS } from '../../src/sim/weather/scenarios.js';
import { misses, score, TARGETS } from '../../src/sim/weather/score.js';

/**
 * The limiter against Z.AI's weather, in virtual time: the real admission (queue, token bucket,
 * ceiling estimator, concurrency limit) on an injected clock in front of a model upstream, with
 * clients that retry like the proxy. Each scenario plays hundreds of windows in well under a
 * second and is the same every run.
 */
describe('limiter weather (virtual time)', () => {
  for (const s of SCENARIOS) {
    it(`${s.name}: settled goodput ≥ ${TARGETS.goodput}, recovery ≤ ${TARGETS.recoveryWindows} windows, no collapse`, async () => {
      const sc = score(s, await runWeather(s));
      assert.deepEqual(misses(sc), [], JSON.stringify(sc));
      assert.ok(sc.proxyRefusedShare < TARGETS.proxyRefusedShare, `proxy-refused share ${sc.proxyRefusedShare}`);
    });
  }

  it('one retried 1305 in a quiet moment does not collapse the rate (1 s and 30 s windows)', async () => {
    for (const windowMs of [1000, 30_000]) {
      // A learned ceiling of 20; one request a second; one request answered 1305 three times
      // (the proxy's retries); then 40 clients arrive.
      const quiet = 10 * windowMs;
      const s: WeatherScenario = {
        name: `quiet 1305, ${windowMs} ms windows`,
        meanLatencyMs: 500,
        arrivalsRps: (t) => (t < quiet ? 1 : 0),
        late: { clients: 40, at: quiet },
        weather: {
          ceiling: () => 20,
          latencyMs: (u) => 300 + 400 * u,
          randomErrors: (t) => (t >= 2 * windowMs && t < 2 * windowMs + 4000 ? { '1305': 1 } : {}),
        },
        learned: { ceiling: 20, rate: 19.6 },
        admission: { windowMs },
        windows: 20,
        settleWindows: 0,
        transients: [[0, quiet]],
      };
      const r = await runWeather(s);
      assert.ok(r.upstream['1305'] >= 3, `the quiet spell held ${r.upstream['1305']} 1305s`);
      const after = r.windows.filter((w) => w.t > quiet);
      // The 40 arriving at once meet a token burst the upstream refuses in part: a dip bounded by that share.
      assert.ok(
        after.every((w) => w.rate >= 0.85 * 19.6),
        `rate after the quiet spell: ${after.map((w) => w.rate.toFixed(1))}`,
      );
      assert.deepEqual(misses(score(s, r)), []);
    }
  });

  it('two replicas sharing one budget hold one ceiling for the key, not one each', async () => {
    const s = SCENARIOS.find((x) => x.shared)!;
    const r = await runWeather(s);
    const settled = r.windows.slice(50);
    const mean = settled.reduce((a, w) => a + w.ceiling, 0) / settled.length;
    // Each learning alone from half the traffic would sum to about twice the key's ceiling.
    assert.ok(mean >= 0.9 * 20 && mean <= 1.05 * 20, `shared ceiling ${mean.toFixed(1)} vs the key's 20`);
  });

  it('is deterministic: the same scenario gives the same windows', async () => {
    const s = SCENARIOS.find((x) => x.name.includes('1305 spell'))!;
    const [a, b] = [await runWeather(s), await runWeather(s)];
    assert.deepEqual(a.windows, b.windows);
  });

  it('random weather: goodput, recovery and no proxy-made 429s hold for any ceiling, error rate, demand and spell', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          ceiling: fc.integer({ min: 5, max: 60 }),
          randomOverload: fc.double({ min: 0, max: 0.05, noNaN: true }),
          latencyMs: fc.integer({ min: 150, max: 1200 }),
          pressure: fc.double({ min: 1.5, max: 5, noNaN: true }),
          spellAt: fc.integer({ min: 40, max: 100 }),
          spellLength: fc.integer({ min: 0, max: 20 }),
          spellShare: fc.double({ min: 0.1, max: 0.6, noNaN: true }),
          underCeiling: fc.boolean(),
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
        }),
        async (p) => {
          // Windows long enough to hold ~40 answers at the ceiling, as RATE_LIMIT_WINDOW should be.
          const S = Math.max(1000, Math.ceil(40 / p.ceiling) * 1000);
          const spell: [number, number] = [p.spellAt * S, (p.spellAt + p.spellLength) * S];
          const inSpell = (t: number) => p.spellLength > 0 && t >= spell[0] && t < spell[1];
          const demandRps = p.underCeiling ? 0.6 * p.ceiling : p.pressure * p.ceiling;
          const s: WeatherScenario = {
            name: JSON.stringify(p),
            meanLatencyMs: p.latencyMs,
            ...(p.underCeiling ? { arrivalsRps: () => demandRps } : { clients: Math.max(20, Math.ceil((demandRps * p.latencyMs) / 1000)) }),
            weather: {
              ceiling: () => p.ceiling,
              latencyMs: (u) => p.latencyMs * (0.6 + 0.8 * u),
              randomErrors: (t) => ({ '1305': inSpell(t) ? p.spellShare : p.randomOverload }),
            },
            admission: { maxRate: 4 * p.ceiling, maxWorkers: 256, windowMs: S },
            windows: 160,
            // A cold start from 10 req/s to a ceiling of 60 takes a few probes.
            settleWindows: 10,
            transients: p.spellLength > 0 ? [spell] : [],
            seed: p.seed,
          };
          const sc = score(s, await runWeather(s));
          assert.deepEqual(misses(sc), [], JSON.stringify(sc));
          if (p.underCeiling) assert.ok(sc.proxyRefusedShare < TARGETS.proxyRefusedShare, `proxy-refused ${sc.proxyRefusedShare}`);
        },
      ),
      // No shrinking: a failure prints its weather at once instead of minutes later.
      { numRuns: 40, seed: 20261202, endOnFailure: true },
    );
  });
});
