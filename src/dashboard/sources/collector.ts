import type { ScrapeHealth, StatusEvent, TargetStatus } from '../model.js';
import type { DashboardMetrics } from '../self-metrics.js';
import { deriveSnapshot, type DerivedSnapshot } from '../snapshot/derive.js';
import { parseExposition } from '../snapshot/exposition.js';
import { pointsWithIncreases, type PreviousPage, type SeriesPoint } from '../snapshot/increase.js';
import { isCounterLike } from '../snapshot/names.js';
import { redactUrl, redactUrlSecrets, type Target } from './targets.js';

/**
 * One scrape round over every target, in parallel: fetch, parse, per-series increases since the
 * target's previous good page, grouping by variant, snapshot derivation, staleness tracking. The
 * page fetcher and the clock are injected, so the round is tested without sockets or sleeping.
 */

export type FetchPage = (url: string, timeoutMs: number) => Promise<string>;

export class ScrapeError extends Error {
  override name = 'ScrapeError';
}

/** Pages larger than this are refused: a bounded scrape never exhausts the dashboard's memory. */
export const MAX_PAGE_BYTES = 32 * 1024 * 1024;

/** A target with no good page for this many intervals is stale. */
export const STALE_INTERVALS = 3;

export const fetchPageOverHttp: FetchPage = async (url, timeoutMs) => {
  let res: Response;
  try {
    const { href, authorization } = basicAuthOf(url);
    const headers: Record<string, string> = { accept: 'text/plain;version=0.0.4' };
    if (authorization) headers.authorization = authorization;
    res = await fetch(href, { signal: AbortSignal.timeout(timeoutMs), headers });
  } catch (err) {
    const e = err as Error;
    // undici says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, …) is in its cause.
    const cause = e.cause as { code?: string; message?: string } | undefined;
    throw new ScrapeError(e.name === 'TimeoutError' ? `timeout after ${timeoutMs}ms` : `fetch failed: ${cause?.code ?? cause?.message ?? e.message}`);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new ScrapeError(`HTTP ${res.status}`);
  }
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_PAGE_BYTES) {
    await res.body?.cancel();
    throw new ScrapeError(`page too large (${length} bytes)`);
  }
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_PAGE_BYTES) {
      await reader.cancel();
      throw new ScrapeError('page too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
};

/**
 * fetch refuses URLs with user info (and would print them in its error): a target written as
 * `http://user:pass@host/metrics` is fetched without them, with HTTP Basic credentials instead.
 */
function basicAuthOf(raw: string): { href: string; authorization?: string } {
  const u = new URL(raw);
  if (!u.username && !u.password) return { href: u.href };
  const credentials = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  u.username = '';
  u.password = '';
  return { href: u.href, authorization: `Basic ${Buffer.from(credentials).toString('base64')}` };
}

interface TargetState {
  readonly target: Target;
  previous: PreviousPage | undefined;
  previousAt: number | undefined;
  lastScrape: number | null;
  lastSuccess: number | null;
  lastError: string | null;
  lastDuration: number | null;
  series: number;
  skipped: number;
  variants: string[];
  stale: boolean;
}

interface TargetResult {
  state: TargetState;
  ok: boolean;
  windowS: number;
  durationMs: number;
  byVariant: Map<string, SeriesPoint[]>;
}

export interface RoundResult {
  snapshots: DerivedSnapshot[];
  statusEvents: StatusEvent[];
}

export interface CollectorOptions {
  targets: readonly Target[];
  intervalMs: number;
  timeoutMs: number;
  now: () => number;
  fetchPage?: FetchPage;
  metrics?: DashboardMetrics;
}

/** Variant for each point: the target's forced name, else the series' own `variant` label. */
function groupByVariant(points: readonly SeriesPoint[], forced: string | null): Map<string, SeriesPoint[]> {
  const groups = new Map<string, SeriesPoint[]>();
  const add = (v: string, p: SeriesPoint) => {
    const g = groups.get(v);
    if (g) g.push(p);
    else groups.set(v, [p]);
  };
  if (forced !== null) {
    for (const p of points) add(forced, p);
    return groups;
  }
  const unlabelled: SeriesPoint[] = [];
  for (const p of points) {
    const v = p.labels.variant;
    if (v === undefined || v === '') unlabelled.push(p);
    else add(v, p);
  }
  // Process metrics carry no variant; they belong to the page's variant when there is exactly one.
  if (groups.size === 1) for (const p of unlabelled) add([...groups.keys()][0]!, p);
  return groups;
}

export class Collector {
  private readonly states: TargetState[];
  private readonly startedAt: number;

  constructor(private readonly opts: CollectorOptions) {
    this.startedAt = opts.now();
    this.states = opts.targets.map((target) => ({
      target,
      previous: undefined,
      previousAt: undefined,
      lastScrape: null,
      lastSuccess: null,
      lastError: null,
      lastDuration: null,
      series: 0,
      skipped: 0,
      variants: [],
      stale: false,
    }));
  }

  private async scrapeOne(state: TargetState): Promise<TargetResult> {
    const { now, timeoutMs } = this.opts;
    const fetchPage = this.opts.fetchPage ?? fetchPageOverHttp;
    const label = redactUrl(state.target.url);
    const started = now();
    state.lastScrape = started;
    try {
      const text = await fetchPage(state.target.url, timeoutMs);
      const page = parseExposition(text);
      const at = now();
      const { points, page: current } = pointsWithIncreases(page.samples, state.previous, isCounterLike);
      const windowS = state.previousAt !== undefined ? Math.max(0, (at - state.previousAt) / 1000) : 0;
      state.previous = current;
      state.previousAt = at;
      state.lastSuccess = at;
      state.lastError = null;
      state.lastDuration = at - started;
      state.series = page.samples.length;
      state.skipped = page.skippedLines;
      const byVariant = groupByVariant(points, state.target.name);
      state.variants = [...byVariant.keys()].sort();
      this.opts.metrics?.scrapes.inc({ target: label, result: 'success' });
      this.opts.metrics?.scrapeDuration.observe({ target: label }, (at - started) / 1000);
      if (page.skippedLines > 0) this.opts.metrics?.skippedLines.inc({ target: label }, page.skippedLines);
      return { state, ok: true, windowS, durationMs: at - started, byVariant };
    } catch (err) {
      const message = err instanceof ScrapeError ? err.message : `scrape failed: ${(err as Error).message}`;
      state.lastError = redactUrlSecrets(message, state.target.url);
      state.lastDuration = now() - started;
      this.opts.metrics?.scrapes.inc({ target: label, result: 'error' });
      return { state, ok: false, windowS: 0, durationMs: state.lastDuration, byVariant: new Map() };
    }
  }

  /** Scrapes every target once and derives one snapshot per variant seen, stamped `ts`. */
  async round(ts: number): Promise<RoundResult> {
    const results = await Promise.all(this.states.map((s) => this.scrapeOne(s)));
    const byVariant = new Map<string, { points: SeriesPoint[]; windowS: number; durationMs: number; targets: number; up: number; series: number }>();
    for (const r of results) {
      const variants = r.ok ? [...r.byVariant.keys()] : r.state.variants;
      for (const v of variants) {
        let agg = byVariant.get(v);
        if (!agg) byVariant.set(v, (agg = { points: [], windowS: 0, durationMs: 0, targets: 0, up: 0, series: 0 }));
        agg.targets++;
        agg.durationMs = Math.max(agg.durationMs, r.durationMs);
        if (!r.ok) continue;
        const pts = r.byVariant.get(v)!;
        agg.up++;
        agg.series += pts.length;
        agg.windowS = Math.max(agg.windowS, r.windowS);
        for (const p of pts) agg.points.push(p);
      }
    }
    const snapshots: DerivedSnapshot[] = [];
    for (const v of [...byVariant.keys()].sort()) {
      const agg = byVariant.get(v)!;
      if (agg.up === 0) continue;
      const lastSuccess = Math.max(...results.filter((r) => r.state.variants.includes(v) && r.state.lastSuccess !== null).map((r) => r.state.lastSuccess!));
      const scrape: ScrapeHealth = {
        up: agg.up === agg.targets,
        duration_ms: agg.durationMs,
        last_success_ms: Number.isFinite(lastSuccess) ? lastSuccess : null,
        targets: agg.targets,
        targets_up: agg.up,
        series: agg.series,
      };
      snapshots.push(deriveSnapshot({ ts, variant: v, windowS: agg.windowS, points: agg.points, scrape }));
    }
    return { snapshots, statusEvents: this.updateStaleness() };
  }

  private updateStaleness(): StatusEvent[] {
    const now = this.opts.now();
    const limit = STALE_INTERVALS * this.opts.intervalMs;
    const events: StatusEvent[] = [];
    for (const s of this.states) {
      const stale = now - (s.lastSuccess ?? this.startedAt) > limit;
      if (stale !== s.stale) {
        s.stale = stale;
        events.push({
          ts: now,
          target: redactUrl(s.target.url),
          name: s.target.name,
          state: stale ? 'stale' : 'recovered',
          last_success_ms: s.lastSuccess,
          last_error: s.lastError,
          variants: s.variants,
        });
      }
    }
    return events;
  }

  status(): TargetStatus[] {
    return this.states.map((s) => ({
      name: s.target.name,
      url: redactUrl(s.target.url),
      up: s.lastError === null && s.lastSuccess !== null,
      stale: s.stale,
      last_scrape_ms: s.lastScrape,
      last_success_ms: s.lastSuccess,
      last_error: s.lastError,
      last_duration_ms: s.lastDuration,
      series: s.series,
      skipped_lines: s.skipped,
      variants: s.variants,
    }));
  }
}
