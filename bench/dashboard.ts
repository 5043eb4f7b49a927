// Dashboard figures (run: node --import tsx bench/dashboard.ts): scrape+parse+store time for a
// 2,000-series page, history query time per UI range and for 7 days at 1m, disk bytes per day per
// variant. One run, medians.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../src/dashboard/sources/collector.js';
import { parseTargets } from '../src/dashboard/sources/targets.js';
import { HistoryStore } from '../src/dashboard/store/history-store.js';
import { autoResolution } from '../src/dashboard/api/params.js';
import type { Resolution } from '../src/dashboard/model.js';
import { parseDurationMs } from '../src/config/fields.js';
import { createMetrics, DURATION_BUCKETS } from '../src/metrics/catalogue.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// A page of about 2,000 series: many request label sets with duration histograms (17 series each).
const metrics = createMetrics('stable');
let series = 0;
for (let i = 0; series < 2_000; i++) {
  const labels = { method: 'POST', path: `/v1/chat/completions`, status_code: String(200 + i) };
  metrics.zai_proxy_requests_total.inc(labels, 1 + i);
  metrics.zai_proxy_request_duration_seconds.observe(labels, 0.1 * (i % 30));
  series += 1 + DURATION_BUCKETS.length + 3;
}
const tick = () => {
  for (let i = 0; i < 100; i++) metrics.zai_proxy_requests_total.inc({ method: 'POST', path: '/v1/chat/completions', status_code: String(200 + i) });
};
const server = createServer((_req, res) => void metrics.registry.metrics().then((t) => res.end(t)));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
const pageText = await metrics.registry.metrics();
const pageSeries = pageText.split('\n').filter((l) => l && !l.startsWith('#')).length;

const dir = mkdtempSync(join(tmpdir(), 'dash-bench-'));
const DAY = 86_400_000;
const store = HistoryStore.open(join(dir, 'bench.sqlite'), { retentionMs: { '5s': DAY, '1m': 7 * DAY, '1h': 90 * DAY } });
let clock = Date.UTC(2026, 0, 1);
const collector = new Collector({ targets: parseTargets([url]), intervalMs: 5_000, timeoutMs: 3_000, now: () => clock });
const roundTimes: number[] = [];
for (let i = 0; i < 40; i++) {
  tick();
  const t0 = performance.now();
  const r = await collector.round(clock);
  store.write(r.snapshots);
  store.rollup(clock);
  roundTimes.push(performance.now() - t0);
  clock += 5_000;
}
server.close();

// Stored snapshots vary from round to round: every figure except ts is jittered (full float
// precision), so compression is measured on realistic text, not on one row repeated.
let seed = 42;
const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
function jitter<T>(v: T): T {
  if (typeof v === 'number') return (Number.isInteger(v) ? Math.round(v * (0.5 + rand())) : v * (0.5 + rand())) as T;
  if (Array.isArray(v)) return v.map(jitter) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'ts' ? x : jitter(x)])) as T;
  return v;
}
const sample = store.latest()[0]!;
const hist = {
  latency: new Array(16).fill(3),
  ttfb: new Array(16).fill(2),
  overhead: new Array(12).fill(1),
  wait: new Array(13).fill(0),
  tput_in: new Array(13).fill(0),
  tput_out: new Array(13).fill(1),
};
const pointAt = (ts: number, variant: string, windowS: number) => ({
  snapshot: { ...jitter(sample), ts, variant, window_s: windowS },
  histograms: jitter(hist),
});
const retentionMs = { '5s': DAY, '1m': 7 * DAY, '1h': 90 * DAY };

// Disk per day per variant: one simulated day of 5s rounds for one variant, rolled up (and sealed) every minute as the dashboard does.
const dayStore = HistoryStore.open(join(dir, 'day.sqlite'), { retentionMs });
const dayStart = Date.UTC(2026, 1, 1);
dayStore.prune(dayStart);
const emptyBytes = dayStore.sizeBytes();
const steps = DAY / 5_000;
for (let i = 0; i < steps; i += 12) {
  const batch = [];
  for (let j = i; j < i + 12; j++) batch.push(pointAt(dayStart + j * 5_000, 'stable', 5));
  dayStore.write(batch);
  dayStore.rollup(dayStart + (i + 12) * 5_000);
}
dayStore.prune(dayStart + DAY);
const bytesPerDay5s = dayStore.sizeBytes() - emptyBytes;
const rows = dayStore.status().rows;

// A full store at default retention for two variants: 24h of 5s, 7d of 1m, 90d of 1h, as a long-running dashboard holds.
const fullStore = HistoryStore.open(join(dir, 'full.sqlite'), { retentionMs });
const end = Date.UTC(2026, 5, 1);
for (const [res, span, step] of [
  ['1h', 90 * DAY, 3_600_000],
  ['1m', 7 * DAY, 60_000],
  ['5s', DAY, 5_000],
] as const) {
  for (let t = end - span; t < end; t += step * 720) {
    const batch = [];
    for (let ts = t; ts < Math.min(end, t + step * 720); ts += step) for (const v of ['canary', 'stable']) batch.push(pointAt(ts, v, step / 1000));
    fullStore.write(batch, res);
  }
}
fullStore.rollup(end);
fullStore.prune(end);
const RANGES = ['5m', '15m', '1h', '6h', '24h', '7d', '30d', '90d'];
const time = (f: () => number, n = 5) => {
  const ts: number[] = [];
  let count = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    count = f();
    ts.push(performance.now() - t0);
  }
  return { ms: median(ts), count };
};
// What GET /api/metrics does for the scrape source: the points' JSON text spliced into one body.
const body = (res: Resolution, from: number) => `{"points":[${fullStore.queryJson(res, from, end).join(',')}]}`.length;
const perRange = RANGES.map((r) => {
  const ms = parseDurationMs(r)!;
  const res = autoResolution(ms, retentionMs);
  const q = time(() => fullStore.queryJson(res, end - ms, end).length);
  const b = body(res, end - ms);
  return `${r}→${res} ${q.count} pts ${q.ms.toFixed(1)} ms ${(b / 1e6).toFixed(1)} MB`;
});
const week1m = time(() => fullStore.queryJson('1m', end - 7 * DAY, end).length, 3);
const week1mParsed = time(() => fullStore.query('1m', end - 7 * DAY, end).length, 3);
const snapshotBytes = JSON.stringify(sample).length;

console.log(`page: ${pageSeries} series, ${(pageText.length / 1024).toFixed(0)} KiB`);
console.log(
  `scrape+parse+derive+store+rollup per round (loopback HTTP): median ${median(roundTimes.slice(5)).toFixed(1)} ms, max ${Math.max(...roundTimes.slice(5)).toFixed(1)} ms`,
);
console.log(`history as the API serves it (2 variants, auto resolution): ${perRange.join('; ')}`);
console.log(`7-day at explicit 1m (${week1m.count} points): JSON text ${week1m.ms.toFixed(0)} ms, parsed to objects ${week1mParsed.ms.toFixed(0)} ms`);
console.log(
  `disk per variant per day (every figure jittered at full precision: a worst case): ${(bytesPerDay5s / 1e6).toFixed(1)} MB (5s rows ${rows['5s']}, 1m ${rows['1m']}, 1h ${rows['1h']}; snapshot JSON ${snapshotBytes} B)`,
);
console.log(`full store at default retention, 2 variants: ${(fullStore.sizeBytes() / 1e6).toFixed(1)} MB (${JSON.stringify(fullStore.status().rows)})`);
store.close();
dayStore.close();
fullStore.close();
rmSync(dir, { recursive: true, force: true });
