import { DURATION_BUCKETS, OVERHEAD_BUCKETS, TOKENS_PER_SECOND_BUCKETS, WAIT_BUCKETS } from '../../../src/metrics/buckets.js';

const top = (bounds: readonly number[]) => bounds[bounds.length - 1]!;

/**
 * The largest finite bucket bound of each histogram the page shows quantiles of, in the unit the
 * page shows them in. A quantile whose rank falls past it is answered with the bound itself
 * (as Prometheus's histogram_quantile does), so a figure there means "this much or more".
 */
export const QUANTILE_TOP = {
  durationMs: top(DURATION_BUCKETS) * 1000,
  overheadMs: top(OVERHEAD_BUCKETS) * 1000,
  waitMs: top(WAIT_BUCKETS) * 1000,
  tokensPerSecond: top(TOKENS_PER_SECOND_BUCKETS),
} as const;

/** A quantile formatter that writes "≥" before a value at the histogram's top bound. */
export function quantileFormat(format: (v: number | null) => string, topBound: number): (v: number | null) => string {
  return (v) => (v !== null && Number.isFinite(v) && v >= topBound * (1 - 1e-9) ? `\u2265${format(v)}` : format(v));
}
