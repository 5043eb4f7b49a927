/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { readDashboardConfig } from '../../src/config/dashboard.js';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/main.js';
import { createLogger } from '../../src/log/logger.js';
import type { Metrics } from '../../src/metrics/catalogue.js';
import { startExporter } from '../dashboard/support/exporter.js';
import { requireBinary } from '../support/binaries.js';
import { launchChromium } from './support.js';

/**
 * The limiter as the operator sees it, in a real Chromium: the dashboard scrapes two loopback
 * exporters whose catalogue registries the test drives (the binding limit, rate and ceiling,
 * queue depth, admission waits), with seven minutes of history written first so "sustained"
 * has something to be measured against. Every wait is on a condition in the page, bounded;
 * the screenshot lands in test-artifacts/.
 */

const root = new URL('../..', import.meta.url).pathname;
const artifacts = join(root, 'test-artifacts');
const chromiumBin = requireBinary('chromium');
const WAIT = 30_000;
const LIMITS = ['none', 'learned_rate', 'concurrency', 'quota_pacing', 'upstream'];
const BACKFILL_S = 7 * 60;
const STEP_MS = 5_000;

function ensureBuilt(): void {
  if (!existsSync(join(root, 'web/dist/index.html'))) {
    execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
      cwd: root,
      stdio: 'inherit',
    });
  }
}

interface Limiter {
  binding: string;
  rate: number;
  ceiling: number;
  inFlight: number;
  concurrencyLimit: number;
  /** Queue depth at a time `agoS` seconds before the end of the backfill (negative: after it). */
  queue: (agoS: number) => number;
  waitS: number;
}

/** One scrape interval of a proxy whose limiter is in the given state. */
function drive(m: Metrics, l: Limiter, agoS: number): void {
  for (const limit of LIMITS) m.zai_proxy_limiter_binding.set({ limit }, limit === l.binding ? 1 : 0);
  m.zai_proxy_rate_limit_requests_per_second.set(l.rate);
  m.zai_proxy_rate_limit_ceiling.set(l.ceiling);
  m.zai_proxy_concurrent_requests.set(l.inFlight);
  m.zai_proxy_concurrency_limit.set(l.concurrencyLimit);
  m.zai_proxy_max_workers.set(l.concurrencyLimit);
  m.zai_proxy_queue_depth.set(l.queue(agoS));
  for (let i = 0; i < 5; i++) m.zai_proxy_rate_limit_wait_seconds.observe({ client: 'c0' }, l.waitS);
}

// stable: the learned rate binds, a queue for the last 90 s only (elevated), waits of 4.2 s (elevated).
const STABLE: Limiter = {
  binding: 'learned_rate',
  rate: 19.6,
  ceiling: 20,
  inFlight: 5,
  concurrencyLimit: 10,
  queue: (ago) => (ago <= 90 ? 3 : 0),
  waitS: 4.2,
};
// canary: the concurrency limit binds, a queue for the whole seven minutes (critical), waits of 12 s (critical).
const CANARY: Limiter = { binding: 'concurrency', rate: 15, ceiling: 20, inFlight: 8, concurrencyLimit: 8, queue: () => 6, waitS: 12 };

