import type { Metrics, MetricName } from '../../src/metrics/catalogue.js';

/**
 * Sum of a metric's samples whose labels include all of `labels` (for histograms: the
 * `_count` or `_sum` samples, chosen by `part`). Lets tests pin exact counter values while
 * ignoring labels they do not care about (such as the pricing tier at the time of the run).
 */
export async function metricValue(
  metrics: Metrics,
  name: MetricName,
  labels: Record<string, string> = {},
  part: 'value' | 'count' | 'sum' = 'value',
): Promise<number> {
  // The registry's view carries its default labels (variant); a metric's own get() does not.
  const data = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (!data) return 0;
  let total = 0;
  for (const v of data.values) {
    const metricName = (v as { metricName?: string }).metricName;
    if (part === 'count' && metricName !== `${name}_count`) continue;
    if (part === 'sum' && metricName !== `${name}_sum`) continue;
    if (part === 'value' && metricName !== undefined && metricName !== name) continue;
    const l = v.labels as Record<string, string | number>;
    if (Object.entries(labels).every(([k, want]) => String(l[k]) === want)) total += v.value;
  }
  return total;
}
