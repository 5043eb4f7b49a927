import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CATALOGUE, createMetrics, type MetricName, type Metrics } from '../../src/metrics/catalogue.js';
import { panelQueries, substituteVariables } from '../../src/monitoring/dashboard-queries.js';
import { formatChecklist, passed, verifyMonitoring } from '../../src/monitoring/verify.js';
import { requireBinary } from '../support/binaries.js';
import { startPrometheus, type TestPrometheus } from '../support/prometheus-server.js';

/**
 * The whole monitoring chain against a real Prometheus, with the proxy replaced by a small
 * exporter serving catalogue registries (stable and canary) whose every family moves on
 * each tick, so every panel and every check has something to find.
 */

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const dashboardFile = `${root}deploy/grafana/zai-proxy.json`;
const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as unknown;
const prometheusBin = requireBinary('prometheus');

/** One label value per label name, two where panels divide one value by another. */
const LABEL_VALUES: Record<string, readonly string[]> = {
  method: ['POST'],
  path: ['/v1/messages', '/v1/chat/completions'],
  status_code: ['200', '429', '502'],
  error_type: ['429', 'timeout'],
  class: ['frequency'],
  code: ['1303'],
  reason: ['frequency'],
  direction: ['input', 'output'],
  model: ['glm-4.7'],
  pricing_tier: ['off_peak', 'peak'],
  source: ['reported', 'estimated'],
  client: ['c0'],
  window: ['five_hour'],
  limit_type: ['tokens_limit'],
  result: ['success'],
  version: ['0.1.0'],
  commit: ['abc1234'],
  build_time: ['2026-01-01T00:00:00Z'],
  limit: ['none', 'learned_rate', 'concurrency', 'quota_pacing', 'upstream'],
};

function labelSets(names: readonly string[]): Record<string, string>[] {
  return names.reduce<Record<string, string>[]>((sets, name) => sets.flatMap((s) => (LABEL_VALUES[name] ?? ['x']).map((v) => ({ ...s, [name]: v }))), [{}]);
}

type Touchable = {
  inc?: (l: Record<string, string>, v: number) => void;
  set?: (l: Record<string, string>, v: number) => void;
  observe?: (l: Record<string, string>, v: number) => void;
};

/** Advances every family of the catalogue once, the way steady traffic would. */
function tick(m: Metrics, n: number): void {
  for (const [name, spec] of Object.entries(CATALOGUE) as [MetricName, (typeof CATALOGUE)[MetricName]][]) {
    const metric = m[name] as unknown as Touchable;
    for (const labels of labelSets(spec.labels)) {
      if (spec.kind === 'counter') metric.inc!(labels, 1 + (n % 3));
      else if (spec.kind === 'histogram') {
        const b = spec.buckets!;
        metric.observe!(labels, b[(n % (b.length - 1)) + 1]! * 0.9);
      } else if (name === 'zai_proxy_quota_reset_time_seconds') metric.set!(labels, Date.now() / 1000 + 3600);
      // One limit binds at a time, the way admission reports it; which one moves with the ticks.
      else if (name === 'zai_proxy_limiter_binding') metric.set!(labels, labels.limit === LABEL_VALUES.limit![n % LABEL_VALUES.limit!.length] ? 1 : 0);
      else metric.set!(labels, name.endsWith('_ratio') ? 0.5 : 3);
    }
  }
}

async function serve(metrics: Metrics): Promise<{ server: Server; address: string }> {
  const server = createServer((_req, res) => {
    void metrics.registry.metrics().then((text) => {
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, address: `127.0.0.1:${(server.address() as { port: number }).port}` };
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('monitoring against a real Prometheus scraping catalogue exporters', { skip: prometheusBin.skip }, () => {
  const stable = createMetrics('stable', { processMetrics: false });
  const canary = createMetrics('canary', { processMetrics: false });
  let exporters: { server: Server; address: string }[] = [];
  let prom: TestPrometheus;
  let ticker: NodeJS.Timeout | undefined;
  const count = async (expr: string) => {
    const r = await prom.api.query(expr);
    return r.ok && r.samples.length > 0 ? r.samples[0]!.value : 0;
  };

  before(async () => {
    exporters = [await serve(stable), await serve(canary)];
    let n = 0;
    const step = () => {
      tick(stable, n);
      tick(canary, n + 1);
      n++;
    };
    step();
    ticker = setInterval(step, 100);
    prom = await startPrometheus(prometheusBin.path!, { job: 'zai-proxy', targets: exporters.map((e) => e.address), intervalSeconds: 1 });
    // Rate windows are four scrapes wide: wait until both targets have at least six samples.
    await prom.waitFor('six scrapes of both exporters', async () => (await count('count(count_over_time(up{job="zai-proxy"}[30s]) >= 6)')) === 2);
  });

  after(async () => {
    clearInterval(ticker);
    await prom?.stop();
    await Promise.all(exporters.map((e) => close(e.server)));
  });

  it('every panel query of the Grafana dashboard returns data', async () => {
    const empty: string[] = [];
    const queries = panelQueries(dashboard);
    for (const q of queries) {
      const expr = substituteVariables(q.expr, { scrapeIntervalSeconds: 1 });
      const r = await prom.api.query(expr);
      assert.ok(r.ok, `${q.panel} ${q.refId}: ${r.ok ? '' : r.error}`);
      if (r.samples.length === 0) empty.push(`${q.panel} ${q.refId}: ${expr}`);
    }
    assert.deepEqual(empty, [], 'panels without data');
    assert.ok(queries.length > 50);
  });

  it('verify-monitoring passes with every line ✓', async () => {
    const checks = await verifyMonitoring(prom.api, {
      prometheusUrl: prom.url,
      job: 'zai-proxy',
      expectedIntervalSeconds: 1,
      dashboard: { file: dashboardFile, model: dashboard },
    });
    const report = formatChecklist(checks);
    assert.deepEqual(
      checks.filter((c) => c.status !== 'pass'),
      [],
      report,
    );
    assert.match(report, /✓ 2 proxy target\(s\) up/);
    const families = Object.keys(CATALOGUE).length;
    assert.match(report, new RegExp(`✓ ${families} of ${families} catalogue metric families present`));
    assert.match(report, /✓ token counters moving/);
  });

  it('the command exits 1 on a wrong expected interval and names it', async () => {
    const args = ['--import', 'tsx', 'src/cli.ts', 'verify-monitoring', '--prometheus', prom.url, '--expected-interval', '15s'];
    const failed = await run(process.execPath, args, { cwd: root }).then(
      () => assert.fail('expected exit code 1'),
      (err: { code: number; stdout: string }) => err,
    );
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /✗ scrape interval is 1s, expected 15s\n {4}fix: /);
  });

  it('a stopped exporter shows up as ✗ target down', async () => {
    const [, gone] = exporters;
    await close(gone!.server);
    await prom.waitFor('Prometheus to mark the stopped exporter down', async () =>
      (await prom.api.targets()).some((t) => t.instance === gone!.address && t.health === 'down'),
    );
    const checks = await verifyMonitoring(prom.api, { prometheusUrl: prom.url, job: 'zai-proxy', expectedIntervalSeconds: 1 });
    assert.equal(passed(checks), false);
    const failedTitles = checks.filter((c) => c.status === 'fail').map((c) => c.title);
    assert.ok(
      failedTitles.some((t) => t.startsWith(`target ${gone!.address} (job zai-proxy) is down`)),
      formatChecklist(checks),
    );
  });
});
