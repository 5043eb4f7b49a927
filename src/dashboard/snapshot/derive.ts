import type { MetricName } from '../../metrics/catalogue.js';
import {
  STATUS_CLASSES,
  TOKEN_DIRECTIONS,
  type BuildInfo,
  type LimiterStats,
  type QuotaState,
  type QuotaWindow,
  type Quantiles,
  type ScrapeHealth,
  type StatusClass,
  type TokenDirection,
  type VariantSnapshot,
} from '../model.js';
import { parseValue } from './exposition.js';
import type { SeriesPoint } from './increase.js';
import { METRIC, bucketsOf } from './names.js';
import { histogramQuantile, monotonic } from './quantile.js';

/**
 * Snapshot derivation: one variant's points (current values and per-series increases over the
 * window) become the VariantSnapshot the UI shows. Pure: the same points give the same snapshot,
 * whether they came from our own scrape or from a Prometheus query.
 */

/** Bucket increases kept beside a stored snapshot so rollups can recompute quantiles exactly. */
export const HISTOGRAMS = {
  latency: { metric: METRIC.zai_proxy_request_duration_seconds, filter: undefined },
  ttfb: { metric: METRIC.zai_proxy_time_to_first_byte_seconds, filter: undefined },
  overhead: { metric: METRIC.zai_proxy_overhead_seconds, filter: undefined },
  wait: { metric: METRIC.zai_proxy_rate_limit_wait_seconds, filter: undefined },
  tput_in: { metric: METRIC.zai_proxy_token_rate, filter: ['direction', 'input'] },
  tput_out: { metric: METRIC.zai_proxy_token_rate, filter: ['direction', 'output'] },
} as const satisfies Record<string, { metric: MetricName; filter: readonly [string, string] | undefined }>;
export type HistogramKey = keyof typeof HISTOGRAMS;
/** Cumulative bucket increases over the window: one entry per catalogue bound, then +Inf. */
export type HistogramDeltas = Record<HistogramKey, number[]>;
export const HISTOGRAM_KEYS = Object.keys(HISTOGRAMS) as HistogramKey[];

export interface DerivedSnapshot {
  snapshot: VariantSnapshot;
  histograms: HistogramDeltas;
}

export interface DeriveInput {
  ts: number;
  variant: string;
  /** Seconds the increases cover; 0 when there are none yet (first scrape). */
  windowS: number;
  points: readonly SeriesPoint[];
  scrape: ScrapeHealth;
}

class PointIndex {
  private readonly byName = new Map<string, SeriesPoint[]>();
  constructor(points: readonly SeriesPoint[]) {
    for (const p of points) {
      const list = this.byName.get(p.name);
      if (list) list.push(p);
      else this.byName.set(p.name, [p]);
    }
  }
  get(name: string): readonly SeriesPoint[] {
    return this.byName.get(name) ?? [];
  }
}

const finite = (v: number) => (Number.isFinite(v) ? v : 0);

/** Σ increase of a counter, grouped by one label (or all together under ""). */
function increaseBy(points: readonly SeriesPoint[], label?: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of points) {
    if (p.increase === null) continue;
    const key = label === undefined ? '' : (p.labels[label] ?? '');
    out[key] = (out[key] ?? 0) + finite(p.increase);
  }
  return out;
}

function valueBy(points: readonly SeriesPoint[], label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of points) {
    const key = p.labels[label] ?? '';
    out[key] = (out[key] ?? 0) + finite(p.value);
  }
  return out;
}

const sumValues = (points: readonly SeriesPoint[]) => points.reduce((a, p) => a + finite(p.value), 0);
const gaugeSum = (points: readonly SeriesPoint[]) => (points.length === 0 ? null : sumValues(points));
const gaugeMean = (points: readonly SeriesPoint[]) => (points.length === 0 ? null : sumValues(points) / points.length);

function perSecond(counts: Record<string, number>, windowS: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts)) out[k] = windowS > 0 ? v / windowS : 0;
  return out;
}

export const DAY_S = 86_400;

/** USD per day at each key's pace over `windowS` seconds. */
export function perDay(counts: Record<string, number>, windowS: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts)) out[k] = windowS > 0 ? (v / windowS) * DAY_S : 0;
  return out;
}

/** Keys whose value is not zero: a model that cost nothing in the window is not listed. */
function nonZero(values: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) if (v !== 0) out[k] = v;
  return out;
}

