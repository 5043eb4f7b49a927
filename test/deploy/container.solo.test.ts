import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { requireBinary } from '../support/binaries.js';
import { testBaseImage } from '../support/container-bases.js';
import { simUpstreamEnv } from '../support/proxy.js';
import { freePort, pollUntil } from '../support/wait.js';

/**
 * The Dockerfile, built with podman from Debian-made base images (no registry image can be pulled
 * here) and run against the simulator on loopback. Containers run with buildah's chroot
 * isolation on the host network: this sandbox refuses the rlimits and cgroups that podman's OCI
 * runtime sets, and chroot isolation needs neither, while keeping the image's user, workdir and
 * environment; the entrypoint is read from the image, so what runs is what the image declares.
 */
const root = new URL('../..', import.meta.url).pathname;
const missing = ['podman', 'buildah', 'mmdebstrap'].map((b) => requireBinary(b)).find((r) => r.skip);
const skip = missing ? missing.skip : false;
const BUILD_TIMEOUT_MS = 20 * 60_000;

const run = (cmd: string, args: string[], opts: { timeout?: number } = {}) =>
  execFileSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, timeout: opts.timeout ?? 120_000 });

interface ImageConfig {
  User: string;
  Entrypoint: string[];
  Cmd: string[];
  Volumes: Record<string, unknown> | null;
  Env: string[];
}

