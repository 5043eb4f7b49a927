import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { canaryReport } from '../../src/canary/report.js';
import { storeReader } from '../../src/canary/store-reader.js';
import { readDashboardConfig } from '../../src/config/dashboard.js';
import { CACHE_MS } from '../../src/dashboard/api/canary.js';
import { startDashboard } from '../../src/dashboard/main.js';
import type { CanaryResponse } from '../../src/dashboard/model.js';
import { createLogger } from '../../src/log/logger.js';
import { startExporter } from './support/exporter.js';

/**
 * GET /api/canary: the dashboard judges canary against stable with canary-report's judgement,
 * over its own store. Two real catalogue registries are scraped over loopback on a virtual clock;
 * the answer must be the report `zai-proxy canary-report --db` gives from the same file at the
 * same moment, and say "not enough data" until each arm has its sample.
 */

const quiet = () => createLogger('silent', new Writable({ write: (_c, _e, d) => d() }));
type Exporter = Awaited<ReturnType<typeof startExporter>>;
const STEP_MS = 5_000;

async function setup(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'dash-canary-'));
  const stable = await startExporter('stable');
  const canary = await startExporter('canary');
  let clock = 1_700_000_000_000;
  const db = join(dir, 'dash.sqlite');
  const config = readDashboardConfig({ DASHBOARD_PORT: '0', SCRAPE_TARGETS: `${stable.url},${canary.url}`, DB_PATH: db });
  const dash = await startDashboard(config, { now: () => clock, schedule: false, logger: quiet(), webRoot: join(dir, 'no-web') });
  t.after(async () => {
    await dash.close();
    await stable.close();
    await canary.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const get = async (query = '') => {
    const res = await fetch(`${dash.url}/api/canary${query}`);
    return { status: res.status, body: (await res.json()) as CanaryResponse & { error?: string } };
  };
  /** `ticks` scrape rounds STEP_MS apart, each after `perTick` requests on both arms. */
  const drive = async (ticks: number, perTick: number, canaryErrorEvery = 0, canaryLatencyS = 0.2) => {
    await dash.tick();
    for (let i = 0; i < ticks; i++) {
      clock += STEP_MS;
      for (let n = 0; n < perTick; n++) {
        observe(stable, '200', 0.2);
        observe(canary, canaryErrorEvery > 0 && n % canaryErrorEvery === 0 ? '500' : '200', canaryLatencyS);
      }
      await dash.tick();
    }
  };
  return { get, drive, db, now: () => clock, advance: (ms: number) => (clock += ms) };
}

function observe(e: Exporter, code: string, latencyS: number) {
  const m = e.metrics;
  const path = '/v1/chat/completions';
  m.zai_proxy_requests_total.inc({ method: 'POST', path, status_code: code });
  m.zai_proxy_request_duration_seconds.observe({ method: 'POST', path, status_code: code }, latencyS);
  m.zai_proxy_time_to_first_byte_seconds.observe({ path }, latencyS / 2);
  if (code !== '200') return;
  m.zai_proxy_tokens_total.inc({ direction: 'input', model: 'glm-4.7', pricing_tier: 'standard' }, 120);
  m.zai_proxy_tokens_total.inc({ direction: 'output', model: 'glm-4.7', pricing_tier: 'standard' }, 40);
  m.zai_proxy_token_rate.observe({ direction: 'input', model: 'glm-4.7' }, 500);
}

/** The report as canary-report computes it from the same store file at the same moment. */
async function cliReport(db: string, nowMs: number) {
  const reader = storeReader(db);
  try {
    return await canaryReport(reader, { stable: 'stable', canary: 'canary', sinceMs: 30 * 60_000 }, nowMs);
  } finally {
    reader.close();
  }
}

const withoutMeta = ({ source: _s, at_ms: _a, ...rest }: CanaryResponse) => rest;

test('not enough data until each arm has its sample, then the same rollback as canary-report for a failing canary', async (t) => {
  const { get, drive, db, now, advance } = await setup(t);
  await drive(3, 5);
  const early = await get();
  assert.equal(early.status, 200);
  assert.equal(early.body.verdict, 'hold');
  assert.equal(early.body.enough_data, false);
  assert.match(early.body.reasons[0]!, /^not enough data to judge: stable 15, canary 15 requests; each arm needs 100/);
  assert.deepEqual(early.body.variants_seen, ['canary', 'stable']);
  assert.equal(early.body.source, 'dashboard store');

  // 30 rounds of 10 requests: 150 s, more than the 120 s a rollback must be sustained for; every 4th canary request fails.
  advance(CACHE_MS);
  await drive(30, 10, 4);
  const bad = await get();
  assert.equal(bad.body.verdict, 'rollback', bad.body.reasons.join('; '));
  assert.equal(bad.body.enough_data, true);
  assert.ok(bad.body.canary.error_rate! > 0.2 && bad.body.stable.error_rate === 0);
  assert.deepEqual(withoutMeta(bad.body), JSON.parse(JSON.stringify(await cliReport(db, now()))));
  assert.equal(bad.body.at_ms, now());
});

test('a canary as good as stable is promoted, with the deltas behind it', async (t) => {
  const { get, drive, db, now } = await setup(t);
  await drive(30, 10);
  const good = await get();
  assert.equal(good.body.verdict, 'promote', good.body.reasons.join('; '));
  assert.equal(good.body.deltas.error_rate, 0);
  assert.equal(good.body.deltas.latency_p95_ratio, 1);
  assert.deepEqual(
    good.body.checks.map((c) => [c.name, c.status]),
    [
      ['sample', 'pass'],
      ['errors', 'pass'],
      ['latency_p95', 'pass'],
      ['tokens', 'pass'],
    ],
  );
  assert.deepEqual(withoutMeta(good.body), JSON.parse(JSON.stringify(await cliReport(db, now()))));
});

test('a slow canary is rolled back; the window and the arms are parameters; bad ones are 400', async (t) => {
  const { get, drive, advance } = await setup(t);
  await drive(30, 10, 0, 1.5);
  const slow = await get();
  assert.equal(slow.body.verdict, 'rollback', slow.body.reasons.join('; '));
  assert.ok(slow.body.deltas.latency_p95_ratio! > 2);
  // The judgement is cached briefly for polling tabs, keyed by the question asked.
  const again = await get();
  assert.equal(again.body.at_ms, slow.body.at_ms);
  advance(CACHE_MS);
  const later = await get('?since=1m');
  assert.equal(later.body.window_s, 60);
  assert.notEqual(later.body.at_ms, slow.body.at_ms);
  // Arms swapped: stable is now the slow one, so the "canary" looks better.
  const swapped = await get('?stable=canary&canary=stable');
  assert.equal(swapped.body.verdict, 'promote', swapped.body.reasons.join('; '));
  for (const q of ['?since=soon', '?since=10s', '?stable=a&canary=a', '?canary=no%20spaces', '?range=1h']) {
    const r = await get(q);
    assert.equal(r.status, 400, q);
    assert.equal(typeof r.body.error, 'string');
  }
  const missing = await get('?canary=nobody');
  assert.equal(missing.body.verdict, 'hold');
  assert.match(missing.body.reasons[0]!, /canary 0 requests/);
});
