import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO_CEILING_RPS, startDemo, VARIANTS, type Demo, type WeatherName } from '../../src/demo/main.js';
import { formatWindow, recordWindows, recoveries, type Recorder } from '../../src/demo/recovery.js';

/**
 * The demo through its storms, for real: simulator, stable and canary proxies, dashboard and
 * synthetic traffic over loopback, short limiter windows. Every window is traced (served per
 * proxy, simulator 2xx, each limiter's rate and ceiling) and printed as a diagnostic.
 *
 * This is a wiring check, not a measure of the law: after each storm neither proxy stays
 * collapsed (the defect this guards against held one proxy at a fifth of its rate for minutes).
 * Two independent limiters share one simulator key here, so how the recovered rate splits
 * between them moves from run to run, and a window holds only some 20 requests per proxy on a
 * loaded 2-core machine whose timers run late; the bars are set well below what a healthy run
 * shows (in a run on an idle machine: together 71–100 % of the ceiling, each proxy 77–100 % of
 * its pre-storm rate, within six windows) so that only a collapse fails them. How fast and how closely the law itself
 * recovers is proven deterministically in virtual time (test/limits/weather.test.ts).
 */
const WINDOW_MS = 3_000;
// Ten windows between storms: a storm and its recovery never run into the next one.
const PERIOD_S = 30;
const STORMS: WeatherName[] = ['1302 storm', '1305 spell', 'ceiling halves'];
/** Share of the simulator's ceiling served by both proxies together. */
const TOGETHER = 0.6;
/** Share of its own pre-storm rate each proxy's clients are served again. */
const EACH = 0.5;
const WITHIN = 6;

describe('demo weather: both proxies recover after each storm', () => {
  let demo: Demo;
  let rec: Recorder;

  before(async () => {
    demo = await startDemo({ port: 0, logLevel: 'silent', limiterWindowMs: WINDOW_MS, weatherEverySec: PERIOD_S, weather: STORMS, scrapeIntervalMs: 5_000 });
    rec = recordWindows(demo, WINDOW_MS);
  });
  after(async () => {
    rec?.stop();
    await demo?.close();
  });

  it(`is not left collapsed: within ${WITHIN} windows together above ${TOGETHER * 100} % of the ceiling, each proxy above ${EACH * 100} % of its rate before`, async (t) => {
    // Every storm played, and the last one given its windows to recover (a hard bound).
    const deadline = Date.now() + (STORMS.length * PERIOD_S + 60) * 1000;
    for (;;) {
      const last = demo.weather[STORMS.length - 1];
      const done = last?.endedAt !== undefined && Date.now() - last.endedAt > (WITHIN + 1) * WINDOW_MS;
      if (done || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    rec.stop();
    for (const w of rec.windows) t.diagnostic(formatWindow(w));
    const events = demo.weather.slice(0, STORMS.length);
    assert.deepEqual(
      events.map((e) => e.name),
      STORMS,
      'every storm played',
    );
    for (const r of recoveries(rec.windows, events, WINDOW_MS, DEMO_CEILING_RPS, { together: TOGETHER, each: EACH })) {
      t.diagnostic(
        `${r.name}: together ${r.combined ?? 'never'}, ${VARIANTS.map((v, i) => `${v} ${r.variants[i] ?? 'never'} (from ${r.baselines[i]!.toFixed(1)}/s)`).join(', ')} windows`,
      );
      assert.ok(r.endedAt !== undefined, `${r.name} ended`);
      // Before the storm each proxy was served something: the baseline is not vacuous.
      for (const [i, v] of VARIANTS.entries()) assert.ok(r.baselines[i]! >= 0.1 * DEMO_CEILING_RPS, `${v} was served before ${r.name}: ${r.baselines[i]}/s`);
      assert.ok(
        r.combined !== undefined && r.combined <= WITHIN,
        `${r.name}: the simulator back above ${TOGETHER * 100} % of its ceiling within ${WITHIN} windows (took ${r.combined ?? 'never'})`,
      );
      for (const [i, v] of VARIANTS.entries()) {
        assert.ok(
          r.variants[i] !== undefined && r.variants[i]! <= WITHIN,
          `${r.name}: ${v} back above ${EACH * 100} % of its pre-storm rate within ${WITHIN} windows (took ${r.variants[i] ?? 'never'})`,
        );
      }
    }
  });
});
