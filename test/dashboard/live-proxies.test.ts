import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { readDashboardConfig } from '../../src/config/dashboard.js';
import { startDashboard } from '../../src/dashboard/main.js';
import type { StatusResponse } from '../../src/dashboard/model.js';
import { createLogger } from '../../src/log/logger.js';
import { chat, startLiveProxies } from './support/live.js';

test('scrapes two live proxies (stable, canary) in front of the simulator', async (t) => {
  const { proxies } = await startLiveProxies(['stable', 'canary'], (f) => t.after(f));
  const dir = mkdtempSync(join(tmpdir(), 'dash-live-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = readDashboardConfig({
    DASHBOARD_PORT: '0',
    SCRAPE_TARGETS: `${proxies.stable!.url}/metrics,${proxies.canary!.url}/metrics`,
    DB_PATH: join(dir, 'd.sqlite'),
  });
  const dash = await startDashboard(config, { schedule: false, logger: createLogger('silent', new Writable({ write: (_c, _e, d) => d() })) });
  t.after(() => dash.close());
  await dash.tick();
  await chat(proxies.stable!, 6);
  await chat(proxies.canary!, 2);
  const round = (await dash.tick())!;
  const byVariant = Object.fromEntries(round.snapshots.map((s) => [s.snapshot.variant, s.snapshot]));
  assert.deepEqual(Object.keys(byVariant).sort(), ['canary', 'stable']);
  assert.equal(byVariant.stable!.requests.window, 6);
  assert.equal(byVariant.canary!.requests.window, 2);
  assert.equal(byVariant.stable!.requests.by_class['2xx'] > 0, true);
  assert.ok(byVariant.stable!.tokens.window.output >= 6 * 7);
  assert.ok(byVariant.stable!.latency_ms.p50 !== null);
  assert.ok(byVariant.stable!.build !== null);
  const status = (await (await fetch(`${dash.url}/api/status`)).json()) as StatusResponse;
  assert.ok(status.targets.every((x) => x.up && x.skipped_lines === 0));
  const all = JSON.stringify(status) + (await (await fetch(`${dash.url}/api/metrics?range=5m`)).text());
  assert.ok(!all.includes('sk-test-dashboard-secret'), 'the API key never reaches the dashboard');
});
