import type { VariantSnapshot } from '../../../src/dashboard/model.js';

export type Accessor = (s: VariantSnapshot) => number | null | undefined;

/** One line of a chart, described as data so panels stay declarative. */
export interface SeriesDef {
  readonly key: string;
  readonly label: string;
  readonly get: Accessor;
  /** Index into the palette's metric tones. */
  readonly tone: number;
  /** Drawn dashed regardless of variant (e.g. a limit or ceiling line). */
  readonly dashed?: boolean;
  readonly width?: number;
}

export interface PlotSeries {
  readonly key: string;
  readonly label: string;
  readonly variant: string;
  readonly tone: number;
  readonly dashed: boolean;
  readonly width: number;
  readonly values: (number | null)[];
}

/** Columns ready for the chart: x in seconds (uPlot's unit), one array per series. */
export interface PlotData {
  readonly x: number[];
  readonly series: PlotSeries[];
}

/**
 * Lines up several variants on one time axis. Variants are scraped in the same round, so their
 * timestamps mostly coincide; where one lacks a point the value is null (a gap, not a zero).
 */
export function plotData(defs: readonly SeriesDef[], variants: readonly string[], byVariant: ReadonlyMap<string, readonly VariantSnapshot[]>): PlotData {
  const lists = variants.map((v) => byVariant.get(v) ?? []);
  const x = unionTimes(lists);
  const index = new Map<number, number>();
  for (const [i, t] of x.entries()) index.set(t, i);
  const series: PlotSeries[] = [];
  variants.forEach((variant, vi) => {
    const list = lists[vi];
    for (const def of defs) {
      const values: (number | null)[] = new Array(x.length).fill(null);
      for (const p of list) {
        const v = def.get(p);
        values[index.get(p.ts / 1000)!] = v === undefined || v === null || Number.isNaN(v) ? null : v;
      }
      series.push({
        key: variants.length > 1 ? `${def.key}:${variant}` : def.key,
        label: variants.length > 1 ? `${def.label} \u00B7 ${variant}` : def.label,
        variant,
        tone: def.tone,
        dashed: def.dashed ?? false,
        width: def.width ?? 1.5,
        values,
      });
    }
  });
  return { x, series };
}

function unionTimes(lists: readonly (readonly VariantSnapshot[])[]): number[] {
  if (lists.length === 1) return lists[0].map((p) => p.ts / 1000);
  const all = new Set<number>();
  for (const list of lists) for (const p of list) all.add(p.ts / 1000);
  return [...all].sort((a, b) => a - b);
}

/** The newest non-null value of a series, for the caption under a chart. */
export function lastValue(values: readonly (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i -= 1) if (values[i] !== null) return values[i];
  return null;
}

/**
 * The newest value and the largest one in the range, for the legend: the newest alone reads
 * "0.00/s" under a chart whose spikes are plain to see.
 */
export function legendValues(values: readonly (number | null)[]): { last: number | null; max: number | null } {
  let max: number | null = null;
  for (const v of values) if (v !== null && !Number.isNaN(v) && (max === null || v > max)) max = v;
  return { last: lastValue(values), max };
}

/** True when a chart has nothing to draw, so the panel can say so instead of showing a flat line. */
export function isEmptyPlot(data: PlotData): boolean {
  return data.x.length === 0 || data.series.every((s) => s.values.every((v) => v === null));
}
