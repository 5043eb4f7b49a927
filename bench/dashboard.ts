// Dashboard figures (run: node --import tsx bench/dashboard.ts): scrape+parse+store time for a
// 2,000-series page, 7-day history query time, disk bytes per day per variant. One run, medians.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../src/dashboard/collector/collector.js';
import { parseTargets } from '../src/dashboard/collector/targets.js';
import { HistoryStore } from '../src/dashboard/store/history-store.js';
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

// Disk per day per variant: one simulated day of 5s rounds for one variant (5s rows + rollups), compared to empty.
const dayStore = HistoryStore.open(join(dir, 'day.sqlite'), { retentionMs: { '5s': DAY, '1m': 7 * DAY, '1h': 90 * DAY } });
// A realistic derived snapshot: the collector's last round over the 2,000-series page.
const sample = store.latest()[0]!;
const hist = { latency: new Array(16).fill(3), ttfb: new Array(16).fill(2), overhead: new Array(12).fill(1), wait: new Array(13).fill(0), tput_in: new Array(13).fill(0), tput_out: new Array(13).fill(1) };
const dayStart = Date.UTC(2026, 1, 1);
dayStore.prune(dayStart);
const emptyBytes = dayStore.sizeBytes();
const steps = DAY / 5_000;
for (let i = 0; i < steps; i += 720) {
  const batch = [];
  for (let j = i; j < Math.min(steps, i + 720); j++) batch.push({ snapshot: { ...sample, ts: dayStart + j * 5_000 }, histograms: hist });
  dayStore.write(batch);
  dayStore.rollup(dayStart + (i + 720) * 5_000);
}
dayStore.prune(dayStart + DAY);
const bytesPerDay5s = dayStore.sizeBytes() - emptyBytes;
const rows = dayStore.status().rows;
// 7-day history: 7 days of 1m points for two variants, queried whole.
const weekStore = HistoryStore.open(join(dir, 'week.sqlite'), { retentionMs: { '5s': DAY, '1m': 7 * DAY, '1h': 90 * DAY } });
const weekStart = Date.UTC(2026, 2, 1);
for (let d = 0; d < 7; d++) {
  const batch = [];
  for (let m = 0; m < 1440; m++) for (const v of ['stable', 'canary']) batch.push({ snapshot: { ...sample, variant: v, ts: weekStart + d * DAY + m * 60_000, window_s: 60 }, histograms: hist });
  weekStore.write(batch, '1m');
}
const weekHours = [];
for (let h = 0; h < 7 * 24; h++) for (const v of ['stable', 'canary']) weekHours.push({ snapshot: { ...sample, variant: v, ts: weekStart + h * 3_600_000 }, histograms: hist });
weekStore.write(weekHours, '1h');
const q1m: number[] = [];
const q1h: number[] = [];
for (let i = 0; i < 7; i++) {
  let t0 = performance.now();
  const a = weekStore.query('1m', weekStart, weekStart + 7 * DAY);
  q1m.push(performance.now() - t0);
  t0 = performance.now();
  const b = weekStore.query('1h', weekStart, weekStart + 7 * DAY);
  q1h.push(performance.now() - t0);
  if (a.length !== 7 * 1440 * 2 || b.length !== 7 * 24 * 2) throw new Error('unexpected row count');
}
const snapshotBytes = JSON.stringify(sample).length;

console.log(`page: ${pageSeries} series, ${(pageText.length / 1024).toFixed(0)} KiB`);
console.log(`scrape+parse+derive+store+rollup per round (loopback HTTP): median ${median(roundTimes.slice(5)).toFixed(1)} ms, max ${Math.max(...roundTimes.slice(5)).toFixed(1)} ms`);
console.log(`7-day history, 2 variants: 1m resolution (${7 * 1440 * 2} points) median ${median(q1m).toFixed(1)} ms; 1h resolution (auto for 7d, ${7 * 24 * 2} points) median ${median(q1h).toFixed(2)} ms`);
console.log(`disk per variant per day: ${(bytesPerDay5s / 1e6).toFixed(1)} MB (5s rows ${rows['5s']}, 1m ${rows['1m']}, 1h ${rows['1h']}; snapshot JSON ${snapshotBytes} B)`);
console.log(`steady state per variant at default retention ≈ ${((bytesPerDay5s / rows['5s'] ) * (rows['5s'] + 7 * 1440 + 90 * 24) / 1e6).toFixed(0)} MB`);
store.close();
dayStore.close();
weekStore.close();
rmSync(dir, { recursive: true, force: true });
