/**
 * histogram_quantile over one window's bucket increases, the way Prometheus computes it: linear
 * interpolation inside the bucket holding the rank, the lowest bucket starting at 0, and a rank
 * that lands in the +Inf bucket answered with the highest finite bound (never infinity).
 */

/**
 * @param q quantile in [0, 1]
 * @param bounds finite upper bounds, ascending
 * @param cumulative cumulative counts, one per bound plus a final +Inf entry
 * @returns the estimate, or null when the window holds no observations
 */
export function histogramQuantile(q: number, bounds: readonly number[], cumulative: readonly number[]): number | null {
  if (!(q >= 0 && q <= 1)) return null;
  const total = cumulative[bounds.length] ?? 0;
  if (!(total > 0)) return null;
  const rank = q * total;
  // First bucket whose cumulative count reaches the rank; the +Inf bucket answers the top bound.
  let b = 0;
  while (b < bounds.length && (cumulative[b] ?? 0) < rank) b++;
  if (b === bounds.length) return bounds.length > 0 ? bounds[bounds.length - 1]! : null;
  const end = bounds[b]!;
  if (b === 0 && end <= 0) return end;
  const start = b === 0 ? 0 : bounds[b - 1]!;
  const below = b === 0 ? 0 : (cumulative[b - 1] ?? 0);
  const inBucket = (cumulative[b] ?? 0) - below;
  if (!(inBucket > 0)) return start;
  return start + (end - start) * ((rank - below) / inBucket);
}

/** Cumulative counts are not guaranteed monotonic after per-series reset handling; repair like Prometheus does. */
export function monotonic(cumulative: readonly number[]): number[] {
  const out: number[] = [];
  let max = 0;
  for (const c of cumulative) {
    max = Math.max(max, Number.isFinite(c) ? c : 0);
    out.push(max);
  }
  return out;
}