function byDirection(values: Record<string, number>): Record<TokenDirection, number> {
  const out = {} as Record<TokenDirection, number>;
  for (const d of TOKEN_DIRECTIONS) out[d] = values[d] ?? 0;
  return out;
}

function histogramDeltas(index: PointIndex, key: HistogramKey): number[] {
  const { metric, filter } = HISTOGRAMS[key];
  const bounds = bucketsOf(metric);
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (const p of index.get(`${metric}_bucket`)) {
    if (p.increase === null) continue;
    if (filter && p.labels[filter[0]] !== filter[1]) continue;
    const le = parseValue(p.labels.le ?? '');
    if (le === undefined) continue;
    const i = le === Infinity ? bounds.length : bounds.findIndex((b) => Math.abs(b - le) <= Math.abs(b) * 1e-9);
    if (i >= 0) counts[i] = counts[i]! + finite(p.increase);
  }
  return monotonic(counts);
}

export function quantilesOf(key: HistogramKey, cumulative: readonly number[], scale: number): Quantiles {
  const bounds = bucketsOf(HISTOGRAMS[key].metric);
  const q = (x: number) => {
    const v = histogramQuantile(x, bounds, cumulative);
    return v === null ? null : v * scale;
  };
  return { p50: q(0.5), p90: q(0.9), p95: q(0.95), p99: q(0.99) };
}

export const observationsOf = (cumulative: readonly number[]) => cumulative[cumulative.length - 1] ?? 0;

/** Token increases by model, then direction; models without tokens in the window are left out. */
function tokensByModelOf(points: readonly SeriesPoint[]): Record<string, Record<TokenDirection, number>> {
  const out: Record<string, Record<TokenDirection, number>> = {};
  for (const p of points) {
    if (p.increase === null || !(p.increase > 0)) continue;
    const model = p.labels.model ?? '';
    const d = p.labels.direction as TokenDirection;
    if (!TOKEN_DIRECTIONS.includes(d)) continue;
    const m = (out[model] ??= byDirection({}));
    m[d] += p.increase;
  }
  return out;
}

const QUOTA_PREFERENCE = ['credit_limit', 'tokens_limit'];

export function quotaFrom(index: PointIndex, windowS: number): QuotaState | null {
  const usage = index.get(METRIC.zai_proxy_quota_usage_ratio);
  const remaining = index.get(METRIC.zai_proxy_quota_remaining_ratio);
  const reset = index.get(METRIC.zai_proxy_quota_reset_time_seconds);
  const age = index.get(METRIC.zai_proxy_quota_sample_age_seconds);
  const polls = index.get(METRIC.zai_proxy_quota_poll_total);
  const windows: Record<string, QuotaWindow> = {};
  const windowNames = new Set([...usage, ...remaining, ...reset].map((p) => p.labels.window ?? 'unknown'));
  windowNames.delete('unknown');
  for (const w of [...windowNames].sort()) {
    const inWindow = (ps: readonly SeriesPoint[]) => ps.filter((p) => p.labels.window === w);
    const types = new Set([...inWindow(usage), ...inWindow(remaining), ...inWindow(reset)].map((p) => (p.labels.limit_type ?? '').toLowerCase()));
    // One schema per window, never mixed: the preferred limit type, else the smallest name (stable across scrapes).
    const chosen = QUOTA_PREFERENCE.find((t) => types.has(t)) ?? [...types].sort()[0]!;
    const pick = (ps: readonly SeriesPoint[]) => {
      const p = inWindow(ps).find((x) => (x.labels.limit_type ?? '').toLowerCase() === chosen);
      return p && Number.isFinite(p.value) ? p.value : null;
    };
    const resetS = pick(reset);
    windows[w] = {
      limit_type: chosen,
      usage_ratio: pick(usage),
      remaining_ratio: pick(remaining),
      reset_ms: resetS !== null && resetS > 0 ? resetS * 1000 : null,
    };
  }
  const ages = age.map((p) => p.value).filter(Number.isFinite);
  const sampleAge = ages.length > 0 ? Math.max(...ages) : null;
  if (Object.keys(windows).length === 0 && sampleAge === null && polls.length === 0) return null;
  return { windows, sample_age_s: sampleAge, poll_rate: perSecond(increaseBy(polls, 'result'), windowS) };
}

function buildFrom(index: PointIndex): BuildInfo | null {
  const p = index.get(METRIC.zai_proxy_build_info)[0];
  if (!p) return null;
  return { version: p.labels.version ?? '', commit: p.labels.commit ?? '', build_time: p.labels.build_time ?? '' };
}

