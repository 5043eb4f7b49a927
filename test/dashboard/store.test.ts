import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HistoryStore } from '../../src/dashboard/store/history-store.js';
import { snapshotAt } from './support/fixtures.js';

const DAY = 86_400_000;
const retention = { '5s': DAY, '1m': 7 * DAY, '1h': 90 * DAY };

function tempDb(t: { after: (f: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'dash-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'h.sqlite');
}

test('1m and 1h rollups are incremental, merge rates by counts, and survive a restart', (t) => {
  const path = tempDb(t);
  let store = HistoryStore.open(path, { retentionMs: retention });
  const t0 = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000);
  // First minute: 12 rounds of 5 s with 0..11 requests each → 66 requests over 60 s.
  for (let i = 0; i < 12; i++) store.write([snapshotAt(t0 + i * 5_000, 'stable', i)]);
  assert.deepEqual(store.rollup(t0 + 59_999), { '5s': 0, '1m': 0, '1h': 0 }); // minute not complete yet
  assert.equal(store.rollup(t0 + 60_000)['1m'], 1);
  const [m] = store.query('1m', t0, t0 + 60_000, 'stable');
  assert.equal(m!.ts, t0);
  assert.equal(m!.window_s, 60);
  assert.equal(m!.requests.window, 66);
  assert.equal(m!.requests.rate, 66 / 60);
  // Nothing new: a second call adds nothing (watermark), and does not re-merge.
  assert.equal(store.rollup(t0 + 60_000)['1m'], 0);
  store.close();

  // Restart: history is there, and rollups continue from the watermark.
  store = HistoryStore.open(path, { retentionMs: retention });
  t.after(() => store.close());
  assert.equal(store.query('5s', t0, t0 + 60_000).length, 12);
  for (let i = 12; i < 720; i++) store.write([snapshotAt(t0 + i * 5_000, 'stable', 1)]);
  const added = store.rollup(t0 + 3_600_000);
  assert.equal(added['1m'], 59);
  assert.equal(added['1h'], 1);
  const [h] = store.query('1h', t0, t0 + 3_600_000);
  assert.equal(h!.requests.window, 66 + 708);
  assert.ok(Math.abs(h!.requests.rate - (66 + 708) / 3600) < 1e-12);
});

test('retention prunes each tier by its own horizon, and the size is reported', (t) => {
  const store = HistoryStore.open(tempDb(t), { retentionMs: { '5s': 60_000, '1m': 600_000, '1h': DAY } });
  t.after(() => store.close());
  const t0 = 10 * 3_600_000;
  for (let i = 0; i < 24; i++) store.write([snapshotAt(t0 + i * 5_000, 'stable', 1)]);
  store.rollup(t0 + 120_000);
  const removed = store.prune(t0 + 120_000 + 30_000);
  // 5s horizon: now − 60 s = t0 + 90 s → the 18 rows before it go; 1m rows (t0, t0+60s) are within 10 min.
  assert.equal(removed['5s'], 18);
  assert.equal(removed['1m'], 0);
  const status = store.status();
  assert.equal(status.rows['5s'], 6);
  assert.equal(status.rows['1m'], 2);
  assert.ok(status.size_bytes > 0);
});

test('kill -9 while writing loses at most the round being written', async (t) => {
  const path = tempDb(t);
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'store-writer-child.ts'), path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  let lastAcked = 0;
  let buffer = '';
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const l of lines) lastAcked = Math.max(lastAcked, Number(l));
      if (lastAcked >= 5_000 * 50) resolve(); // 50 rounds acknowledged, then kill mid-stream
    });
  });
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  const store = HistoryStore.open(path, { retentionMs: retention });
  t.after(() => store.close());
  const rows = store.query('5s', 0, Number.MAX_SAFE_INTEGER);
  const stable = rows.filter((r) => r.variant === 'stable').map((r) => r.ts);
  // Every acknowledged round is there, each complete (both variants), in order, no gaps.
  assert.ok(stable.length >= lastAcked / 5_000);
  assert.equal(rows.length, stable.length * 2);
  stable.forEach((ts, i) => assert.equal(ts, (i + 1) * 5_000));
});

test('resume query returns rows strictly after (ts, variant); latest is per variant', (t) => {
  const store = HistoryStore.open(tempDb(t), { retentionMs: retention });
  t.after(() => store.close());
  store.write([snapshotAt(5_000, 'canary', 1), snapshotAt(5_000, 'stable', 2)]);
  store.write([snapshotAt(10_000, 'canary', 3), snapshotAt(10_000, 'stable', 4)]);
  assert.deepEqual(store.after(5_000, 'canary', 10).map((s) => `${s.ts}:${s.variant}`), ['5000:stable', '10000:canary', '10000:stable']);
  assert.deepEqual(store.after(10_000, 'stable', 10), []);
  assert.deepEqual(store.latest().map((s) => [s.variant, s.requests.window]), [['canary', 3], ['stable', 4]]);
});
