import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readDashboardConfig } from '../../src/config/dashboard.js';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/main.js';
import { createLogger } from '../../src/log/logger.js';
import type { ArmReader } from '../../src/canary/arms.js';
import { prometheusReader } from '../../src/canary/prometheus-reader.js';
import { canaryReport } from '../../src/canary/report.js';
import { storeReader } from '../../src/canary/store-reader.js';
import { analysisQueries, holds } from '../../src/canary/rollout-queries.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { requireBinary } from '../support/binaries.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { startPrometheus, type TestPrometheus } from '../support/prometheus-server.js';

/**
 * The issue's demonstration: stable and canary proxies in front of the simulator, the canary
 * made worse (latency, errors, a token under-count) or better, or given a tiny sample; the
 * dashboard's collector stores every proxy in SQLite while a real Prometheus scrapes them too.
 * canary-report must give the right verdict in each scenario from both sources, with the same
 * numbers. Each scenario is a pair of variants (`s-<name>`, `c-<name>`) so one Prometheus and
 * one store hold them all.
 */

const prometheusBin = requireBinary('prometheus');
const bin = new URL('../../bin/zai-proxy', import.meta.url).pathname;
const run = promisify(execFile);

interface Scenario {
  name: string;
  /** Which simulator each arm is in front of. */
  stableSim: string;
  canarySim: string;
  requests: number;
  /** Every `errorEvery`-th canary request gets a 500 from its simulator. */
  errorEvery?: number;
  expected: 'promote' | 'hold' | 'rollback';
  enoughData: boolean;
}

const REQUESTS = 80;
const SCENARIOS: Scenario[] = [
  { name: 'same', stableSim: 'base', canarySim: 'base', requests: REQUESTS, expected: 'promote', enoughData: true },
  { name: 'slow', stableSim: 'base', canarySim: 'slow', requests: REQUESTS, expected: 'rollback', enoughData: true },
  { name: 'errors', stableSim: 'base', canarySim: 'errors', requests: REQUESTS, errorEvery: 5, expected: 'rollback', enoughData: true },
  { name: 'undercount', stableSim: 'base', canarySim: 'undercount', requests: REQUESTS, expected: 'rollback', enoughData: true },
  { name: 'better', stableSim: 'slow', canarySim: 'base', requests: REQUESTS, expected: 'promote', enoughData: true },
  { name: 'tiny', stableSim: 'base', canarySim: 'slow', requests: 5, expected: 'hold', enoughData: false },
];
// The smallest sample that can promote at 5 % errors is 59 (see judgement.ts); 80 per arm clears it.
const THRESHOLDS = { minRequests: 60, sustainS: 600 };

