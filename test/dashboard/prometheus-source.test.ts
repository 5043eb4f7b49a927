import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PrometheusSource } from '../../src/dashboard/sources/prometheus-source.js';
import { createDashboardMetrics } from '../../src/dashboard/self-metrics.js';
import { requireBinary } from '../support/binaries.js';
import { chat, startLiveProxies } from './support/live.js';

const prometheus = requireBinary('prometheus');

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('PROMETHEUS_URL source: snapshots and history from a real prometheus scraping a live proxy', { skip: prometheus.skip }, async (t) => {
  const { proxies } = await startLiveProxies(['stable'], (f) => t.after(f));
  const target = new URL(proxies.stable!.url).host;
  const dir = mkdtempSync(join(tmpdir(), 'dash-prom-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: zai-proxy\n    static_configs:\n      - targets: ['${target}']\n`,
  );
  const port = await freePort();
  const child = spawn(
    prometheus.path!,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: 'ignore' },
  );
  t.after(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });
  const base = `http://127.0.0.1:${port}`;
  // Traffic between Prometheus scrapes, then wait until Prometheus has seen all of it.
  await until('prometheus ready', async () => ((await fetch(`${base}/-/ready`)).ok ? true : undefined));
  await until('first scrape', async () => {
    const r = (await (await fetch(`${base}/api/v1/query?query=up`)).json()) as { data: { result: unknown[] } };
    return r.data.result.length > 0 ? true : undefined;
  });
  const seen = (n: number) =>
    until(`${n} requests visible`, async () => {
      const r = (await (await fetch(`${base}/api/v1/query?query=sum(zai_proxy_requests_total)`)).json()) as { data: { result: { value: [number, string] }[] } };
      return r.data.result[0]?.value[1] === String(n) ? true : undefined;
    });
  // Two phases: Prometheus's increase() ignores a series' first sample, so growth must happen after it exists.
  await chat(proxies.stable!, 2);
  await seen(2);
  await chat(proxies.stable!, 6);
  await seen(8);

  const source = new PrometheusSource({ baseUrl: base, intervalMs: 5_000, timeoutMs: 5_000, now: Date.now, metrics: createDashboardMetrics() });
  const round = await source.round(Date.now());
  const stable = round.snapshots.find((s) => s.snapshot.variant === 'stable')!.snapshot;
  assert.equal(stable.requests.lifetime, 8);
  assert.ok(stable.requests.window > 0, 'increase over the window');
  assert.ok(stable.tokens.lifetime.output >= 8 * 7);
  assert.ok(stable.build !== null);
  // Cost by model comes through the same aggregation: every request used one model.
  assert.deepEqual(Object.keys(stable.cost_usd.window_by_model), ['glm-4.7']);
  assert.ok(Math.abs(stable.cost_usd.window_by_model['glm-4.7']! - stable.cost_usd.window) < 1e-12 && stable.cost_usd.window > 0);
  assert.ok(stable.cost_usd.per_day_by_model['glm-4.7']! > 0);
  assert.equal(stable.workers.in_flight, 0); // gauges arrive too (nothing in flight now)
  assert.ok(source.targets()[0]!.up);
  // History steps sit on a 5 s grid: poll (bounded) until a step after the second phase exists.
  const history = await until('history covering the traffic', async () => {
    const h = await source.history('5s', Date.now() - 5 * 60_000, Date.now(), 'stable');
    return h.reduce((a, p) => a + p.requests.window, 0) > 2 ? h : undefined;
  });
  assert.ok(history.every((p) => p.variant === 'stable' && p.window_s === 5));
  // Per-step totals add up to about what Prometheus saw (increase() extrapolates, so allow slack).
  const total = history.reduce((a, p) => a + p.requests.window, 0);
  assert.ok(total < 16, `history total ${total}`);
  assert.equal(history[history.length - 1]!.requests.lifetime, 8);
});
