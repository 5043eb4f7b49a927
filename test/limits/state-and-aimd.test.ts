import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConcurrencyLimit } from '../../src/limits/concurrency-limit.js';
import { FairQueue } from '../../src/limits/fair-queue.js';
import { loadLimits, saveLimits } from '../../src/limits/state-file.js';
import { admission } from './support.js';

const HOUR = 3_600_000;

async function tempDir(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'limits-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('state file round-trips atomically, leaving no temp file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'sub', 'limiter-state.json');
  const now = Date.UTC(2025, 7, 30);
  await saveLimits(path, { ceiling: 30.4, rate: 29.79, concurrencyLimit: 3, savedAtMs: now });
  assert.deepEqual(await readdir(join(dir, 'sub')), ['limiter-state.json']);
  assert.deepEqual(await loadLimits(path, now + HOUR, 6 * HOUR), { state: { ceiling: 30.4, rate: 29.79, concurrencyLimit: 3, savedAtMs: now } });
  assert.deepEqual(Object.keys(JSON.parse(await readFile(path, 'utf8'))).sort(), ['ceiling', 'concurrencyLimit', 'rate', 'ts']);
});

test('stale, corrupt, nonsensical and missing state files are ignored', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 's.json');
  const now = Date.UTC(2025, 7, 30);
  assert.equal((await loadLimits(path, now, 6 * HOUR)).state, undefined);
  await saveLimits(path, { ceiling: 30, rate: 29, concurrencyLimit: 2, savedAtMs: now - 6 * HOUR - 60_000 });
  assert.deepEqual(await loadLimits(path, now, 6 * HOUR), { state: undefined, reason: 'stale' });
  // Stamped in the future beyond a minute's skew: its age is unknown, so it is not trusted.
  await saveLimits(path, { ceiling: 30, rate: 29, concurrencyLimit: 2, savedAtMs: now + 2 * HOUR });
  assert.deepEqual(await loadLimits(path, now, 6 * HOUR), { state: undefined, reason: 'stale' });
  await saveLimits(path, { ceiling: 30, rate: 29, concurrencyLimit: 2, savedAtMs: now + 30_000 });
  assert.equal((await loadLimits(path, now, 6 * HOUR)).state?.ceiling, 30);
  await writeFile(path, '{"ceiling":30.4,"hol');
  assert.deepEqual(await loadLimits(path, now, 6 * HOUR), { state: undefined, reason: 'corrupt' });
  await writeFile(path, JSON.stringify({ ceiling: 0, rate: 5, ts: new Date(now).toISOString() }));
  assert.deepEqual(await loadLimits(path, now, 6 * HOUR), { state: undefined, reason: 'nonsensical' });
  // No timestamp: the file's mtime decides.
  await writeFile(path, JSON.stringify({ ceiling: 20, rate: 19 }));
  await utimes(path, new Date(now - 7 * HOUR), new Date(now - 7 * HOUR));
  assert.deepEqual(await loadLimits(path, now, 6 * HOUR), { state: undefined, reason: 'stale' });
});

test('admission persists a learned ceiling, resumes it after restart, and reset deletes it', async (t) => {
  const dir = await tempDir(t);
  const stateFile = join(dir, 'limiter-state.json');
  const first = await admission({ stateFile, initialRate: 20, maxWorkers: 20 });
  for (let i = 0; i < 20; i++) (await first.adm.acquire('c0', new AbortController().signal)).release(i < 10 ? 'ok' : 'frequency');
  first.clock.advance(1000);
  const learned = first.adm.snapshot();
  assert.ok(learned.ceiling < 20);
  await first.adm.close();
  const second = await admission({ stateFile, initialRate: 20, maxWorkers: 20 });
  t.after(() => second.adm.close());
  assert.equal(second.adm.snapshot().ceiling, learned.ceiling);
  assert.equal(second.adm.snapshot().rate, learned.rate);
  second.adm.reset();
  await second.adm.close();
  await assert.rejects(readFile(stateFile), { code: 'ENOENT' });
});

test('a corrupt state file does not stop admission from starting at the initial rate', async (t) => {
  const dir = await tempDir(t);
  const stateFile = join(dir, 'limiter-state.json');
  await writeFile(stateFile, 'not json');
  const { adm } = await admission({ stateFile, initialRate: 7 });
  t.after(() => adm.close());
  assert.equal(adm.snapshot().rate, 7);
});

test('AIMD: one decrease per generation of 1302s, additive growth while clean, bounded [1, max]', () => {
  const c = new ConcurrencyLimit(10);
  assert.equal(c.record('concurrency'), 'decrease');
  assert.equal(c.limit, 5);
  for (let i = 0; i < 5; i++) assert.equal(c.record('concurrency'), undefined, 'same burst');
  assert.equal(c.record('concurrency'), 'decrease');
  assert.equal(c.limit, 3);
  for (let i = 0; i < 3; i++) c.record('ok');
  c.record('concurrency');
  assert.equal(c.limit, 2, 'near the bottom it steps by one');
  for (let i = 0; i < 2; i++) c.record('ok');
  c.record('concurrency');
  assert.equal(c.limit, 1);
  for (let i = 0; i < 10; i++) c.record('concurrency');
  assert.equal(c.limit, 1);
  let grown = 0;
  for (let i = 0; i < 10_000; i++) if (c.record('ok') === 'increase') grown++;
  assert.equal(c.limit, 10);
  assert.equal(grown, 9);
  assert.equal(c.record('other'), undefined);
});

test('AIMD against a true limit of 2 under 20 clients: 1302s become rare once settled', () => {
  const c = new ConcurrencyLimit(10);
  let refused = 0;
  let attempts = 0;
  for (let round = 0; round < 2000; round++) {
    // 20 clients always want a slot: each round sends `limit` attempts; those beyond 2 get 1302.
    const n = c.limit;
    for (let i = 0; i < n; i++) {
      const ok = i < 2;
      if (round >= 200) {
        attempts++;
        if (!ok) refused++;
      }
      c.record(ok ? 'ok' : 'concurrency');
    }
  }
  assert.ok(refused / attempts < 0.1, `settled 1302 share ${(refused / attempts).toFixed(3)}`);
});

test('fair queue: round-robin over buckets, O(1) removal, oldest-first view', () => {
  const q = new FairQueue<string>(4);
  const a1 = q.push('a1', 1, 0);
  q.push('a2', 1, 1);
  const b1 = q.push('b1', 3, 2);
  q.push('c1', 0, 3);
  assert.equal(q.peekOldest(), a1);
  assert.equal(q.remove(b1), true);
  assert.equal(q.remove(b1), false);
  assert.deepEqual([q.shift()!.value, q.shift()!.value, q.shift()!.value, q.shift()], ['c1', 'a1', 'a2', undefined]);
  assert.equal(q.size, 0);
});
