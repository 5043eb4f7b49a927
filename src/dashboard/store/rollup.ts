import { DAY_S, HISTOGRAM_KEYS, bindingOf, observationsOf, perDay, quantilesOf, type DerivedSnapshot, type HistogramDeltas } from '../snapshot/derive.js';
import { STATUS_CLASSES, TOKEN_DIRECTIONS, type StatusClass, type TokenDirection, type VariantSnapshot } from '../model.js';

/**
 * Merges consecutive snapshots of one variant into one coarser point (5s → 1m → 1h). Rates are
 * re-derived from counts (rate × window), so a minute's rate is its requests over its seconds,
 * not a mean of means; quantiles are recomputed from the summed bucket increases; gauges are
 * averaged; lifetime counters and descriptive blocks (quota, build) take the latest value.
 */

type Row = DerivedSnapshot;

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function meanOrNull(xs: readonly (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length === 0 ? null : sum(v) / v.length;
}

/** Σ(rate × window) / Σ window, key by key. */
function mergeRates(maps: readonly Record<string, number>[], windows: readonly number[], total: number): Record<string, number> {
  const out: Record<string, number> = {};
  maps.forEach((m, i) => {
    for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v * windows[i]!;
  });
  for (const k of Object.keys(out)) out[k] = total > 0 ? out[k]! / total : 0;
  return out;
}

function mergeCounts(maps: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v;
  return out;
}

const lastNonNull = <T>(xs: readonly (T | null)[]): T | null => {
  for (let i = xs.length - 1; i >= 0; i--) if (xs[i] !== null) return xs[i]!;
  return null;
};

/**
 * The binding limit over a bucket: replicas per limit averaged over the points that carry the
 * gauge (a limit absent from a point bound none of its replicas), the binding limit the one
 * with the highest mean, the headroom a mean. Points from before the fields existed add nothing.
 */
function mergeBinding(snaps: readonly VariantSnapshot[]): Pick<VariantSnapshot['limiter'], 'binding' | 'binding_replicas' | 'ceiling_headroom_ratio'> {
  const carrying = snaps.filter((s) => s.limiter.binding_replicas !== undefined);
  const replicas: Record<string, number> = {};
  for (const s of carrying)
    for (const [limit, n] of Object.entries(s.limiter.binding_replicas!)) replicas[limit] = (replicas[limit] ?? 0) + n / carrying.length;
  const reported = snaps.some((s) => s.limiter.binding !== undefined && s.limiter.binding !== null);
  return {
    binding: reported ? bindingOf(replicas) : null,
    binding_replicas: replicas,
    ceiling_headroom_ratio: meanOrNull(snaps.map((s) => s.limiter.ceiling_headroom_ratio ?? null)),
  };
}

export function mergeSnapshots(rows: readonly Row[], ts: number): Row {
  if (rows.length === 0) throw new RangeError('mergeSnapshots needs at least one row');
  const snaps = rows.map((r) => r.snapshot);
  const last = snaps[snaps.length - 1]!;
  const w = snaps.map((s) => s.window_s);
  const W = sum(w);
  const rate = (pick: (s: VariantSnapshot) => number) => (W > 0 ? sum(snaps.map((s, i) => pick(s) * w[i]!)) / W : 0);
  const rates = (pick: (s: VariantSnapshot) => Record<string, number>) => mergeRates(snaps.map(pick), w, W);

  const histograms = {} as HistogramDeltas;
  for (const k of HISTOGRAM_KEYS) {
    const len = Math.max(...rows.map((r) => r.histograms[k]?.length ?? 0));
    histograms[k] = Array.from({ length: len }, (_, i) => sum(rows.map((r) => r.histograms[k]?.[i] ?? 0)));
  }

  const requestWindow = sum(snaps.map((s) => s.requests.window));
  const weightedRatio = (pick: (s: VariantSnapshot) => number | null) =>
    requestWindow > 0 ? sum(snaps.map((s) => (pick(s) ?? 0) * s.requests.window)) / requestWindow : null;
  const byClass = rates((s) => s.requests.by_class) as Record<StatusClass, number>;
  for (const c of STATUS_CLASSES) byClass[c] ??= 0;
  const tokenWindow = mergeCounts(snaps.map((s) => s.tokens.window)) as Record<TokenDirection, number>;
  const costWindow = mergeCounts(snaps.map((s) => s.cost_usd.window_by_direction)) as Record<TokenDirection, number>;
  for (const d of TOKEN_DIRECTIONS) {
    tokenWindow[d] ??= 0;
    costWindow[d] ??= 0;
  }
  const costTotal = sum(snaps.map((s) => s.cost_usd.window));
  // Points stored before cost by model existed have no such field: they add nothing to any model.
  const costByModel = mergeCounts(snaps.map((s) => s.cost_usd.window_by_model ?? {}));
  const tputIn = quantilesOf('tput_in', histograms.tput_in, 1);
  const tputOut = quantilesOf('tput_out', histograms.tput_out, 1);
  const tokensByModel: Record<string, Record<TokenDirection, number>> = {};
  for (const s of snaps) {
    for (const [model, dirs] of Object.entries(s.tokens.window_by_model ?? {})) {
      tokensByModel[model] = mergeCounts([tokensByModel[model] ?? {}, dirs]) as Record<TokenDirection, number>;
    }
  }

  const snapshot: VariantSnapshot = {
    ts,
    variant: last.variant,
    window_s: W,
    requests: {
      rate: rate((s) => s.requests.rate),
      by_class: byClass,
      by_code: rates((s) => s.requests.by_code),
      window: requestWindow,
      lifetime: last.requests.lifetime,
      error_ratio: weightedRatio((s) => s.requests.error_ratio),
      throttled_ratio: weightedRatio((s) => s.requests.throttled_ratio),
      client_disconnect_rate: rate((s) => s.requests.client_disconnect_rate),
    },
    latency_ms: quantilesOf('latency', histograms.latency, 1000),
    ttfb_ms: quantilesOf('ttfb', histograms.ttfb, 1000),
    overhead_ms: quantilesOf('overhead', histograms.overhead, 1000),
    buckets: { latency: histograms.latency, ttfb: histograms.ttfb },
    tokens: {
      rate: rates((s) => s.tokens.rate) as Record<TokenDirection, number>,
      window: tokenWindow,
      lifetime: last.tokens.lifetime,
      output_input_ratio: tokenWindow.input > 0 ? tokenWindow.output / tokenWindow.input : null,
      throughput_output: { p90: tputOut.p90, p99: tputOut.p99 },
      throughput_input: { p90: tputIn.p90, p99: tputIn.p99 },
      usage_source_rate: rates((s) => s.tokens.usage_source_rate),
      window_by_model: tokensByModel,
      counted_by_model: mergeCounts(snaps.map((s) => s.tokens.counted_by_model ?? {})),
    },
    cost_usd: {
      window: costTotal,
      window_by_direction: costWindow,
      per_hour: W > 0 ? (costTotal / W) * 3600 : 0,
      lifetime: last.cost_usd.lifetime,
      per_day: W > 0 ? (costTotal / W) * DAY_S : 0,
      window_by_model: costByModel,
      per_day_by_model: perDay(costByModel, W),
    },
    limiter: {
      rate_rps: meanOrNull(snaps.map((s) => s.limiter.rate_rps)),
      ceiling_rps: meanOrNull(snaps.map((s) => s.limiter.ceiling_rps)),
      concurrency_limit: meanOrNull(snaps.map((s) => s.limiter.concurrency_limit)),
      queue_depth: meanOrNull(snaps.map((s) => s.limiter.queue_depth)),
      wait_ms: quantilesOf('wait', histograms.wait, 1000),
      waits_rate: W > 0 ? observationsOf(histograms.wait) / W : 0,
      rejection_rate: rate((s) => s.limiter.rejection_rate),
      rejections_by_reason: rates((s) => s.limiter.rejections_by_reason),
      adjustments_window: mergeCounts(snaps.map((s) => s.limiter.adjustments_window)),
      ...mergeBinding(snaps),
    },
    errors: {
      upstream_rate: rate((s) => s.errors.upstream_rate),
      upstream_by_type: rates((s) => s.errors.upstream_by_type),
      zai_by_class: rates((s) => s.errors.zai_by_class),
      zai_by_code: rates((s) => s.errors.zai_by_code),
      retry_rate: rate((s) => s.errors.retry_rate),
      retries_by_reason: rates((s) => s.errors.retries_by_reason),
    },
    workers: {
      in_flight: meanOrNull(snaps.map((s) => s.workers.in_flight)),
      max_workers: meanOrNull(snaps.map((s) => s.workers.max_workers)),
      utilization: meanOrNull(snaps.map((s) => s.workers.utilization)),
    },
    quota: lastNonNull(snaps.map((s) => s.quota)),
    build: lastNonNull(snaps.map((s) => s.build)),
    scrape: {
      up: snaps.every((s) => s.scrape.up),
      duration_ms: Math.max(...snaps.map((s) => s.scrape.duration_ms)),
      last_success_ms: lastNonNull(snaps.map((s) => s.scrape.last_success_ms)),
      targets: last.scrape.targets,
      targets_up: last.scrape.targets_up,
      series: last.scrape.series,
    },
  };
  return { snapshot, histograms };
}
