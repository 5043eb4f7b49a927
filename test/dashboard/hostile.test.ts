import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { readDashboardConfig } from '../../src/config/dashboard.js';
import { startDashboard } from '../../src/dashboard/main.js';
import { redactUrlSecrets } from '../../src/dashboard/sources/targets.js';
import { COOKIE } from '../../src/dashboard/api/server.js';
import { createLogger } from '../../src/log/logger.js';
import { freePort } from '../support/wait.js';

const bin = new URL('../../bin/zai-proxy', import.meta.url).pathname;

function capturingLogger() {
  const lines: string[] = [];
  const logger = createLogger(
    'info',
    new Writable({
      write: (c: Buffer, _e, d) => {
        lines.push(c.toString());
        d();
      },
    }),
  );
  return { logger, text: () => lines.join('') };
}

test('scrape-target credentials never show in /api/status, /api/config or the log', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dash-hostile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dead = await freePort();
  const log = capturingLogger();
  const config = readDashboardConfig({
    DASHBOARD_PORT: '0',
    SCRAPE_TARGETS: `c=http://u:s3cret@127.0.0.1:${dead}/metrics?k=qv4lue&other=t0ken`,
    DB_PATH: join(dir, 'dash.sqlite'),
  });
  let clock = 1_700_000_000_000;
  const dash = await startDashboard(config, { now: () => clock, schedule: false, logger: log.logger, webRoot: join(dir, 'no-web') });
  t.after(() => dash.close());
  for (let i = 0; i < 5; i++) {
    await dash.tick();
    clock += 5_000; // enough rounds for the target to turn stale, which is logged
  }
  const status = await (await fetch(`${dash.url}/api/status`)).text();
  const cfg = await (await fetch(`${dash.url}/api/config`)).text();
  assert.match(status, /"last_error":"[^"]+"/, 'the failure itself is reported');
  assert.match(log.text(), /scrape target status changed/);
  for (const [where, text] of [
    ['status', status],
    ['config', cfg],
    ['log', log.text()],
  ] as const) {
    for (const secret of ['s3cret', 'qv4lue', 't0ken', 'u:']) assert.ok(!text.includes(secret), `${where} shows ${secret}: ${text}`);
  }
});

test('a target with user info is scraped with Basic credentials instead', async (t) => {
  let seen: string | undefined;
  const exporter = createServer((req, res) => {
    seen = req.headers.authorization;
    res.end('# TYPE zai_proxy_requests_total counter\nzai_proxy_requests_total{variant="b"} 1\n');
  });
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
  t.after(() => exporter.close());
  const dir = mkdtempSync(join(tmpdir(), 'dash-basic-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { port } = exporter.address() as AddressInfo;
  const config = readDashboardConfig({
    DASHBOARD_PORT: '0',
    SCRAPE_TARGETS: `http://us%40er:p%3Ass@127.0.0.1:${port}/metrics`,
    DB_PATH: join(dir, 'd.sqlite'),
  });
  const dash = await startDashboard(config, { schedule: false, logger: capturingLogger().logger, webRoot: join(dir, 'no-web') });
  t.after(() => dash.close());
  await dash.tick();
  assert.equal(seen, `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
});

test('redactUrlSecrets masks the URL, its password and its query values wherever they appear', () => {
  const raw = 'http://u:pw-123@h.test:9/m?k=abc&z=q%20r';
  const msg = `failed ${raw}; user u:pw-123 asked k=abc, z=q r, q%20r; pw-123`;
  const out = redactUrlSecrets(msg, raw);
  for (const s of ['pw-123', 'abc', 'q r', 'q%20r']) assert.ok(!out.includes(s), out);
  assert.ok(out.includes('http://h.test:9/m'), out);
});

test('a malformed dashboard cookie is a 401, not a 500', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dash-cookie-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = readDashboardConfig({
    DASHBOARD_PORT: '0',
    DASHBOARD_TOKEN: 'tok-1',
    SCRAPE_TARGETS: `http://127.0.0.1:${await freePort()}/metrics`,
    DB_PATH: join(dir, 'd.sqlite'),
  });
  const dash = await startDashboard(config, { schedule: false, logger: capturingLogger().logger, webRoot: join(dir, 'no-web') });
  t.after(() => dash.close());
  for (const cookie of [`${COOKIE}=%zz`, `${COOKIE}=%`, `${COOKIE}=%E0%A4%A`, `=;;=%;${COOKIE}`, `a=1; ${COOKIE}=%ff%fe`]) {
    const res = await fetch(`${dash.url}/api/status`, { headers: { cookie } });
    await res.body?.cancel();
    assert.equal(res.status, 401, cookie);
  }
});

test('a corrupt SQLite file stops the dashboard with one line saying what to do, and is left as it was', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dash-corrupt-'));
  try {
    const file = join(dir, 'history.sqlite');
    const garbage = Buffer.from("this is not a database, but it may be somebody's only copy of something\n".repeat(100));
    writeFileSync(file, garbage);
    const run = spawnSync(process.execPath, [bin, 'dashboard'], {
      env: { PATH: process.env.PATH, DB_PATH: file, DASHBOARD_PORT: '0', SCRAPE_TARGETS: 'http://127.0.0.1:1/metrics' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 2, run.stderr);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, /DB_PATH .* is not a readable SQLite database .*Move it aside/);
    assert.ok(!/\bat .*\(/.test(run.stderr), 'no stack trace');
    assert.deepEqual(readFileSync(file), garbage, 'the file is untouched');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a DB_PATH that cannot be created stops the dashboard with one line naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dash-blocked-'));
  try {
    // A plain file where the database's folder should be.
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, 'x');
    const run = spawnSync(process.execPath, [bin, 'dashboard'], {
      env: { PATH: process.env.PATH, DB_PATH: join(blocker, 'history.sqlite'), DASHBOARD_PORT: '0', SCRAPE_TARGETS: 'http://127.0.0.1:1/metrics' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 2, run.stderr);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(
      lines[0]!,
      /^zai-proxy dashboard: DB_PATH .*not-a-folder\/history\.sqlite cannot be opened for writing \((EEXIST|ENOTDIR)\); point DB_PATH at /,
    );
    assert.ok(!/\bat .*\(/.test(run.stderr), 'no stack trace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