describe('limiter status in the dashboard UI', { skip: chromiumBin.skip }, () => {
  let stable: Awaited<ReturnType<typeof startExporter>>;
  let canary: Awaited<ReturnType<typeof startExporter>>;
  let dash: RunningDashboard;
  let browser: Browser;
  let page: Page;
  let dataDir: string;
  let live: NodeJS.Timeout | undefined;
  let round: Promise<unknown> = Promise.resolve();

  before(async () => {
    ensureBuilt();
    mkdirSync(artifacts, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'zai-e2e-limiter-'));
    stable = await startExporter('stable');
    canary = await startExporter('canary');
    const end = Date.now();
    let clock = end - BACKFILL_S * 1000;
    const config = readDashboardConfig({
      DASHBOARD_PORT: '0',
      SCRAPE_TARGETS: `stable=${stable.url},canary=${canary.url}`,
      DB_PATH: join(dataDir, 'dash.sqlite'),
    });
    dash = await startDashboard(config, {
      now: () => clock,
      schedule: false,
      logger: createLogger('silent', new Writable({ write: (_c, _e, d) => d() })),
      webRoot: join(root, 'web/dist'),
    });
    // History first: seven minutes of 5 s rounds, written as fast as the store takes them.
    for (; clock <= end; clock += STEP_MS) {
      const agoS = (end - clock) / 1000;
      drive(stable.metrics, STABLE, agoS);
      drive(canary.metrics, CANARY, agoS);
      await dash.tick();
    }
    // Then live, on the wall clock, one round a second, so the page stays fresh and the SSE feed flows.
    live = setInterval(() => {
      round = round.then(async () => {
        clock = Math.max(clock, Date.now());
        const agoS = (end - clock) / 1000;
        drive(stable.metrics, STABLE, agoS);
        drive(canary.metrics, CANARY, agoS);
        await dash.tick();
      });
    }, 1_000);
    browser = await launchChromium(chromiumBin.path);
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, colorScheme: 'dark' });
  });

  after(async () => {
    clearInterval(live);
    await round;
    await browser?.close();
    await dash?.close();
    await stable?.close();
    await canary?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('the binding limit and the headroom are named, queue and wait carry badges with their thresholds', async () => {
    await page.goto(`${dash.url}/#range=15m&variant=compare`);
    await page.waitForSelector('main[data-range="15m"][data-history="ready"] [data-panel="limits"] .chart-canvas canvas', { timeout: WAIT });
    await page.waitForSelector('[data-binding-variant="stable"][data-binding="learned_rate"]', { timeout: WAIT });
    await page.waitForSelector('[data-binding-variant="canary"][data-binding="concurrency"]', { timeout: WAIT });

    const limits = page.locator('[data-panel="limits"]');
    assert.match(
      await limits.locator('[data-binding-variant="stable"]').innerText(),
      /binding: learned rate — holding 19\.6 req\/s, 2% under the inferred ceiling 20/,
    );
    assert.match(
      await limits.locator('[data-binding-variant="canary"]').innerText(),
      /binding: concurrency — 8 of 8 in flight \(100%\); rate limit 15 req\/s, 25% under the inferred ceiling 20/,
    );

    // Queue: stable has queued for the last 90 s or so (elevated; critical would take 200 s more),
    // the canary for all seven minutes (critical). Waits: 5 s-bucket p95 4.85 s, 15 s-bucket 14.75 s.
    const queue = limits.locator('[data-stat="lim-queue"]');
    await page.waitForFunction(() => /canary\s*6 for \d+m\s*✖ critical/.test(document.querySelector('[data-stat="lim-queue"]')?.textContent ?? ''), undefined, {
      timeout: WAIT,
    });
    const queueText = await queue.innerText();
    assert.match(queueText, /stable\s*3 for [1-4]m\s*▲ elevated/);
    assert.match(queueText, /canary\s*6 for \d+m\s*✖ critical/);
    const waitText = await limits.locator('[data-stat="lim-wait"]').innerText();
    assert.match(waitText, /stable\s*4\.85s\s*▲ elevated/);
    assert.match(waitText, /canary\s*14\.75s\s*✖ critical/);
    assert.equal(await queue.locator('.level-critical').count(), 1);
    assert.equal(await limits.locator('[data-stat="lim-wait"] .level-warn').count(), 1);

    // The thresholds are on the page and in each figure's tooltip.
    assert.match(
      await limits.locator('[data-thresholds="limits"]').innerText(),
      /Admission wait p95: ● normal under 2s, ▲ elevated from 2s, ✖ critical from 10s\. Queue depth: ● normal while empty or non-empty under 1 min, ▲ elevated once non-empty for 1 min, ✖ critical after 5 min\./,
    );
    assert.match((await limits.locator('[data-stat="lim-wait"]').getAttribute('title')) ?? '', /critical from 10s/);
    assert.match((await queue.getAttribute('title')) ?? '', /critical after 5 min/);

    await limits.screenshot({ path: join(artifacts, 'dashboard-limits-binding.png') });
  });

  test('one variant at a time shows its own line without a chip', async () => {
    await page.click('[data-variant-option="stable"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-binding-variant]').length === 1, undefined, { timeout: WAIT });
    const line = await page.locator('[data-binding-variant="stable"]').innerText();
    assert.match(line, /^binding: learned rate — holding 19\.6 req\/s, 2% under the inferred ceiling 20$/);
  });
});
