import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { stringify } from 'yaml';
import { prometheusApi, type PrometheusApi } from '../../src/monitoring/prometheus-api.js';

/** A real Prometheus (Debian package) in a temp dir on loopback, for end-to-end tests. */
export interface TestPrometheus {
  readonly url: string;
  readonly api: PrometheusApi;
  /** Polls `condition` until it holds; fails after `attempts` tries (never a fixed sleep). */
  waitFor(what: string, condition: () => Promise<boolean>, attempts?: number): Promise<void>;
  /** Last lines Prometheus logged, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function poll(what: string, condition: () => Promise<boolean>, attempts: number, log: () => string): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await condition().catch(() => false)) return;
    await delay(200);
  }
  throw new Error(`timed out waiting for ${what}\n--- prometheus log ---\n${log()}`);
}

export async function startPrometheus(binary: string, opts: { job: string; targets: string[]; intervalSeconds: number }): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'zai-prom-'));
  const interval = `${opts.intervalSeconds}s`;
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      scrape_configs: [{ job_name: opts.job, metrics_path: '/metrics', static_configs: [{ targets: opts.targets }] }],
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const lines: string[] = [];
  child.stderr!.on('data', (b: Buffer) => {
    lines.push(b.toString('utf8'));
    if (lines.length > 50) lines.shift();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => lines.join('');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), delay(10_000).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await poll('Prometheus to be ready', async () => (await fetch(`${url}/-/ready`)).ok, 150, log);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    api: prometheusApi(url),
    waitFor: (what, condition, attempts = 150) => poll(what, condition, attempts, log),
    log,
    stop,
  };
}
