/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startDemo, type Demo } from '../../src/demo/main.js';
import { requireBinary } from '../support/binaries.js';
import { launchChromium } from './support.js';

/**
 * The dashboard UI in a real Chromium against the demo wiring started in this process:
 * simulator, stable and canary proxies, dashboard, synthetic traffic. Every wait is on a
 * condition in the page, bounded; screenshots land in test-artifacts/ for a human to look at.
 */

const root = new URL('../..', import.meta.url).pathname;
const artifacts = join(root, 'test-artifacts');
const chromiumBin = requireBinary('chromium');
const WAIT = 30_000;

function ensureBuilt(): void {
  // The UI is built during install; build it here when a checkout has not been built yet.
  if (!existsSync(join(root, 'web/dist/index.html'))) {
    execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
      cwd: root,
      stdio: 'inherit',
    });
  }
}

describe('dashboard UI against the demo', { skip: chromiumBin.skip }, () => {
  let demo: Demo;
  let browser: Browser;
  let page: Page;
  let dataDir: string;

  before(async () => {
    ensureBuilt();
    mkdirSync(artifacts, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'zai-e2e-'));
    demo = await startDemo({ port: 0, scrapeIntervalMs: 1_000, ratePerSecond: 8, weatherEverySec: 4, quotaPollMs: 1_000, logLevel: 'silent', dataDir });
    browser = await launchChromium(chromiumBin.path);
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, colorScheme: 'dark' });
  });

  after(async () => {
    await browser?.close();
    await demo?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const legendCount = (panel: string) => page.locator(`[data-panel="${panel}"] .legend li`).count();

  test('a link without a range opens on the history there is, not on a nearly empty hour', async () => {
    // The demo's store is seconds old: 5m holds all of it, where the old default 1h drew a few
    // pixels at the right edge.
    // Its own page: a later goto that only changes the hash would not reload this one.
    const first = await browser.newPage({ viewport: { width: 1440, height: 1000 }, colorScheme: 'dark' });
    try {
      await first.goto(`${demo.dashboardUrl}/`);
      await first.waitForSelector('main[data-range="5m"][data-history="ready"] [data-panel="tokens"] .chart-canvas canvas', { timeout: WAIT });
      assert.doesNotMatch(first.url(), /range=/, 'a default range is not written into the link');
      // Legends give the newest value and, where the series moved, its peak in the range.
      await first.waitForFunction(() => document.querySelectorAll('[data-panel="requests"] .legend li').length > 0, undefined, { timeout: WAIT });
      const legend = await first.locator('[data-panel="requests"] .legend li .legend-value').first().innerText();
      assert.match(legend, /^now /);
      await first.waitForSelector('.legend [data-legend-peak]', { timeout: WAIT });
      // Labels that say what they count.
      assert.match(await first.locator('[data-panel="tokens"]').innerText(), /How fast a single client was served/);
      assert.doesNotMatch(await first.locator('[data-panel="tokens"]').innerText(), /Throughput per request/);
      await first.waitForSelector('[data-quota-type]', { timeout: WAIT });
      assert.match(await first.locator('[data-quota-type]').first().innerText(), /^counted in /);
      assert.match(await first.locator('[data-latency-note]').innerText(), /histogram buckets/);
      await first.screenshot({ path: join(artifacts, 'dashboard-first-view.png'), fullPage: true });
    } finally {
      await first.close();
    }
  });

  test('panels render with data, and the first render with a 24h range is measured', async () => {
    // Let a few scrape rounds land so the panels have points to draw.
    await page.goto(`${demo.dashboardUrl}/#range=15m`);
    await page.waitForSelector('[data-panel="tokens"] .chart-canvas canvas', { timeout: WAIT });
    for (const panel of ['tokens', 'requests', 'latency', 'limits', 'quota', 'cost', 'build']) {
      await page.waitForSelector(`[data-panel="${panel}"]`, { timeout: WAIT });
    }
    // Every chart-bearing panel draws at least one chart with points (condition, not a sleep).
    await page.waitForFunction(
      () =>
        ['tokens', 'requests', 'latency', 'limits', 'quota', 'cost'].every((p) =>
          document.querySelector(`[data-panel="${p}"] .chart-canvas[data-points]:not([data-points="0"]) canvas`),
        ),
      undefined,
      { timeout: WAIT },
    );
    await page.waitForFunction(() => document.querySelector('[data-quota="stable-five_hour"] .quota-reset')?.textContent?.startsWith('resets in'), undefined, {
      timeout: WAIT,
    });
    const buildText = await page.locator('[data-panel="build"]').innerText();
    assert.match(buildText, /0\.1\.0/);
    assert.match(buildText, /0\.2\.0-rc\.1/);
    const tokensTotal = await page.locator('[data-stat="tokens-total"] .stat-value').first().innerText();
    assert.notEqual(tokensTotal, '-');
    assert.match(await page.locator('[data-connection]').innerText(), /Live/);
    // The limiter line names a binding limit for each variant (or says the proxy reports none),
    // and the queue carries its badge: the demo's proxies export queue depth from the start.
    for (const v of ['stable', 'canary']) assert.match(await page.locator(`[data-binding-variant="${v}"]`).innerText(), new RegExp(`^${v}\\s*binding: `));
    await page.waitForSelector('[data-stat="lim-queue"] .level', { timeout: WAIT });
    assert.match(await page.locator('[data-thresholds="limits"]').innerText(), /critical from 10s/);

    // Time to first render with a 24h range: fresh page load until every panel's charts are drawn.
    const fresh = await browser.newPage({ viewport: { width: 1440, height: 1000 }, colorScheme: 'dark' });
    const t0 = Date.now();
    await fresh.goto(`${demo.dashboardUrl}/#range=24h`);
    await fresh.waitForSelector('main[data-range="24h"][data-history="ready"] [data-panel="limits"] .chart-canvas canvas', { timeout: WAIT });
    const firstRenderMs = Date.now() - t0;
    const nav = (await fresh.evaluate(`({ domContentLoaded: performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? null })`)) as {
      domContentLoaded: number | null;
    };
    console.log(`# first render, 24h range: ${firstRenderMs} ms (DOMContentLoaded ${Math.round(nav.domContentLoaded ?? 0)} ms)`);
    await fresh.close();
    await page.screenshot({ path: join(artifacts, 'dashboard-compare-dark.png'), fullPage: true });
  });

  test('with two variants the canary panel shows the verdict the API gave it, or that there is not enough data', async () => {
    const fresh = await browser.newPage({ viewport: { width: 1440, height: 1000 }, colorScheme: 'dark' });
    try {
      const answered = fresh.waitForResponse((r) => r.url().includes('/api/canary?stable=stable&canary=canary') && r.status() === 200, { timeout: WAIT });
      await fresh.goto(`${demo.dashboardUrl}/#range=15m`);
      const body = (await (await answered).json()) as { verdict: string; enough_data: boolean; reasons: string[]; stable: { requests: number } };
      // The page asks again only every 15 s: what it shows now is this answer.
      const panel = fresh.locator(`[data-panel="canary"] [data-verdict="${body.verdict}"][data-enough-data="${body.enough_data}"]`);
      await panel.waitFor({ timeout: WAIT });
      const text = await fresh.locator('[data-panel="canary"]').innerText();
      assert.match(text, /Canary verdict/);
      assert.match(text, /canary vs stable, last 30m/);
      assert.ok(text.includes(body.reasons[0]!), `the panel gives the first reason: ${body.reasons[0]}`);
      assert.match(text, body.enough_data ? /(Promote|Hold|Roll back)/ : /not enough data to judge/);
      assert.match(text, /zai-proxy canary-report --since 30m --stable stable --canary canary/);
      assert.match(await fresh.locator('[data-canary-row="requests"]').innerText(), new RegExp(`^Requests\\s+${Math.round(body.stable.requests)}\\s`));
      await fresh.locator('[data-panel="canary"]').screenshot({ path: join(artifacts, 'dashboard-canary-verdict.png') });
    } finally {
      await fresh.close();
    }
  });

  test('the time range refetches history', async () => {
    const asked: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/metrics')) asked.push(new URL(r.url()).searchParams.get('range') ?? '');
    });
    await page.click('[data-range-option="6h"]');
    await page.waitForSelector('main[data-range="6h"][data-history="ready"]', { timeout: WAIT });
    await page.click('[data-range-option="5m"]');
    await page.waitForSelector('main[data-range="5m"][data-history="ready"]', { timeout: WAIT });
    assert.deepEqual(asked.slice(-2), ['6h', '5m']);
    assert.match(await page.locator('[data-panel="tokens"] .panel-subtitle').innerText(), /5m/);
    assert.match(page.url(), /range=5m/);
  });

  test('the variant toggle changes the series drawn', async () => {
    await page.click('[data-variant-option="compare"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-panel="latency"] .legend li[data-series-key$=":canary"]').length > 0, undefined, {
      timeout: WAIT,
    });
    const compared = await legendCount('latency');
    const deltas = await page.locator('[data-panel="latency"] [data-delta]').count();
    assert.ok(deltas > 0, 'compare mode shows a delta readout');

    await page.click('[data-variant-option="canary"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-panel="latency"] .legend li[data-series-key$=":canary"]').length === 0, undefined, {
      timeout: WAIT,
    });
    const single = await legendCount('latency');
    assert.equal(single * 2, compared, 'one variant draws half the series of two overlaid');
    assert.equal(await page.locator('[data-panel="latency"] [data-delta]').count(), 0);
    assert.match(page.url(), /variant=canary/);

    // Light theme, remembered across a reload.
    await page.click('[data-action="theme"]');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light', undefined, { timeout: WAIT });
    await page.reload();
    await page.waitForSelector('[data-panel="tokens"] .chart-canvas canvas', { timeout: WAIT });
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
    await page.screenshot({ path: join(artifacts, 'dashboard-canary-light.png'), fullPage: true });
    await page.click('[data-action="theme"]');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark', undefined, { timeout: WAIT });
    await page.click('[data-variant-option="compare"]');
  });

  test('frame time while live updates stream in', async () => {
    await page.click('[data-range-option="1h"]');
    await page.waitForSelector('main[data-range="1h"][data-history="ready"]', { timeout: WAIT });
    // Measure frames across at least three live snapshots (scrape every second).
    // A string, not a function: the TypeScript loader would wrap named closures in a helper the page lacks.
    const result = (await page.evaluate(`(async () => {
      const frames = [];
      let last = performance.now();
      const start = last;
      let updates = 0;
      const mo = new MutationObserver(() => { updates += 1; });
      mo.observe(document.querySelector('[data-panel="requests"]'), { subtree: true, childList: true, characterData: true });
      await new Promise((resolve) => {
        const tick = (now) => {
          frames.push(now - last);
          last = now;
          if (now - start > 4000 || frames.length > 2000) resolve();
          else requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
      mo.disconnect();
      frames.sort((a, b) => a - b);
      return { n: frames.length, p50: frames[Math.floor(frames.length * 0.5)], p99: frames[Math.floor(frames.length * 0.99)], max: frames[frames.length - 1], updates };
    })()`)) as { n: number; p50: number; p99: number; max: number; updates: number };
    console.log(
      `# frame time while streaming: p50 ${result.p50?.toFixed(1)} ms, p99 ${result.p99?.toFixed(1)} ms, max ${result.max?.toFixed(1)} ms over ${result.n} frames, ${result.updates} DOM updates`,
    );
    assert.ok(result.updates > 0, 'live updates arrived during the measurement');
  });

  test('a killed target shows the stale badge', async () => {
    await page.waitForSelector('[data-variant-state="canary"][data-stale="false"]', { timeout: WAIT });
    await demo.stopProxy('canary');
    await page.waitForSelector('[data-stale-badge="canary"]', { timeout: WAIT });
    assert.equal(await page.locator('[data-variant-state="stable"]').getAttribute('data-stale'), 'false');
    await page.waitForSelector('[data-notice^="t:"]', { timeout: WAIT });
    // The header no longer reads a plain green "Live": one of the two targets is gone.
    await page.waitForSelector('[data-connection="live"][data-targets-down="1"]', { timeout: WAIT });
    assert.match(await page.locator('[data-connection]').innerText(), /Live · 1 of 2 targets down/);
    await page.screenshot({ path: join(artifacts, 'dashboard-canary-stale.png'), fullPage: false });
  });

  test('a restarted dashboard is reconnected to', async () => {
    await demo.stopDashboard();
    await page.waitForSelector('[data-connection="reconnecting"]', { timeout: WAIT });
    const countdown = await page.locator('[data-connection="reconnecting"]').innerText();
    assert.match(countdown, /reconnecting in \d+s/);
    await page.screenshot({ path: join(artifacts, 'dashboard-disconnected.png'), fullPage: false });
    await demo.startDashboard();
    await page.waitForSelector('[data-connection="live"]', { timeout: WAIT });
    // Fresh snapshots flow again after the reconnect.
    const before = Number(await page.locator('[data-variant-state="stable"]').getAttribute('data-last-ts'));
    await page.waitForFunction((b) => Number(document.querySelector('[data-variant-state="stable"]')?.getAttribute('data-last-ts')) > b, before, {
      timeout: WAIT,
    });
  });

  test('phone width keeps every control reachable', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, colorScheme: 'dark' });
    try {
      await phone.goto(`${demo.dashboardUrl}/#range=15m&variant=stable`);
      await phone.waitForSelector('[data-panel="tokens"] .chart-canvas canvas', { timeout: WAIT });
      const overflow = (await phone.evaluate(`(() => {
        const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1);
        return { by: document.documentElement.scrollWidth - window.innerWidth, culprits: wide.slice(0, 5).map((e) => e.tagName + '.' + e.className) };
      })()`)) as { by: number; culprits: string[] };
      assert.ok(overflow.by <= 1, `no horizontal scrolling on a phone (overflow ${overflow.by}px: ${overflow.culprits.join(', ')})`);
      // Keyboard: tabbing reaches the range buttons.
      let reached = false;
      for (let i = 0; i < 30 && !reached; i += 1) {
        await phone.keyboard.press('Tab');
        reached = (await phone.evaluate(`document.activeElement?.hasAttribute('data-range-option') === true`)) as boolean;
      }
      assert.ok(reached, 'a range button is reachable by keyboard');
      await phone.screenshot({ path: join(artifacts, 'dashboard-phone.png'), fullPage: false });
    } finally {
      await phone.close();
    }
  });

  test('with no target reachable the header says so instead of Live', async () => {
    await demo.stopProxy('stable');
    await page.waitForSelector('[data-connection="no-targets"]', { timeout: WAIT });
    const pillText = await page.locator('[data-connection]').innerText();
    assert.match(pillText, /No target reachable/);
    assert.doesNotMatch(pillText, /Live/);
    await page.screenshot({ path: join(artifacts, 'dashboard-no-targets.png'), fullPage: false });
  });
});