describe('container image', { skip, timeout: BUILD_TIMEOUT_MS + 5 * 60_000 }, () => {
  let image: string;
  let config: ImageConfig;
  let healthcheck: string[];
  let sim: Simulator;
  const containers: string[] = [];
  const children: ChildProcess[] = [];

  /** Starts `zai-proxy <args>` from the image in a fresh container; stopped when the suite ends. */
  function runImage(args: string[], env: Record<string, string>): ChildProcess {
    const name = `zai-proxy-test-${process.pid}-${containers.length}`;
    run('buildah', ['from', '--pull-never', '--name', name, image]);
    containers.push(name);
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
    const child = spawn('buildah', ['run', '--isolation', 'chroot', ...envArgs, name, '--', ...config.Entrypoint, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d));
    child.stderr!.on('data', (d: Buffer) => (output += d));
    child.on('exit', (code) => {
      if (code !== null && code !== 0 && !child.killed) console.error(`container ${args.join(' ')} exited ${code}:\n${output}`);
    });
    children.push(child);
    return child;
  }

  before(async () => {
    const started = Date.now();
    const bases = { BUILD_IMAGE: testBaseImage('build'), RUNTIME_IMAGE: testBaseImage('runtime') };
    const basesMs = Date.now() - started;
    const tag = `localhost/zai-proxy:test-${createHash('sha256').update(JSON.stringify(bases)).digest('hex').slice(0, 8)}`;
    const buildStart = Date.now();
    run(
      'podman',
      [
        'build',
        '--isolation',
        'chroot',
        '--format',
        'docker',
        '--network',
        'host',
        ...Object.entries(bases).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
        '-t',
        tag,
        '.',
      ],
      { timeout: BUILD_TIMEOUT_MS },
    );
    image = tag;
    const [inspected] = JSON.parse(run('podman', ['image', 'inspect', image])) as { Config: ImageConfig; Healthcheck?: { Test: string[] }; Size: number }[];
    config = inspected!.Config;
    healthcheck = inspected!.Healthcheck?.Test ?? [];
    console.log(
      `container image ${image}: ${(inspected!.Size / 1e6).toFixed(0)} MB; bases ${(basesMs / 1000).toFixed(0)}s, build ${((Date.now() - buildStart) / 1000).toFixed(0)}s`,
    );
    sim = await startSimulator({ port: 0, host: '127.0.0.1' });
  });

  after(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.pid) {
        try {
          process.kill(-c.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    for (const name of containers) run('buildah', ['rm', name]);
    await sim?.close();
  });

  it('runs as a non-root user, keeps its data on a volume and checks /health', () => {
    assert.equal(config.User, '1000:1000');
    assert.ok(config.Volumes && '/var/lib/zai-proxy' in config.Volumes, 'data directory is a volume');
    assert.deepEqual(healthcheck, ['CMD', 'node', 'dist/container/healthcheck.js']);
    assert.deepEqual(config.Cmd, ['serve']);
    assert.ok(config.Env.includes('RATE_LIMIT_STATE_FILE=/var/lib/zai-proxy/limiter-state.json'));
  });

  it('carries production dependencies only, with a working better-sqlite3', () => {
    const name = `zai-proxy-test-${process.pid}-deps`;
    run('buildah', ['from', '--pull-never', '--name', name, image]);
    containers.push(name);
    const probe = `
      const Database = require('better-sqlite3');
      const db = new Database(':memory:');
      const fs = require('node:fs');
      const dev = Object.keys(require('./package.json').devDependencies).filter((d) => fs.existsSync('node_modules/' + d));
      console.log(JSON.stringify({ sqlite: db.prepare('select sqlite_version() as v').get().v, dev, src: fs.existsSync('src') }));`;
    const out = JSON.parse(run('buildah', ['run', '--isolation', 'chroot', name, '--', 'node', '-e', probe]).trim().split('\n').pop()!) as {
      sqlite: string;
      dev: string[];
      src: boolean;
    };
    assert.match(out.sqlite, /^3\./);
    assert.deepEqual(out.dev, [], 'no dev dependency in the runtime image');
    assert.equal(out.src, false, 'no TypeScript sources in the runtime image');
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { devDependencies: Record<string, string> };
    assert.ok(Object.keys(pkg.devDependencies).length > 5);
  });

  it('serve proxies to the simulator, and the health check passes; dashboard scrapes it', async () => {
    const proxyPort = await freePort();
    const proxy = `http://127.0.0.1:${proxyPort}`;
    runImage(['serve'], {
      HOST: '127.0.0.1',
      PORT: String(proxyPort),
      ...simUpstreamEnv(sim),
      ZAI_API_KEY: 'test-key',
      DEPLOYMENT_VARIANT: 'stable',
    });
    await pollUntil(async () => (await fetch(`${proxy}/health`).catch(() => null))?.ok === true, 'proxy in the container answers /health', 60_000);
    const r = await fetch(`${proxy}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(r.status, 200);
    assert.ok(((await r.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens > 0);

    const hc = `zai-proxy-test-${process.pid}-hc`;
    run('buildah', ['from', '--pull-never', '--name', hc, image]);
    containers.push(hc);
    const check = healthcheck.slice(1);
    run('buildah', ['run', '--isolation', 'chroot', '--env', `PORT=${proxyPort}`, '--env', `DASHBOARD_PORT=${await freePort()}`, hc, '--', ...check]);
    const [nobody1, nobody2] = [await freePort(), await freePort()];
    const unhealthy = ['run', '--isolation', 'chroot', '--env', `PORT=${nobody1}`, '--env', `DASHBOARD_PORT=${nobody2}`, hc, '--', ...check];
    assert.throws(() => run('buildah', unhealthy), 'unhealthy when nothing answers');

    const dashboardPort = await freePort();
    const dashboard = `http://127.0.0.1:${dashboardPort}`;
    runImage(['dashboard'], { DASHBOARD_HOST: '127.0.0.1', DASHBOARD_PORT: String(dashboardPort), SCRAPE_TARGETS: `${proxy}/metrics`, SCRAPE_INTERVAL: '1s' });
    await pollUntil(
      async () => {
        const s = (await (await fetch(`${dashboard}/api/status`).catch(() => null))?.json().catch(() => null)) as { variants?: Record<string, unknown> } | null;
        return s?.variants?.stable !== undefined;
      },
      'dashboard in the container has a snapshot of the stable proxy',
      60_000,
    );
    const page = await fetch(`${dashboard}/`);
    assert.match(await page.text(), /<div id="root"|<script/);
  });
});
