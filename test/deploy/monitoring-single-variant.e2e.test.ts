import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatChecklist, passed, verifyMonitoring } from '../../src/monitoring/verify.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { requireBinary } from '../support/binaries.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { startPrometheus, type TestPrometheus } from '../support/prometheus-server.js';

/**
 * The most common deployment: one proxy, variant `production`. A real Prometheus scrapes it
 * while traffic flows; verify-monitoring must pass, with the canary/stable comparison panels
 * reported as not applicable (a warning naming the missing variants) instead of failing.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const dashboardFile = `${root}deploy/grafana/zai-proxy.json`;
const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as unknown;
const prometheusBin = requireBinary('prometheus');

describe('verify-monitoring against a real Prometheus scraping one production proxy', { skip: prometheusBin.skip }, () => {
  let sim: Simulator;
  let proxy: TestProxy;
  let prom: TestPrometheus;
  let running = true;
  let traffic: Promise<void> = Promise.resolve();

  before(async () => {
    sim = await startSimulator();
    proxy = await startProxyFor(sim, { ZAI_API_KEY: 'sk-single', LOG_LEVEL: 'silent' });
    traffic = (async () => {
      while (running) {
        const res = await fetch(`${proxy.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'hello' }] }),
        }).catch(() => undefined);
        await res?.text();
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    prom = await startPrometheus(prometheusBin.path!, { job: 'zai-proxy', targets: [new URL(proxy.url).host], intervalSeconds: 1 });
    await prom.waitFor('ten scrapes with traffic', async () => {
      const r = await prom.api.query('count_over_time(zai_proxy_tokens_total[30s])');
      return r.ok && r.samples.some((s) => s.value >= 10);
    });
  });

  after(async () => {
    running = false;
    await traffic;
    await prom?.stop();
    await proxy?.close();
    await sim?.close();
  });

  it('passes; the comparison panels are warnings that name the variants missing', async () => {
    const checks = await verifyMonitoring(prom.api, {
      prometheusUrl: prom.url,
      job: 'zai-proxy',
      expectedIntervalSeconds: 1,
      dashboard: { file: dashboardFile, model: dashboard },
    });
    const report = formatChecklist(checks);
    assert.ok(passed(checks), report);
    const notApplicable = checks.filter((c) => c.status === 'warn' && c.title.includes('not applicable'));
    assert.ok(notApplicable.length >= 2, report);
    for (const c of notApplicable)
      assert.match(c.title, /it compares canary with stable, but canary and stable do not report \(variants reporting: production\)/);
    assert.ok(
      notApplicable.some((c) => c.title.startsWith('panel "Canary / stable p95"')),
      report,
    );
    assert.ok(
      notApplicable.some((c) => c.title.startsWith('panel "Canary / stable tokens per request"')),
      report,
    );
  });
});