describe('canary-report against live proxies, from the store and from Prometheus', { skip: prometheusBin.skip }, () => {
  const sims: Record<string, Simulator> = {};
  const proxies: TestProxy[] = [];
  const byVariant: Record<string, TestProxy> = {};
  let dashboard: RunningDashboard;
  let prom: TestPrometheus;
  let dir: string;
  let store: ArmReader;
  let promReader: ArmReader;
  const startedAt = Date.now();
  let endedAt = 0;

  const chat = async (proxy: TestProxy) => {
    const res = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'the same question on both arms' }] }),
    });
    await res.text();
    return res.status;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zai-canary-'));
    sims.base = await startSimulator({ scenario: { outputTokens: 20 } });
    sims.slow = await startSimulator({ scenario: { outputTokens: 20, faults: [{ kind: 'slowFirstByte', delayMs: 300, times: -1 }] } });
    sims.errors = await startSimulator({ scenario: { outputTokens: 20 } });
    // The canary's accounting under-counts: it records 10 % fewer output tokens than the same requests produce on stable.
    sims.undercount = await startSimulator({ scenario: { outputTokens: 18 } });
    for (const s of SCENARIOS) {
      for (const [variant, sim] of [
        [`s-${s.name}`, sims[s.stableSim]!],
        [`c-${s.name}`, sims[s.canarySim]!],
      ] as const) {
        const p = await startProxyFor(sim, {
          DEPLOYMENT_VARIANT: variant,
          ZAI_API_KEY: 'sk-canary-e2e',
          RATE_LIMIT_ENABLED: 'false',
          MAX_RETRIES: '0',
          LOG_LEVEL: 'silent',
        });
        proxies.push(p);
        byVariant[variant] = p;
      }
    }
    const config = readDashboardConfig({
      DB_PATH: join(dir, 'dashboard.sqlite'),
      SCRAPE_TARGETS: proxies.map((p) => `${p.url}/metrics`).join(','),
      SCRAPE_INTERVAL: '1s',
      SCRAPE_TIMEOUT: '1s',
      DASHBOARD_PORT: '0',
    });
    dashboard = await startDashboard(config, { schedule: false, logger: createLogger('silent', new Writable({ write: (_c, _e, d) => d() })) });
    prom = await startPrometheus(prometheusBin.path!, { job: 'zai-proxy', targets: proxies.map((p) => new URL(p.url).host), intervalSeconds: 1 });
    await prom.waitFor('every proxy scraped', async () => {
      const r = await prom.api.query('count(up == 1)');
      return r.ok && r.samples[0]?.value === proxies.length;
    });
    // The collector's first round is its baseline: everything after it is counted.
    await dashboard.tick();

    await Promise.all(
      SCENARIOS.map(async (s) => {
        for (let i = 0; i < s.requests; i++) {
          if (s.errorEvery && i % s.errorEvery === 0) sims.errors!.setScenario({ faults: [{ kind: 'status', status: 500, times: 1 }] });
          const status = await chat(byVariant[`c-${s.name}`]!);
          assert.equal(status, s.errorEvery && i % s.errorEvery === 0 ? 500 : 200);
          assert.equal(await chat(byVariant[`s-${s.name}`]!), 200);
        }
      }),
    );
    const total = SCENARIOS.reduce((n, s) => n + 2 * s.requests, 0);
    await prom.waitFor('Prometheus to see every request', async () => {
      const r = await prom.api.query('sum(zai_proxy_requests_total)');
      return r.ok && r.samples[0]?.value === total;
    });
    await dashboard.tick();
    // One more scrape interval so the range's last step sees the final values everywhere.
    await new Promise((r) => setTimeout(r, 1500));
    endedAt = Date.now();
    store = storeReader(config.dbPath);
    promReader = prometheusReader(prom.url);
  });

  after(async () => {
    store?.close();
    await prom?.stop();
    await dashboard?.close();
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all(Object.values(sims).map((s) => s.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const reportOf = (reader: ArmReader, s: Scenario) =>
    canaryReport(reader, { stable: `s-${s.name}`, canary: `c-${s.name}`, sinceMs: endedAt - startedAt + 5_000, thresholds: THRESHOLDS }, endedAt);

  for (const s of SCENARIOS) {
    it(`${s.name}: ${s.expected}${s.enoughData ? '' : ' (not enough data)'} from both sources, with the same numbers`, async () => {
      const fromStore = await reportOf(store, s);
      const fromProm = await reportOf(promReader, s);
      for (const [source, r] of [
        ['store', fromStore],
        ['prometheus', fromProm],
      ] as const) {
        assert.equal(r.verdict, s.expected, `${source}: ${r.reasons.join('; ')}`);
        assert.equal(r.enough_data, s.enoughData, `${source}: ${r.reasons.join('; ')}`);
        assert.equal(r.stable.requests, s.requests, source);
        assert.equal(r.canary.requests, s.requests, source);
      }
      // The same numbers: every per-arm statistic, the deltas and the token comparison.
      const numbers = (r: typeof fromStore) => ({ stable: r.stable, canary: r.canary, deltas: r.deltas, tokens: r.token_agreement });
      assertClose(numbers(fromProm), numbers(fromStore));
      console.log(`${s.name.padEnd(10)} store=${fromStore.verdict} prometheus=${fromProm.verdict} | ${fromStore.reasons.join('; ')}`);
    });
  }

  // Every analysis query of the Argo Rollout, on the same Prometheus: success holds for a good
  // canary and not for the bad one each query exists to catch. The window reaches back before
  // the proxies started, so every series is born inside it; the step is the scrape interval.
  const analysisOf = async (s: Scenario) => {
    const span = `${Math.ceil((Date.now() - startedAt) / 1000) + 5}s`;
    const out: Record<string, { value: number; success: boolean; failure: boolean }> = {};
    for (const q of analysisQueries(
      { stable: `variant="s-${s.name}"`, canary: `variant="c-${s.name}"` },
      { window: span, sustain: span, step: '1s' },
      THRESHOLDS,
    )) {
      const r = await prom.api.query(q.query);
      assert.ok(r.ok, `${q.name}: ${r.ok ? '' : r.error}`);
      assert.equal(r.samples.length, 1, `${q.name} answers one number`);
      const value = r.samples[0]!.value;
      out[q.name] = { value, success: holds(q.success, value), failure: holds(q.failure, value) };
    }
    // Exact counts, as canary-report's: no extrapolation of series born inside the window.
    assert.equal(out.sample!.value, s.requests, 'sample');
    return out;
  };

  it('Argo analysis queries: every success condition holds for good canaries (same, better)', async () => {
    for (const name of ['same', 'better']) {
      const a = await analysisOf(SCENARIOS.find((s) => s.name === name)!);
      for (const [metric, r] of Object.entries(a)) {
        assert.ok(r.success && !r.failure, `${name} ${metric}: ${r.value}`);
      }
      console.log(
        `analysis ${name}: ${Object.entries(a)
          .map(([m, r]) => `${m}=${r.value.toPrecision(3)}`)
          .join(' ')}`,
      );
    }
  });

  it('Argo analysis queries: each fails the bad canary it exists to catch', async () => {
    const bad: [string, string, boolean][] = [
      // [metric, scenario, failure condition expected (false: inconclusive, the rollout pauses)]
      ['sample', 'tiny', false],
      ['error-rate-upper-bound', 'errors', false],
      ['error-rate-worse-than-stable', 'errors', true],
      ['latency-p95-ratio', 'slow', false],
      ['latency-p95-ratio-sustained', 'slow', true],
      ['token-disagreement', 'undercount', true],
    ];
    assert.deepEqual(
      bad.map((b) => b[0]).sort(),
      analysisQueries({ stable: '', canary: '' }, { window: '1m', sustain: '1m', step: '1s' })
        .map((q) => q.name)
        .sort(),
    );
    for (const [metric, scenario, failure] of bad) {
      const r = (await analysisOf(SCENARIOS.find((s) => s.name === scenario)!))[metric]!;
      assert.equal(r.success, false, `${scenario} ${metric}: ${r.value}`);
      assert.equal(r.failure, failure, `${scenario} ${metric}: ${r.value}`);
      console.log(`analysis ${metric} on ${scenario}: ${r.value.toPrecision(3)} success=${r.success} failure=${r.failure}`);
    }
  });

  it('the CLI gives the verdict as its exit code, from a store file and from a Prometheus URL', async () => {
    const exit = async (args: string[]) => {
      try {
        const { stdout } = await run(process.execPath, [bin, 'canary-report', ...args]);
        return { code: 0, stdout };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout + e.stderr };
      }
    };
    const common = ['--since', `${Math.ceil((Date.now() - startedAt) / 1000) + 5}s`, '--min-requests', '60', '--sustain', '10m'];
    const db = join(dir, 'dashboard.sqlite');
    const same = await exit(['--db', db, '--stable', 's-same', '--canary', 'c-same', ...common]);
    assert.equal(same.code, 0, same.stdout);
    assert.match(same.stdout, /verdict: PROMOTE/);
    assert.match(same.stdout, /latency p95/);
    const slow = await exit(['--prometheus', prom.url, '--stable', 's-slow', '--canary', 'c-slow', '--json', ...common]);
    assert.equal(slow.code, 2, slow.stdout);
    assert.equal(JSON.parse(slow.stdout).verdict, 'rollback');
    const tiny = await exit(['--db', db, '--stable', 's-tiny', '--canary', 'c-tiny', ...common]);
    assert.equal(tiny.code, 1, tiny.stdout);
    assert.match(tiny.stdout, /not enough data to judge/);
  });
});

/** Deep equality with a relative tolerance for floats (sums taken in another order). */
function assertClose(actual: unknown, expected: unknown, path = ''): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${path}: ${actual} vs ${expected}`);
    return;
  }
  if (expected && typeof expected === 'object' && actual && typeof actual === 'object') {
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), path);
    for (const k of Object.keys(expected)) assertClose((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], `${path}.${k}`);
    return;
  }
  assert.deepEqual(actual, expected, path);
}
