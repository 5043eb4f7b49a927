import { CATALOGUE, type MetricName } from '../../metrics/catalogue.js';
import type { RoundResult } from './collector.js';
import { deriveSnapshot, type DerivedSnapshot } from '../snapshot/derive.js';
import type { SeriesPoint } from '../snapshot/increase.js';
import { parseValue } from '../snapshot/exposition.js';
import { METRIC } from '../snapshot/names.js';
import { redactUrl, redactUrlSecrets } from './targets.js';
import { STEP_MS, type Resolution, type StatusEvent, type StoreStatus, type TargetStatus, type VariantSnapshot } from '../model.js';
import type { DashboardMetrics } from '../self-metrics.js';
import type { SnapshotSource } from './source.js';

/**
 * Snapshots and history read from a Prometheus server that already scrapes the proxies (a fleet
 * of replicas in Kubernetes), instead of scraping them a second time. Every catalogue family is
 * asked for as PromQL aggregated by variant and the family's labels; the answers become the
 * same SeriesPoints our own scrape produces, so snapshot derivation is shared.
 */

export class PrometheusQueryError extends Error {
  override name = 'PrometheusQueryError';
}

/** Prometheus needs at least two samples inside a window; its scrape interval is often 15-30s. */
export const MIN_WINDOW_S = 60;
const PARALLEL_QUERIES = 6;

interface PromSeries {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

interface Query {
  /** Sample name the answer stands for (`…_bucket` for histograms). */
  sample: string;
  promql: (windowS: number) => string;
  /** true: the answer is an increase over the window; false: a current value. */
  increase: boolean;
}

const GAUGE_AGG: Partial<Record<MetricName, string>> = {
  [METRIC.zai_proxy_rate_limit_ceiling]: 'avg',
  [METRIC.zai_proxy_worker_utilization_ratio]: 'avg',
  [METRIC.zai_proxy_build_info]: 'max',
  [METRIC.zai_proxy_quota_usage_ratio]: 'max',
  [METRIC.zai_proxy_quota_remaining_ratio]: 'min',
  [METRIC.zai_proxy_quota_reset_time_seconds]: 'max',
  [METRIC.zai_proxy_quota_sample_age_seconds]: 'max',
};

export function catalogueQueries(): Query[] {
  const queries: Query[] = [];
  for (const [name, spec] of Object.entries(CATALOGUE) as [MetricName, (typeof CATALOGUE)[MetricName]][]) {
    const by = ['variant', ...spec.labels].join(', ');
    if (spec.kind === 'counter') {
      queries.push({ sample: name, increase: true, promql: (w) => `sum by (${by}) (increase(${name}[${w}s]))` });
      queries.push({ sample: name, increase: false, promql: () => `sum by (${by}) (${name})` });
    } else if (spec.kind === 'histogram') {
      queries.push({ sample: `${name}_bucket`, increase: true, promql: (w) => `sum by (${by}, le) (increase(${name}_bucket[${w}s]))` });
    } else {
      queries.push({ sample: name, increase: false, promql: () => `${GAUGE_AGG[name] ?? 'sum'} by (${by}) (${name})` });
    }
  }
  return queries;
}

async function inBatches<T, R>(items: readonly T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!);
      }
    }),
  );
  return out;
}

export interface PrometheusSourceOptions {
  baseUrl: string;
  intervalMs: number;
  timeoutMs: number;
  now: () => number;
  metrics: DashboardMetrics;
  retentionMs?: Record<Resolution, number>;
}

export class PrometheusSource implements SnapshotSource {
  readonly kind = 'prometheus' as const;
  private readonly queries = catalogueQueries();
  private last: VariantSnapshot[] = [];
  private lastSuccess: number | null = null;
  private lastError: string | null = null;
  private lastScrape: number | null = null;
  private lastDuration: number | null = null;
  private stale = false;
  private readonly startedAt: number;

  constructor(private readonly opts: PrometheusSourceOptions) {
    this.startedAt = opts.now();
  }

