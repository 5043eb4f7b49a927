import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { prometheusReader } from '../../src/canary/prometheus-reader.js';
import { canaryReport } from '../../src/canary/report.js';
import { readDashboardConfig } from '../../src/config/dashboard.js';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/main.js';
import type { CanaryResponse } from '../../src/dashboard/model.js';
import { createLogger } from '../../src/log/logger.js';
import { requireBinary } from '../support/binaries.js';
import { startPrometheus, type TestPrometheus } from '../support/prometheus-server.js';
import { startExporter } from './support/exporter.js';

/**
 * A dashboard that reads a Prometheus (PROMETHEUS_URL) judges the canary from that Prometheus,
 * as `zai-proxy canary-report --prometheus` does: a real Prometheus scrapes two catalogue
 * registries over loopback, the canary failing a quarter of its requests, and /api/canary must
 * be the report canary-report computes from the same server at the same moment.
 */

const prometheusBin = requireBinary('prometheus');
const quiet = () => createLogger('silent', new Writable({ write: (_c, _e, d) => d() }));
type Exporter = Awaited<ReturnType<typeof startExporter>>;
const PATH = '/v1/chat/completions';
const REQUESTS = 160;

describe('/api/canary on a dashboard that reads Prometheus', { skip: prometheusBin.skip }, () => {
  let stable: Exporter;
  let canary: Exporter;
  let prom: TestPrometheus;
  let dash: RunningDashboard;
  let dir: string;
  let clock = 0;

  const total = async (variant: string) => {
    const r = await prom.api.query(`sum(zai_proxy_requests_total{variant="${variant}"})`);
    return r.ok ? r.samples[0]?.value : undefined;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dash-canary-prom-'));
    stable = await startExporter('stable');
    canary = await startExporter('canary');
    // The request counters exist at 0 before the first scrape (the histograms appear with their first observation).
    for (const e of [stable, canary])
      for (const code of ['200', '500']) e.metrics.zai_proxy_requests_total.inc({ method: 'POST', path: PATH, status_code: code }, 0);
    prom = await startPrometheus(prometheusBin.path!, { job: 'zai-proxy', targets: [stable, canary].map((e) => new URL(e.url).host), intervalSeconds: 1 });
    await prom.waitFor('both exporters scraped at 0', async () => (await total('stable')) === 0 && (await total('canary')) === 0);
    for (let i = 0; i < REQUESTS; i++) {
      const failed = i % 4 === 0;
      for (const [e, code] of [
        [stable, '200'],
        [canary, failed ? '500' : '200'],
      ] as const) {
        e.metrics.zai_proxy_requests_total.inc({ method: 'POST', path: PATH, status_code: code });
        e.metrics.zai_proxy_request_duration_seconds.observe({ method: 'POST', path: PATH, status_code: code }, 0.2);
        e.metrics.zai_proxy_time_to_first_byte_seconds.observe({ path: PATH }, 0.1);
      }
    }
    await prom.waitFor('every request scraped', async () => (await total('stable')) === REQUESTS && (await total('canary')) === REQUESTS, 100);
    // Judged at a moment Prometheus already holds: later scrapes cannot change the answer.
    clock = Date.now();
    const config = readDashboardConfig({ DASHBOARD_PORT: '0', PROMETHEUS_URL: prom.url, DB_PATH: join(dir, 'unused.sqlite') });
    dash = await startDashboard(config, { now: () => clock, schedule: false, logger: quiet(), webRoot: join(dir, 'no-web') });
  });

  after(async () => {
    await dash?.close();
    await prom?.stop();
    await stable?.close();
    await canary?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('rolls the failing canary back with the report canary-report --prometheus gives', async () => {
    const res = await fetch(`${dash.url}/api/canary?since=5m`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as CanaryResponse;
    assert.equal(body.verdict, 'rollback', body.reasons.join('; '));
    assert.equal(body.stable.requests, REQUESTS);
    assert.equal(body.canary.requests, REQUESTS);
    assert.match(body.source, /^Prometheus http:\/\/127\.0\.0\.1:\d+/);
    const reader = prometheusReader(prom.url);
    try {
      const cli = await canaryReport(reader, { stable: 'stable', canary: 'canary', sinceMs: 5 * 60_000 }, clock);
      const { source: _s, at_ms: _a, ...rest } = body;
      assert.deepEqual(rest, JSON.parse(JSON.stringify(cli)));
    } finally {
      reader.close();
    }
  });

  it('a Prometheus that stops answering is a 503 naming it, not a verdict', async () => {
    await prom.stop();
    clock += 10_000; // past the cache
    const res = await fetch(`${dash.url}/api/canary?since=5m`);
    assert.equal(res.status, 503);
    assert.match(((await res.json()) as { error: string }).error, /Prometheus/i);
  });
});
