/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { requireBinary } from '../support/binaries.js';
import { launchChromium } from './support.js';

/**
 * The chart library at the size the issue asks about: a 7-day range at full 5-second
 * resolution (120,960 points per series), five series, drawn by uPlot in Chromium. The figures
 * are printed for the report, not asserted: timing assertions on a shared machine would flake.
 */
const chromiumBin = requireBinary('chromium');
const root = new URL('../..', import.meta.url).pathname;

describe('uPlot at a 7-day range, full resolution', { skip: chromiumBin.skip }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium(chromiumBin.path);
  });
  after(async () => {
    await browser?.close();
  });

  test('draws 5 x 120,960 points and takes a live append', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.setContent('<!doctype html><html><body><div id="c" style="width:1200px"></div></body></html>');
    await page.addScriptTag({ path: join(root, 'node_modules/uplot/dist/uPlot.iife.min.js') });
    // A string: the TypeScript loader would wrap named closures in a helper the page does not have.
    const r = (await page.evaluate(`(async () => {
      const n = 7 * 86400 / 5, series = 5, start = 1_790_000_000;
      const x = new Float64Array(n);
      const ys = Array.from({ length: series }, () => new Float64Array(n));
      for (let i = 0; i < n; i++) {
        x[i] = start + i * 5;
        for (let s = 0; s < series; s++) ys[s][i] = 100 * (s + 1) + 50 * Math.sin(i / (300 + s * 40)) + (i * 7919 % 13);
      }
      // uPlot draws in a microtask after construction and setData; the draw hook marks when pixels are done.
      let drawn = null;
      const nextDraw = () => new Promise((resolve) => { drawn = resolve; });
      const opts = { width: 1200, height: 180, legend: { show: false }, scales: { x: { time: true } }, hooks: { draw: [() => drawn && drawn(performance.now())] },
        series: [{}, ...ys.map((_, s) => ({ stroke: ['#60a5fa', '#a78bfa', '#22d3ee', '#fbbf24', '#4ade80'][s], width: 1.5, points: { show: false } }))] };
      const t0 = performance.now();
      const first = nextDraw();
      const u = new uPlot(opts, [x, ...ys], document.getElementById('c'));
      const created = (await first) - t0;
      const x2 = new Float64Array(n + 1); x2.set(x); x2[n] = x[n - 1] + 5;
      const ys2 = ys.map((y) => { const a = new Float64Array(n + 1); a.set(y); a[n] = y[n - 1]; return a; });
      const t1 = performance.now();
      const second = nextDraw();
      u.setData([x2, ...ys2]);
      const appended = (await second) - t1;
      return { points: n * series, created, appended, canvas: !!document.querySelector('#c canvas') };
    })()`)) as { points: number; created: number; appended: number; canvas: boolean };
    console.log(`# uPlot 7d @5s: ${r.points} points drawn in ${r.created.toFixed(0)} ms; live append redraw ${r.appended.toFixed(0)} ms`);
    assert.equal(r.canvas, true);
    assert.equal(r.points, 5 * 120_960);
    await page.close();
  });
});
