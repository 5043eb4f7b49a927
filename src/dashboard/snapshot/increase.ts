import type { Labels, Sample } from './exposition.js';

/**
 * Counter increases between two scrapes of one target, per series, before anything is summed:
 * summing first would hide a reset of one series behind the growth of another. A series whose
 * value went down was reset (its increase is its whole current value, as in Prometheus); a
 * series that was absent last time appeared during the window (prom-client creates a labelled
 * series on its first increment); a changed process start time means the whole proxy restarted,
 * so every counter counts from zero again.
 */

export function seriesKey(name: string, labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let key = name;
  for (const k of keys) key += `\u0000${k}\u0001${labels[k]}`;
  return key;
}

export interface SeriesPoint {
  readonly name: string;
  readonly labels: Labels;
  /** Current value (lifetime for counters). */
  readonly value: number;
  /** Increase over the window for counter-like samples; null for gauges or on a first scrape. */
  readonly increase: number | null;
}

export interface PreviousPage {
  readonly values: ReadonlyMap<string, number>;
  /** process_start_time_seconds of the scraped process, when exported. */
  readonly startTime: number | undefined;
}

export const START_TIME_METRIC = 'process_start_time_seconds';

export function startTimeOf(samples: readonly Sample[]): number | undefined {
  for (const s of samples) if (s.name === START_TIME_METRIC && Number.isFinite(s.value)) return s.value;
  return undefined;
}

/** The increase of one counter series between two readings. */
export function counterIncrease(prev: number | undefined, cur: number, restarted: boolean): number {
  if (!Number.isFinite(cur) || cur < 0) return 0;
  if (restarted || prev === undefined || !Number.isFinite(prev)) return cur;
  return cur >= prev ? cur - prev : cur;
}

/**
 * Turns a page into points with per-series increases. `isCounterLike(name)` says which sample
 * names accumulate (counters, histogram buckets, sums and counts).
 */
export function pointsWithIncreases(
  samples: readonly Sample[],
  previous: PreviousPage | undefined,
  isCounterLike: (sampleName: string) => boolean,
): { points: SeriesPoint[]; page: PreviousPage } {
  const startTime = startTimeOf(samples);
  const restarted = previous !== undefined && previous.startTime !== undefined && startTime !== undefined && startTime !== previous.startTime;
  const values = new Map<string, number>();
  const points: SeriesPoint[] = [];
  for (const s of samples) {
    const counterLike = isCounterLike(s.name);
    if (!counterLike) {
      points.push({ name: s.name, labels: s.labels, value: s.value, increase: null });
      continue;
    }
    const key = seriesKey(s.name, s.labels);
    values.set(key, s.value);
    const increase = previous === undefined ? null : counterIncrease(previous.values.get(key), s.value, restarted);
    points.push({ name: s.name, labels: s.labels, value: s.value, increase });
  }
  return { points, page: { values, startTime } };
}
