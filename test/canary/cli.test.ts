import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../support/wait.js';

const bin = new URL('../../bin/zai-proxy', import.meta.url).pathname;
const run = promisify(execFile);

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, 'canary-report', ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

it('--help prints the usage and touches nothing (no store file is created)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zai-canary-cli-'));
  try {
    const db = join(dir, 'never.sqlite');
    const r = await cli(['--help', '--db', db]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Exit codes: 0 promote, 1 hold or not enough data, 2 rollback, 3 cannot read the source/);
    assert.match(r.stdout, /--rollback-latency-ratio X/);
    const { existsSync } = await import('node:fs');
    assert.equal(existsSync(db), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('exits 3 when the source cannot be read: a missing store, a Prometheus nobody runs', async () => {
  const missing = await cli(['--db', '/nonexistent/dir/dashboard.sqlite']);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /no dashboard store at \/nonexistent\/dir\/dashboard.sqlite/);
  const defaultPath = await cli([], { DB_PATH: '/nonexistent/from-env.sqlite' });
  assert.equal(defaultPath.code, 3);
  assert.match(defaultPath.stderr, /from-env.sqlite/);
  const prom = await cli(['--prometheus', `http://127.0.0.1:${await freePort()}`]);
  assert.equal(prom.code, 3);
  assert.match(prom.stderr, /does not answer/);
});

it('bad arguments exit 64 with one line and the usage, never a verdict code', async () => {
  const r = await cli(['--rollback-error-rate', '150%']);
  assert.equal(r.code, 64);
  assert.match(r.stderr, /--rollback-error-rate must be a fraction like 0.05 or 5%/);
  assert.equal((await cli(['--db', 'x', '--prometheus', 'http://127.0.0.1:1'])).code, 64);
});