  private async api(path: string, params: Record<string, string>): Promise<PromSeries[]> {
    const url = new URL(`${this.opts.baseUrl}/api/v1/${path}`);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      this.opts.metrics.sourceErrors.inc();
      throw new PrometheusQueryError(`prometheus unreachable: ${(err as Error).message}`);
    }
    const body = (await res.json().catch(() => undefined)) as { status?: string; error?: string; data?: { result?: PromSeries[] } } | undefined;
    if (res.status !== 200 || body?.status !== 'success') {
      this.opts.metrics.sourceErrors.inc();
      throw new PrometheusQueryError(`prometheus query failed (HTTP ${res.status}): ${String(body?.error ?? '').slice(0, 200)}`);
    }
    return body.data?.result ?? [];
  }

  /**
   * Points per (ts, variant) for a grid of times. `scale` turns an increase over the query window
   * into the increase over one step, so window totals add up across consecutive points.
   */
  private async pointsAt(times: { start: number; end: number; stepS: number } | { at: number }, windowS: number, scale: number) {
    const grid = new Map<number, Map<string, SeriesPoint[]>>();
    const add = (ts: number, p: SeriesPoint) => {
      const v = p.labels.variant ?? 'unknown';
      let byVariant = grid.get(ts);
      if (!byVariant) grid.set(ts, (byVariant = new Map()));
      const list = byVariant.get(v);
      if (list) list.push(p);
      else byVariant.set(v, [p]);
    };
    const answers = await inBatches(this.queries, PARALLEL_QUERIES, (q) =>
      'at' in times
        ? this.api('query', { query: q.promql(windowS), time: String(times.at / 1000) })
        : this.api('query_range', { query: q.promql(windowS), start: String(times.start / 1000), end: String(times.end / 1000), step: `${times.stepS}s` }),
    );
    this.queries.forEach((q, i) => {
      for (const series of answers[i]!) {
        const samples = series.values ?? (series.value ? [series.value] : []);
        for (const [t, raw] of samples) {
          const v = parseValue(raw);
          if (v === undefined || !Number.isFinite(v)) continue;
          const ts = 'at' in times ? times.at : Math.round(t * 1000);
          // A counter's lifetime and its increase arrive as two answers; both become points of the same name.
          add(
            ts,
            q.increase
              ? { name: q.sample, labels: series.metric, value: 0, increase: v * scale }
              : { name: q.sample, labels: series.metric, value: v, increase: null },
          );
        }
      }
    });
    return grid;
  }

  private derive(grid: Map<number, Map<string, SeriesPoint[]>>, windowS: number, up: boolean): DerivedSnapshot[] {
    const out: DerivedSnapshot[] = [];
    for (const ts of [...grid.keys()].sort((a, b) => a - b)) {
      const byVariant = grid.get(ts)!;
      for (const variant of [...byVariant.keys()].sort()) {
        const points = byVariant.get(variant)!;
        out.push(
          deriveSnapshot({
            ts,
            variant,
            windowS,
            points,
            scrape: { up, duration_ms: this.lastDuration ?? 0, last_success_ms: this.lastSuccess, targets: 1, targets_up: up ? 1 : 0, series: points.length },
          }),
        );
      }
    }
    return out;
  }

  async round(ts: number): Promise<RoundResult> {
    const windowS = Math.max(MIN_WINDOW_S, (4 * this.opts.intervalMs) / 1000);
    this.lastScrape = this.opts.now();
    let snapshots: DerivedSnapshot[] = [];
    try {
      const grid = await this.pointsAt({ at: ts }, windowS, 1);
      const done = this.opts.now();
      this.lastDuration = done - this.lastScrape;
      this.lastSuccess = done;
      this.lastError = null;
      snapshots = this.derive(grid, windowS, true);
      this.last = snapshots.map((s) => s.snapshot);
    } catch (err) {
      this.lastError = redactUrlSecrets((err as Error).message, this.opts.baseUrl);
      this.lastDuration = this.opts.now() - this.lastScrape;
    }
    return { snapshots, statusEvents: this.staleness() };
  }

  private staleness(): StatusEvent[] {
    const now = this.opts.now();
    const stale = now - (this.lastSuccess ?? this.startedAt) > 3 * this.opts.intervalMs;
    if (stale === this.stale) return [];
    this.stale = stale;
    return [
      {
        ts: now,
        target: redactUrl(this.opts.baseUrl),
        name: null,
        state: stale ? 'stale' : 'recovered',
        last_success_ms: this.lastSuccess,
        last_error: this.lastError,
        variants: this.last.map((s) => s.variant),
      },
    ];
  }

  async history(resolution: Resolution, fromMs: number, toMs: number, variant?: string): Promise<VariantSnapshot[]> {
    const stepS = STEP_MS[resolution] / 1000;
    const windowS = Math.max(stepS, MIN_WINDOW_S);
    const start = Math.ceil(fromMs / STEP_MS[resolution]) * STEP_MS[resolution];
    if (start > toMs) return [];
    const grid = await this.pointsAt({ start, end: toMs, stepS }, windowS, stepS / windowS);
    return this.derive(grid, stepS, true)
      .map((d) => d.snapshot)
      .filter((s) => variant === undefined || s.variant === variant);
  }

  async after(ts: number, variant: string, limit: number): Promise<VariantSnapshot[]> {
    const now = this.opts.now();
    const from = Math.max(ts, now - 3_600_000);
    const points = await this.history('5s', from, now).catch(() => []);
    return points.filter((s) => s.ts > ts || (s.ts === ts && s.variant > variant)).slice(0, limit);
  }

  async latest(): Promise<VariantSnapshot[]> {
    return this.last;
  }

  targets(): TargetStatus[] {
    return [
      {
        name: null,
        url: redactUrl(this.opts.baseUrl),
        up: this.lastError === null && this.lastSuccess !== null,
        stale: this.stale,
        last_scrape_ms: this.lastScrape,
        last_success_ms: this.lastSuccess,
        last_error: this.lastError,
        last_duration_ms: this.lastDuration,
        series: this.last.reduce((a, s) => a + s.scrape.series, 0),
        skipped_lines: 0,
        variants: this.last.map((s) => s.variant),
      },
    ];
  }

  store(): StoreStatus | null {
    return null;
  }

  retentionMs(): Record<Resolution, number> {
    return this.opts.retentionMs ?? { '5s': 24 * 3_600_000, '1m': 7 * 86_400_000, '1h': 90 * 86_400_000 };
  }
}
