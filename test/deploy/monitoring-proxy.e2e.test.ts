import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { panelQueries, substituteVariables } from '../../src/monitoring/dashboard-queries.js';
import { formatChecklist, passed, verifyMonitoring } from '../../src/monitoring/verify.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { requireBinary } from '../support/binaries.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { startPrometheus, type TestPrometheus } from '../support/prometheus-server.js';

/**
 * The demonstration: a real Prometheus scrapes a stable and a canary proxy in front
 * of the simulator while traffic flows, including the events some families wait for
 * (retried Z.AI errors, an estimated usage, a client that leaves, admission rejections,
 * quota polling). Every panel query of the Grafana JSON must answer, verify-monitoring must
 * pass, and stopping a proxy must show up as the target-down ✗.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const dashboardFile = `${root}deploy/grafana/zai-proxy.json`;
const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as unknown;
const prometheusBin = requireBinary('prometheus');

describe('monitoring against a real Prometheus scraping live proxies', { skip: prometheusBin.skip }, () => {
  let sim: Simulator;
  const proxies: TestProxy[] = [];
  let prom: TestPrometheus;
  let running = true;
  let traffic: Promise<void> = Promise.resolve();
  const value = async (expr: string) => {
    const r = await prom.api.query(expr);
    return r.ok && r.samples.length > 0 ? r.samples[0]!.value : 0;
  };

  const send = async (proxy: TestProxy, path: string, body: object, signal?: AbortSignal) => {
    const res = await request(`${proxy.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
    await res.body.dump();
    return res.statusCode;
  };
  const chat = { model: 'glm-4.7', messages: [{ role: 'user', content: 'hello there' }] };
  const messages = { model: 'glm-4.7', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'hello there' }] };

  async function flow(): Promise<void> {
    for (let i = 0; running && i < 100_000; i++) {
      const proxy = proxies[i % 2]!;
      // Events some families only show after: a retried overload, a usage the upstream did
      // not report (local estimate), a client leaving early.
      if (i % 10 === 4 || i % 10 === 5) sim.setScenario({ faults: [{ kind: 'zaiError', code: 1305, times: 1 }] });
      if (i % 10 === 6 || i % 10 === 7) sim.setScenario({ streamUsage: 'none' });
      try {
        if (i % 25 === 9) {
          sim.setScenario({ faults: [{ kind: 'slowFirstByte', delayMs: 300, times: 1 }] });
          await send(proxy, '/v1/chat/completions', chat, AbortSignal.timeout(50)).catch(() => undefined);
        } else {
          // The last test stops a proxy while traffic flows: its refused calls are expected.
          await send(proxy, i % 3 === 0 ? '/v1/messages' : '/v1/chat/completions', i % 3 === 0 ? messages : chat).catch(() => 0);
        }
      } finally {
        if (i % 10 === 6 || i % 10 === 7) sim.setScenario({ streamUsage: 'final_chunk' });
      }
      // A burst past MAX_WORKERS + QUEUE_MAX now and then: admission rejects the excess.
      if (i % 40 === 20) await Promise.all(Array.from({ length: 6 }, () => send(proxy, '/v1/chat/completions', chat).catch(() => 0)));
    }
  }

  before(async () => {
    sim = await startSimulator({ scenario: { chunkIntervalMs: 1, quotaWindow: { budgetTokens: 10_000_000, resetAt: Date.now() + 3_600_000 } } });
    // The stable proxy also sends its clients to a canary arm that does not answer
    // (a port nobody listens on), so the split's families exist: requests by arm, failovers.
    const deadArm = await closedPort();
    for (const variant of ['stable', 'canary']) {
      proxies.push(
        await startProxyFor(sim, {
          ...(variant === 'stable' ? { CANARY_UPSTREAM: `http://127.0.0.1:${deadArm}`, CANARY_WEIGHT: '100' } : {}),
          DEPLOYMENT_VARIANT: variant,
          ZAI_API_KEY: 'sk-e2e-operator-key',
          QUOTA_POLL_ENABLED: 'true',
          QUOTA_POLL_INTERVAL: '500ms',
          MAX_WORKERS: '2',
          QUEUE_MAX: '1',
          RATE_LIMIT_WINDOW: '1s',
          // Low enough that the traffic exercises it: the limiter probes, so adjustments exist.
          RATE_LIMIT_INITIAL: '3',
          LOG_LEVEL: 'warn',
        }),
      );
    }
    traffic = flow();
    prom = await startPrometheus(prometheusBin.path!, { job: 'zai-proxy', targets: proxies.map((p) => new URL(p.url).host), intervalSeconds: 1 });
    await prom.waitFor('six scrapes of both proxies', async () => (await value('count(count_over_time(up{job="zai-proxy"}[30s]) >= 6)')) === 2);
    // The event-driven families must have been scraped at least twice to have a rate.
    await prom.waitFor(
      'every catalogue family to move',
      async () =>
        (await value('count(count_over_time(zai_proxy_retry_attempts_total[30s]) >= 2)')) >= 1 &&
        (await value('count(count_over_time(zai_proxy_rate_limit_rejections_total[30s]) >= 2)')) >= 1 &&
        (await value('count(count_over_time(zai_proxy_client_disconnects_total[30s]) >= 2)')) >= 1 &&
        (await value('count(count_over_time(zai_proxy_rate_limit_adjustments_total[30s]) >= 2)')) >= 1,
      300,
    );
  });

  after(async () => {
    running = false;
    await traffic.catch(() => undefined);
    await prom?.stop();
    await Promise.all(proxies.map((p) => p.close().catch(() => undefined)));
    await sim?.close();
  });

  it('every panel query of the Grafana dashboard returns data', async () => {
    const empty: string[] = [];
    for (const q of panelQueries(dashboard)) {
      const expr = substituteVariables(q.expr, { scrapeIntervalSeconds: 1 });
      const r = await prom.api.query(expr);
      assert.ok(r.ok, `${q.panel} ${q.refId}: ${r.ok ? '' : r.error}`);
      if (r.samples.length === 0) empty.push(`${q.panel} ${q.refId}: ${expr}`);
    }
    assert.deepEqual(empty, [], 'panels without data');
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
    assert.match(report, /✓ token counters moving/);
  });

  it('a stopped proxy shows up as ✗ target down', async () => {
    const stopped = proxies[1]!;
    const address = new URL(stopped.url).host;
    await stopped.close();
    await prom.waitFor('Prometheus to mark the stopped proxy down', async () =>
      (await prom.api.targets()).some((t) => t.instance === address && t.health === 'down'),
    );
    const checks = await verifyMonitoring(prom.api, { prometheusUrl: prom.url, job: 'zai-proxy', expectedIntervalSeconds: 1 });
    assert.equal(passed(checks), false);
    assert.ok(
      checks.some((c) => c.status === 'fail' && c.title.startsWith(`target ${address} (job zai-proxy) is down`)),
      formatChecklist(checks),
    );
  });
});

/** A loopback port that was free a moment ago and has no listener now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