const ratio = (num: number, den: number) => (den > 0 ? num / den : null);

/**
 * Which limit binds when replicas disagree: the one binding the most of them, and on a tie the
 * one further from the proxy's own choice (the upstream refusing outranks quota pacing, which
 * outranks the adaptive limits, which outrank none).
 */
export const BINDING_PRECEDENCE = ['upstream', 'quota_pacing', 'concurrency', 'learned_rate', 'none'] as const;

export function bindingOf(replicas: Record<string, number>): string | null {
  const rank = (limit: string) => {
    const i = (BINDING_PRECEDENCE as readonly string[]).indexOf(limit);
    return i === -1 ? BINDING_PRECEDENCE.length : i;
  };
  let best: string | null = null;
  for (const [limit, n] of Object.entries(replicas)) {
    if (!(n > 0)) continue;
    const current = best === null ? 0 : replicas[best]!;
    if (best === null || n > current || (n === current && (rank(limit) < rank(best) || (rank(limit) === rank(best) && limit < best)))) best = limit;
  }
  return best;
}

/** The limiter's binding limit and headroom, from the gauges of every replica of one variant. */
function bindingFrom(index: PointIndex): Pick<LimiterStats, 'binding' | 'binding_replicas' | 'ceiling_headroom_ratio'> {
  const gauge = index.get(METRIC.zai_proxy_limiter_binding);
  const replicas = nonZero(valueBy(gauge, 'limit'));
  const rate = index.get(METRIC.zai_proxy_rate_limit_requests_per_second);
  const ceiling = gaugeMean(index.get(METRIC.zai_proxy_rate_limit_ceiling));
  // Each replica sets exactly one limit to 1, so the gauge counts the replicas even where the
  // rate arrives already summed (a Prometheus source); without it, one rate point per replica.
  const counted = Object.values(replicas).reduce((a, b) => a + b, 0);
  const perReplicaRate = rate.length === 0 ? null : sumValues(rate) / (counted > 0 ? counted : rate.length);
  return {
    binding: gauge.length === 0 ? null : bindingOf(replicas),
    binding_replicas: replicas,
    ceiling_headroom_ratio: perReplicaRate !== null && ceiling !== null && ceiling > 0 ? 1 - perReplicaRate / ceiling : null,
  };
}

