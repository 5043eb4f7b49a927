/**
 * A counter's increase over a window in PromQL, counted the way the dashboard's collector
 * counts it (dashboard/snapshot/increase.ts), with no extrapolation: canary-report's
 * Prometheus source (prometheus-reader.ts) and the Argo analysis queries (rollout-queries.ts)
 * both build on it, so they compute the same numbers the same way.
 *
 * increase() and rate() do not fit: they extrapolate from the samples inside the range, and
 * prom-client creates a labelled series on its first increment, so a series born inside the
 * window loses everything it counted before its first scrape (80 requests read as ~55).
 *
 * Instead the window is cut into steps. Each step's increase is the value at the step's end
 * minus the value one step earlier; a series absent one step earlier was born in between and
 * counts from zero; a value that went down was reset and counts its whole current value. The
 * increases of consecutive steps telescope: with no reset the sum is the last value minus the
 * value before the window (zero for a series born inside it), exactly. With a step no longer
 * than the scrape interval each step sees at most one new scrape, so a reset is counted as
 * Prometheus counts it; a series that went away inside the window keeps what it counted.
 */

/** PromQL duration of `ms` milliseconds (whole seconds when it is, so queries stay readable). */
export function promDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new RangeError(`not a positive whole number of milliseconds: ${ms}`);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * Per series, its increase over the `step` that ends at each evaluation time. `+ 0` drops the
 * metric name from a series counted from zero, as the subtraction drops it from the others:
 * the same series must have one label set at every step.
 */
export function stepIncrease(selector: string, step: string): string {
  return `(((${selector} - ${selector} offset ${step}) >= 0) or (${selector} + 0))`;
}

/**
 * Per series, its increase over `window` ending at the evaluation time, in steps of `step`
 * (a subquery: its steps sit on multiples of `step`, so the window ends at the last one before
 * the evaluation time and spans `window` to within a step).
 */
export function windowIncrease(selector: string, window: string, step: string): string {
  return `sum_over_time(${stepIncrease(selector, step)}[${window}:${step}])`;
}
