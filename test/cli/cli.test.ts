import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { readDashboardConfig } from '../../src/config/dashboard.js';
import { freePort, pollUntil } from '../support/wait.js';

const bin = new URL('../../bin/zai-proxy', import.meta.url).pathname;
const COMMANDS = ['serve', 'sim', 'dashboard', 'start', 'demo', 'canary-report', 'verify-monitoring'];

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI to its end (or kills it after `timeoutMs`, which then fails the test). */
async function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 15_000): Promise<Ran> {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, RATE_LIMIT_STATE_FILE: 'none', DB_PATH: ':memory:', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  assert.notEqual(code, null, `zai-proxy ${args.join(' ')} did not exit within ${timeoutMs}ms:\n${stdout}\n${stderr}`);
  return { code, stdout, stderr };
}

const oneLine = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '');

describe('zai-proxy CLI', () => {
  let held: Server;
  let heldPort: number;
  before(async () => {
    held = createServer().listen(0, '127.0.0.1');
    await once(held, 'listening');
    heldPort = (held.address() as { port: number }).port;
  });
  after(() => held.close());

  it('every command the CLI lists is checked below', async () => {
    // The list comes from `zai-proxy help`, so a new command without --help fails here.
    const r = await cli(['help']);
    const listed = [...r.stdout.matchAll(/^ {2}([a-z][\w-]*)\s/gm)].map((m) => m[1]);
    assert.deepEqual(listed.sort(), [...COMMANDS].sort());
  });

  for (const command of COMMANDS) {
    it(`${command} --help explains itself and starts nothing`, async () => {
      // The port is taken: a command that started a server instead of answering would fail on it.
      const r = await cli([command, '--help'], { PORT: String(heldPort), DASHBOARD_PORT: String(heldPort), SIM_PORT: String(heldPort) }, 10_000);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^usage: zai-proxy ${command}`));
      assert.match(r.stdout, /docs\/configuration\.md/);
      assert.doesNotMatch(r.stdout + r.stderr, /listening|EADDRINUSE/);
    });
  }

  it('serve --help lists the variables it reads', async () => {
    const r = await cli(['serve', '-h']);
    for (const v of ['PORT', 'ZAI_API_KEY', 'PROXY_API_KEYS', 'REDIS_URL', 'QUOTA_PACING']) assert.match(r.stdout, new RegExp(`\\b${v}\\b`));
  });

  const portCases: [string, string[], Record<string, string>, string][] = [
    ['serve', ['serve'], { PORT: 'HELD' }, 'PORT'],
    ['dashboard', ['dashboard'], { DASHBOARD_PORT: 'HELD' }, 'DASHBOARD_PORT'],
    ['start (proxy)', ['start'], { PORT: 'HELD', DASHBOARD_PORT: '0' }, 'PORT'],
    ['start (dashboard)', ['start'], { PORT: '0', DASHBOARD_PORT: 'HELD' }, 'DASHBOARD_PORT'],
    ['sim', ['sim'], { SIM_PORT: 'HELD' }, 'SIM_PORT'],
    ['sim --port', ['sim', '--port', 'HELD'], {}, '--port'],
    ['demo', ['demo'], { DASHBOARD_PORT: 'HELD', PORT: '0', SIM_PORT: '0' }, 'DASHBOARD_PORT'],
  ];
  for (const [label, args, env, variable] of portCases) {
    it(`${label}: a port in use is one line naming ${variable} and the port`, async () => {
      const fill = (s: string) => (s === 'HELD' ? String(heldPort) : s);
      const r = await cli(args.map(fill), Object.fromEntries(Object.entries(env).map(([k, v]) => [k, fill(v)])));
      assert.equal(r.code, 2, r.stderr);
      const errors = oneLine(r.stderr).filter((l) => /already in use/.test(l));
      assert.equal(errors.length, 1, r.stderr);
      assert.ok(errors[0]!.includes(`${variable}=${heldPort}`), errors[0]);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }

  it('start refuses SCRAPE_TARGETS=nonsense with one line before the proxy starts', async () => {
    const port = await freePort();
    const r = await cli(['start'], { PORT: String(port), DASHBOARD_PORT: '0', SCRAPE_TARGETS: 'nonsense' });
    assert.equal(r.code, 2);
    assert.deepEqual(oneLine(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /SCRAPE_TARGETS .*"nonsense"/);
    assert.doesNotMatch(r.stdout, /listening/, 'nothing started');
  });

  it('serve refuses REDIS_URL=foo naming the value, and hides a password in it', async () => {
    const r = await cli(['serve'], { PORT: '0', REDIS_URL: 'foo' });
    assert.equal(r.code, 2);
    assert.equal(oneLine(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /REDIS_URL must be a redis:\/\/ .*"foo"/);
    const secret = await cli(['serve'], { PORT: '0', REDIS_URL: 'http://user:hunter2@redis:6379' });
    assert.equal(secret.code, 2);
    assert.doesNotMatch(secret.stderr, /hunter2/);
  });

  it("a listen address that is not this machine's is one line naming HOST or DASHBOARD_HOST", async () => {
    // 192.0.2.1 (TEST-NET-1) is never a local address, and needs no DNS (one that does not
    // resolve is the same line with "does not resolve": test/cli/env-values.test.ts).
    const serve = await cli(['serve'], { PORT: '0', HOST: '192.0.2.1' });
    assert.equal(serve.code, 2);
    const last = oneLine(serve.stderr).pop()!;
    assert.match(last, /^zai-proxy serve: cannot listen on "192\.0\.2\.1" \(HOST\): it is not an address of this machine; set HOST to /);
    assert.doesNotMatch(serve.stderr, /\n\s+at /, 'no stack trace');
    const dashboard = await cli(['dashboard'], { DASHBOARD_PORT: '0', DASHBOARD_HOST: '192.0.2.1' });
    assert.equal(dashboard.code, 2);
    assert.equal(oneLine(dashboard.stderr).length, 1, dashboard.stderr);
    assert.match(dashboard.stderr, /cannot listen on "192\.0\.2\.1" \(DASHBOARD_HOST\)/);
  });

  it('a bad price override is refused before the banner', async () => {
    for (const command of ['serve', 'start']) {
      const r = await cli([command], { PORT: '0', DASHBOARD_PORT: '0', PRICING_JSON: 'nonsense' });
      assert.equal(r.code, 2);
      assert.deepEqual(oneLine(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^zai-proxy ${command}: invalid configuration: PRICING_JSON is not valid JSON`));
    }
  });

  it('serve prints a banner above its JSON logs: proxy URL, upstreams, whether a key is set, variant', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [bin, 'serve'], {
      env: { PATH: process.env.PATH, PORT: String(port), RATE_LIMIT_STATE_FILE: 'none', ZAI_API_KEY: 'sk-very-secret', DEPLOYMENT_VARIANT: 'canary' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    try {
      await pollUntil(() => /listening/.test(stdout), 'serve logs that it listens', 15_000);
      assert.match(stderr, new RegExp(`proxy\\s+http://127\\.0\\.0\\.1:${port}`));
      assert.match(stderr, /upstream\s+https:\/\/api\.z\.ai\/api\/paas\/v4/);
      assert.match(stderr, /ZAI_API_KEY is set/);
      assert.match(stderr, /variant\s+canary/);
      assert.doesNotMatch(stderr + stdout, /sk-very-secret/);
      for (const line of oneLine(stdout)) JSON.parse(line);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('demo takes its ports from DASHBOARD_PORT, PORT (canary PORT+1) and SIM_PORT', async () => {
    const [dash, proxy, sim] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(process.execPath, [bin, 'demo'], {
      env: { PATH: process.env.PATH, DASHBOARD_PORT: String(dash), PORT: String(proxy), SIM_PORT: String(sim), LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    try {
      await pollUntil(() => /open http/.test(stdout), 'demo prints its URLs', 30_000);
      assert.match(stdout, new RegExp(`open http://127\\.0\\.0\\.1:${dash}`));
      assert.match(stdout, new RegExp(`stable proxy\\s+http://127\\.0\\.0\\.1:${proxy}\\b`));
      assert.match(stdout, new RegExp(`canary proxy\\s+http://127\\.0\\.0\\.1:${proxy + 1}\\b`));
      assert.match(stdout, new RegExp(`simulator\\s+http://127\\.0\\.0\\.1:${sim}\\b`));
      assert.equal((await fetch(`http://127.0.0.1:${proxy}/health`)).ok, true);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});

describe('dashboard scrape timeout default', () => {
  it('is 3s, or the interval when that is shorter (as Prometheus defaults it)', () => {
    assert.equal(readDashboardConfig({}).scrapeTimeoutMs, 3_000);
    assert.equal(readDashboardConfig({ SCRAPE_INTERVAL: '1s' }).scrapeTimeoutMs, 1_000);
    assert.equal(readDashboardConfig({ SCRAPE_INTERVAL: '10s' }).scrapeTimeoutMs, 3_000);
    assert.throws(() => readDashboardConfig({ SCRAPE_INTERVAL: '1s', SCRAPE_TIMEOUT: '2s' }), /SCRAPE_TIMEOUT must not exceed SCRAPE_INTERVAL/);
  });
});
