// The limiter's weather benchmark: every named scenario (src/sim/weather/scenarios.ts) played in
// virtual time against the real admission, scored as the weather tests score it, printed as a
// table and written to bench/results/limits.json. Deterministic: the same tree gives the same
// figures on any machine; only the wall time per scenario varies.
// With --live, two weathers also run in real time through a proxy and the simulator.
// Usage: npm run bench:limits [-- --out FILE] [-- --seeds N] [-- --live]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runWeather } from '../src/sim/weather/run.js';
import { type LiveRow, runLive } from './limits-live.js';
import { SCENARIOS } from '../src/sim/weather/scenarios.js';
import { misses, score, TARGETS, type WeatherScore } from '../src/sim/weather/score.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const out = flag('--out') ?? join(import.meta.dirname, 'results', 'limits.json');
const seeds = Math.max(1, Number(flag('--seeds') ?? 3));

interface Row extends WeatherScore {
  seeds: number;
  /** Worst goodput over the seeds (the row's goodput is their mean). */
  worstGoodput: number;
  wallMs: number;
}

const rows: Row[] = [];
for (const s of SCENARIOS) {
  const started = performance.now();
  const scores: WeatherScore[] = [];
  for (let seed = 1; seed <= seeds; seed++) scores.push(score(s, await runWeather({ ...s, seed })));
  const mean = (f: (x: WeatherScore) => number) => scores.reduce((a, x) => a + f(x), 0) / scores.length;
  const max = (f: (x: WeatherScore) => number) => Math.max(...scores.map(f));
  rows.push({
    ...scores[0]!,
    goodput: mean((x) => x.goodput),
    worstGoodput: Math.min(...scores.map((x) => x.goodput)),
    recoveryWindows: max((x) => x.recoveryWindows),
    collapseWindows: max((x) => x.collapseWindows),
    proxyRefusedShare: mean((x) => x.proxyRefusedShare),
    upstreamFailedShare: mean((x) => x.upstreamFailedShare),
    waitP50Ms: mean((x) => x.waitP50Ms),
    waitP95Ms: mean((x) => x.waitP95Ms),
    requests: mean((x) => x.requests),
    seeds,
    wallMs: performance.now() - started,
  });
}

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const header = '| scenario | goodput (worst) | recovery | collapse | proxy 429 | failed after retries | wait p50 / p95 |';
console.log(
  `targets: settled goodput ≥ ${TARGETS.goodput}, recovery ≤ ${TARGETS.recoveryWindows} windows, collapse ≤ ${TARGETS.collapseWindows} windows, proxy-made 429 < ${pct(TARGETS.proxyRefusedShare)}; ${seeds} seeds per scenario\n`,
);
console.log(header);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.name} | ${r.goodput.toFixed(3)} (${r.worstGoodput.toFixed(3)}) | ${r.recoveryWindows} | ${r.collapseWindows} | ${pct(r.proxyRefusedShare)} | ${pct(r.upstreamFailedShare)} | ${(r.waitP50Ms / 1000).toFixed(2)} s / ${(r.waitP95Ms / 1000).toFixed(2)} s |`,
  );
}
let live: LiveRow[] | undefined;
if (args.includes('--live')) {
  live = await runLive();
  console.log('\n| live scenario (real time, 500 ms windows, ceiling 20 req/s) | goodput | recovery | client 429 |');
  console.log('|---|---|---|---|');
  for (const r of live) console.log(`| ${r.name} | ${r.goodput.toFixed(3)} | ${r.recoverySeconds} s | ${r.client429} of ${r.clientAnswers} |`);
}
const missed = rows.flatMap((r) => misses({ ...r, goodput: r.worstGoodput }));
console.log(missed.length ? `\nmissed:\n${missed.join('\n')}` : '\nevery scenario meets its targets');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ at: new Date().toISOString(), targets: TARGETS, rows, live }, null, 2)}\n`);
console.log(`results: ${out}`);
process.exitCode = missed.length ? 1 : 0;
