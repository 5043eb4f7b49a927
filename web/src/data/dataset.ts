import type { MetricsResponse, VariantSnapshot } from '../../../src/dashboard/model.js';

/** The time ranges the API answers, in the order the control shows them. */
export const RANGES = ['5m', '15m', '1h', '6h', '24h', '7d', '30d', '90d'] as const;
export type RangeKey = (typeof RANGES)[number];

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export function rangeMs(range: RangeKey): number {
  const unit = range.slice(-1) as keyof typeof UNIT_MS;
  return Number(range.slice(0, -1)) * UNIT_MS[unit];
}

/** The longest range the page opens with unasked: longer ones are a click away, and cost more to fetch. */
export const DEFAULT_RANGE_CAP: RangeKey = '24h';

/**
 * The range a page opens with when the link names none: the shortest one that holds the history
 * there is (a new installation's two minutes fill 5m instead of a few pixels of 1h), at most
 * DEFAULT_RANGE_CAP. `oldestMs` null means nothing stored yet; undefined means the dashboard
 * cannot tell (its history lives in Prometheus), and then 1h.
 */
export function defaultRange(oldestMs: number | null | undefined, nowMs: number): RangeKey {
  if (oldestMs === undefined) return '1h';
  if (oldestMs === null) return '5m';
  const span = Math.max(0, nowMs - oldestMs);
  const cap = RANGES.indexOf(DEFAULT_RANGE_CAP);
  for (const r of RANGES.slice(0, cap + 1)) if (rangeMs(r) >= span) return r;
  return DEFAULT_RANGE_CAP;
}

export const isRange = (v: unknown): v is RangeKey => typeof v === 'string' && (RANGES as readonly string[]).includes(v);

/**
 * What the page draws: history for the selected range, plus live snapshots appended as they
 * arrive, per variant, each list sorted by time. Immutable: every change returns a new object
 * so React sees it.
 */
export interface Dataset {
  readonly range: RangeKey;
  readonly rangeMs: number;
  /** Step of the history points (5 s, 1 m or 1 h). */
  readonly stepMs: number;
  readonly byVariant: ReadonlyMap<string, readonly VariantSnapshot[]>;
  /** Per variant, the end of the newest history bucket: live snapshots before it are already counted. */
  readonly historyUntil: ReadonlyMap<string, number>;
  /** Bumped on every change, cheap to compare in memo dependencies. */
  readonly version: number;
}

export function emptyDataset(range: RangeKey): Dataset {
  return { range, rangeMs: rangeMs(range), stepMs: 0, byVariant: new Map(), historyUntil: new Map(), version: 0 };
}

export function datasetFromHistory(range: RangeKey, res: MetricsResponse): Dataset {
  const byVariant = new Map<string, VariantSnapshot[]>();
  for (const p of res.points) {
    let list = byVariant.get(p.variant);
    if (!list) byVariant.set(p.variant, (list = []));
    list.push(p);
  }
  const historyUntil = new Map<string, number>();
  for (const [variant, list] of byVariant) {
    list.sort((a, b) => a.ts - b.ts);
    // Raw (5s) points are the scrapes themselves: only exact repeats are skipped. Coarser points are
    // buckets [ts, ts + step) whose totals already include the live snapshots inside them.
    historyUntil.set(variant, list[list.length - 1].ts + (res.resolution === '5s' ? 1 : res.step_ms));
  }
  return { range, rangeMs: res.range_ms || rangeMs(range), stepMs: res.step_ms, byVariant, historyUntil, version: 1 };
}

/**
 * Appends a live snapshot. A coarse history point covers [ts, ts + step), so a live snapshot
 * inside the newest history bucket is already counted there and is skipped (otherwise window
 * totals would count those minutes twice). Points older than the range are dropped.
 */
export function appendSnapshot(ds: Dataset, snap: VariantSnapshot, nowMs: number): Dataset {
  const list = ds.byVariant.get(snap.variant) ?? [];
  const last = list[list.length - 1];
  if (last && snap.ts <= last.ts) return ds;
  if (snap.ts < (ds.historyUntil.get(snap.variant) ?? -Infinity)) return ds;
  const from = nowMs - ds.rangeMs;
  let start = 0;
  while (start < list.length && list[start].ts < from) start += 1;
  const next = new Map(ds.byVariant);
  next.set(snap.variant, [...list.slice(start), snap]);
  return { ...ds, byVariant: next, version: ds.version + 1 };
}

export function variantsOf(ds: Dataset): string[] {
  return sortVariants([...ds.byVariant.keys()]);
}

/** stable before canary before the rest, so colours and column order never shuffle. */
export function sortVariants(names: Iterable<string>): string[] {
  const rank = (v: string) => (v === 'stable' || v === 'production' ? 0 : v === 'canary' ? 1 : 2);
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export function latestOf(ds: Dataset, variant: string): VariantSnapshot | null {
  const list = ds.byVariant.get(variant);
  return list && list.length > 0 ? list[list.length - 1] : null;
}