export function deriveSnapshot(input: DeriveInput): DerivedSnapshot {
  const { ts, variant, scrape } = input;
  // biome-ignore lint/complexity/useMathMinMax: a NaN window must read as 0, which Math.max would not do
  const w = input.windowS > 0 ? input.windowS : 0;
  const index = new PointIndex(input.points);
  const rate = (count: number) => (w > 0 ? count / w : 0);

  const requests = index.get(METRIC.zai_proxy_requests_total);
  const byCodeCount = increaseBy(requests, 'status_code');
  const byClass = {} as Record<StatusClass, number>;
  for (const c of STATUS_CLASSES) byClass[c] = 0;
  let requestWindow = 0;
  for (const [code, n] of Object.entries(byCodeCount)) {
    requestWindow += n;
    const cls = `${code[0]}xx` as StatusClass;
    if (cls in byClass) byClass[cls] += rate(n);
  }
  const byCode: Record<string, number> = {};
  for (const [code, n] of Object.entries(byCodeCount)) if (n > 0) byCode[code] = rate(n);
  const fiveXx = Object.entries(byCodeCount).reduce((a, [c, n]) => (c.startsWith('5') ? a + n : a), 0);

  const histograms = {} as HistogramDeltas;
  for (const k of HISTOGRAM_KEYS) histograms[k] = histogramDeltas(index, k);

  const tokens = index.get(METRIC.zai_proxy_tokens_total);
  const tokenWindow = byDirection(increaseBy(tokens, 'direction'));
  const tokenRate = {} as Record<TokenDirection, number>;
  for (const d of TOKEN_DIRECTIONS) tokenRate[d] = rate(tokenWindow[d]);
  const cost = index.get(METRIC.zai_proxy_estimated_cost_usd_total);
  const costWindow = byDirection(increaseBy(cost, 'direction'));
  const costTotal = TOKEN_DIRECTIONS.reduce((a, d) => a + costWindow[d], 0);
  const costByModel = nonZero(increaseBy(cost, 'model'));

  const tokensByModel = tokensByModelOf(tokens);
  const countedByModel = nonZero(
    increaseBy(
      index.get(`${METRIC.zai_proxy_token_rate}_count`).filter((p) => p.labels.direction === 'input'),
      'model',
    ),
  );

  const tputIn = quantilesOf('tput_in', histograms.tput_in, 1);
  const tputOut = quantilesOf('tput_out', histograms.tput_out, 1);
  const rejections = increaseBy(index.get(METRIC.zai_proxy_rate_limit_rejections_total), 'reason');
  const upstream = increaseBy(index.get(METRIC.zai_proxy_upstream_errors_total), 'error_type');
  const retries = increaseBy(index.get(METRIC.zai_proxy_retry_attempts_total), 'reason');
  const inFlight = gaugeSum(index.get(METRIC.zai_proxy_concurrent_requests));
  const maxWorkers = gaugeSum(index.get(METRIC.zai_proxy_max_workers));
  const sumOf = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

  const snapshot: VariantSnapshot = {
    ts,
    variant,
    window_s: w,
    requests: {
      rate: rate(requestWindow),
      by_class: byClass,
      by_code: byCode,
      window: requestWindow,
      lifetime: sumValues(requests),
      error_ratio: ratio(fiveXx, requestWindow),
      throttled_ratio: ratio(byCodeCount['429'] ?? 0, requestWindow),
      client_disconnect_rate: rate(sumOf(increaseBy(index.get(METRIC.zai_proxy_client_disconnects_total)))),
    },
    latency_ms: quantilesOf('latency', histograms.latency, 1000),
    ttfb_ms: quantilesOf('ttfb', histograms.ttfb, 1000),
    overhead_ms: quantilesOf('overhead', histograms.overhead, 1000),
    buckets: { latency: histograms.latency, ttfb: histograms.ttfb },
    tokens: {
      rate: tokenRate,
      window: tokenWindow,
      lifetime: byDirection(valueBy(tokens, 'direction')),
      output_input_ratio: ratio(tokenWindow.output, tokenWindow.input),
      throughput_output: { p90: tputOut.p90, p99: tputOut.p99 },
      throughput_input: { p90: tputIn.p90, p99: tputIn.p99 },
      usage_source_rate: perSecond(increaseBy(index.get(METRIC.zai_proxy_usage_source_total), 'source'), w),
      window_by_model: tokensByModel,
      counted_by_model: countedByModel,
    },
    cost_usd: {
      window: costTotal,
      window_by_direction: costWindow,
      per_hour: rate(costTotal) * 3600,
      lifetime: sumValues(cost),
      per_day: rate(costTotal) * DAY_S,
      window_by_model: costByModel,
      per_day_by_model: perDay(costByModel, w),
    },
    limiter: {
      rate_rps: gaugeSum(index.get(METRIC.zai_proxy_rate_limit_requests_per_second)),
      // Replicas sharing a budget report the same ceiling: an average, not a sum.
      ceiling_rps: gaugeMean(index.get(METRIC.zai_proxy_rate_limit_ceiling)),
      concurrency_limit: gaugeSum(index.get(METRIC.zai_proxy_concurrency_limit)),
      queue_depth: gaugeSum(index.get(METRIC.zai_proxy_queue_depth)),
      wait_ms: quantilesOf('wait', histograms.wait, 1000),
      waits_rate: rate(observationsOf(histograms.wait)),
      rejection_rate: rate(sumOf(rejections)),
      rejections_by_reason: perSecond(rejections, w),
      adjustments_window: increaseBy(index.get(METRIC.zai_proxy_rate_limit_adjustments_total), 'direction'),
      ...bindingFrom(index),
    },
    errors: {
      upstream_rate: rate(sumOf(upstream)),
      upstream_by_type: perSecond(upstream, w),
      zai_by_class: perSecond(increaseBy(index.get(METRIC.zai_proxy_zai_errors_total), 'class'), w),
      zai_by_code: perSecond(increaseBy(index.get(METRIC.zai_proxy_zai_errors_total), 'code'), w),
      retry_rate: rate(sumOf(retries)),
      retries_by_reason: perSecond(retries, w),
    },
    workers: {
      in_flight: inFlight,
      max_workers: maxWorkers,
      utilization:
        inFlight !== null && maxWorkers !== null && maxWorkers > 0 ? inFlight / maxWorkers : gaugeMean(index.get(METRIC.zai_proxy_worker_utilization_ratio)),
    },
    quota: quotaFrom(index, w),
    build: buildFrom(index),
    scrape,
  };
  return { snapshot, histograms };
}
