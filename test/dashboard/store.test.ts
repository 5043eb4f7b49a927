import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { HistoryStore } from '../../src/dashboard/store/history-store.js';
import { snapshotAt } from './support/snapshots.js';

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
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support/store-writer-child.ts'), path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
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
  for (const [i, ts] of stable.entries()) assert.equal(ts, (i + 1) * 5_000);
});

test('resume query returns rows strictly after (ts, variant); latest is per variant', (t) => {
  const store = HistoryStore.open(tempDb(t), { retentionMs: retention });
  t.after(() => store.close());
  store.write([snapshotAt(5_000, 'canary', 1), snapshotAt(5_000, 'stable', 2)]);
  store.write([snapshotAt(10_000, 'canary', 3), snapshotAt(10_000, 'stable', 4)]);
  assert.deepEqual(
    store.after(5_000, 'canary', 10).map((s) => `${s.ts}:${s.variant}`),
    ['5000:stable', '10000:canary', '10000:stable'],
  );
  assert.deepEqual(store.after(10_000, 'stable', 10), []);
  assert.deepEqual(
    store.latest().map((s) => [s.variant, s.requests.window]),
    [
      ['canary', 3],
      ['stable', 4],
    ],
  );
});

test('merged buckets are sealed into compressed blocks: same answers, histograms dropped, open tables stay shallow', (t) => {
  const path = tempDb(t);
  let store = HistoryStore.open(path, { retentionMs: retention });
  const t0 = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000);
  for (let i = 0; i < 30; i++) store.write([snapshotAt(t0 + i * 5_000, 'canary', 2), snapshotAt(t0 + i * 5_000, 'stable', i)]);
  const before = store.query('5s', t0, t0 + 3_600_000);
  store.rollup(t0 + 120_000);
  // Two whole minutes sealed per variant; the half minute still open keeps its histograms for the next rollup.
  const db = new Database(path, { readonly: true });
  t.after(() => db.close());
  assert.deepEqual(db.prepare('SELECT variant, n FROM blocks_5s ORDER BY ts, variant').all(), [
    { variant: 'canary', n: 12 },
    { variant: 'stable', n: 12 },
    { variant: 'canary', n: 12 },
    { variant: 'stable', n: 12 },
  ]);
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM points_5s').get() as { n: number }).n, 12);
  assert.deepEqual(store.query('5s', t0, t0 + 3_600_000), before);
  // A range starting inside a block gets exactly its rows, in (ts, variant) order.
  assert.deepEqual(
    store.query('5s', t0 + 55_000, t0 + 65_000, 'stable').map((s) => s.ts),
    [t0 + 55_000, t0 + 60_000, t0 + 65_000],
  );
  assert.deepEqual(
    store.query('5s', t0 + 55_000, t0 + 60_000).map((s) => `${s.ts - t0}:${s.variant}`),
    ['55000:canary', '55000:stable', '60000:canary', '60000:stable'],
  );
  assert.equal(store.status().rows['5s'], 60);
  assert.equal(store.status().oldest_ms['5s'], t0);
  // Resume across the sealed/open boundary.
  assert.deepEqual(
    store.after(t0 + 115_000, 'stable', 3).map((s) => `${s.ts - t0}:${s.variant}`),
    ['120000:canary', '120000:stable', '125000:canary'],
  );
  store.close();

  // After a restart the rest of the hour rolls up from open rows only, and the hour is right.
  store = HistoryStore.open(path, { retentionMs: retention });
  t.after(() => store.close());
  for (let i = 30; i < 720; i++) store.write([snapshotAt(t0 + i * 5_000, 'stable', 1)]);
  store.rollup(t0 + 3_600_000);
  const [h] = store.query('1h', t0, t0 + 3_600_000, 'stable');
  assert.equal(h!.requests.window, (29 * 30) / 2 + 690);
  // The hour's 1m rows are sealed too (one block per variant), and read back the same.
  assert.equal((db.prepare("SELECT COUNT(*) AS n FROM points_1m WHERE variant = 'stable'").get() as { n: number }).n, 0);
  assert.equal(store.query('1m', t0, t0 + 3_600_000, 'stable').length, 60);
  // A variant whose rows are all sealed (canary stopped after 150 s) still has a latest snapshot.
  assert.deepEqual(
    store.latest().map((s) => [s.variant, s.ts - t0]),
    [
      ['canary', 145_000],
      ['stable', 3_595_000],
    ],
  );
  // Blocks are much smaller than the open rows they replaced.
  const sealedBytes = (db.prepare('SELECT SUM(LENGTH(data)) AS b FROM blocks_5s').get() as { b: number }).b;
  const openRowBytes = JSON.stringify(snapshotAt(t0, 'stable', 1).snapshot).length;
  assert.ok(sealedBytes / store.status().rows['5s'] < openRowBytes / 4, `${sealedBytes} bytes for ${store.status().rows['5s']} rows`);
});

test('a late row for a sealed bucket joins its block; a database from before sealing is sealed on the next rollup', (t) => {
  const path = tempDb(t);
  const t0 = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000);
  // The old layout: open rows only, and a 1m watermark past them (their minute already merged).
  const old = new Database(path);
  old.exec(
    'CREATE TABLE points_5s (ts INTEGER NOT NULL, variant TEXT NOT NULL, snap TEXT NOT NULL, hist TEXT NOT NULL, PRIMARY KEY (ts, variant)) WITHOUT ROWID',
  );
  old.exec('CREATE TABLE rollup_watermark (resolution TEXT PRIMARY KEY, done_until INTEGER NOT NULL)');
  const ins = old.prepare('INSERT INTO points_5s VALUES (?, ?, ?, ?)');
  for (let i = 0; i < 12; i++) {
    const p = snapshotAt(t0 + i * 5_000, 'stable', 3);
    ins.run(p.snapshot.ts, 'stable', JSON.stringify(p.snapshot), JSON.stringify(p.histograms));
  }
  old.prepare("INSERT INTO rollup_watermark VALUES ('1m', ?)").run(t0 + 60_000);
  old.close();

  const store = HistoryStore.open(path, { retentionMs: retention });
  t.after(() => store.close());
  assert.deepEqual(store.rollup(t0 + 61_000), { '5s': 0, '1m': 0, '1h': 0 }); // nothing merged twice
  assert.equal(store.query('5s', t0, t0 + 60_000).length, 12);
  assert.equal(store.status().rows['5s'], 12);
  const check = new Database(path, { readonly: true });
  t.after(() => check.close());
  assert.deepEqual(check.prepare('SELECT (SELECT COUNT(*) FROM points_5s) AS open, (SELECT SUM(n) FROM blocks_5s) AS sealed').get(), { open: 0, sealed: 12 });
  // A late write into the sealed minute: it joins the block, replacing the row of the same ts.
  store.write([snapshotAt(t0 + 5_000, 'stable', 9)]);
  store.rollup(t0 + 62_000);
  const rows = store.query('5s', t0, t0 + 60_000);
  assert.equal(rows.length, 12);
  assert.equal(rows[1]!.requests.window, 9);
});
