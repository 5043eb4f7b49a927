/** @jsxRuntime automatic */
import { useMemo } from 'react';
import { TimeChart } from '../chart/TimeChart.js';
import { type SeriesDef, plotData } from '../data/series.js';
import type { PanelView } from './view.js';

/** A chart of some series for the variants in view (or every variant, for by-variant charts). */
export function ViewChart(props: {
  view: PanelView;
  title: string;
  defs: readonly SeriesDef[];
  format: (v: number | null) => string;
  emptyText: string;
  note?: string;
  allVariants?: boolean;
  ratioAxis?: boolean;
  height?: number;
  axisFormat?: (v: number) => string;
}) {
  const { view, defs } = props;
  const variants = props.allVariants ? view.allVariants : view.variants;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the dataset version says when points changed; variants are compared by their joined names
  const data = useMemo(
    () => plotData(defs, variants, view.dataset.byVariant),
    // defs are module constants or rebuilt with the variant list; the dataset version says when points changed
    [defs, variants.join(','), view.dataset],
  );
  const xRange = useMemo((): [number, number] | null => {
    let to = -Infinity;
    for (const list of view.dataset.byVariant.values()) if (list.length > 0) to = Math.max(to, list[list.length - 1].ts);
    return Number.isFinite(to) ? [(to - view.rangeMs) / 1000, to / 1000] : null;
  }, [view.dataset, view.rangeMs]);
  return (
    <TimeChart
      xRange={xRange}
      axisFormat={props.axisFormat}
      title={props.title}
      note={props.note}
      data={data}
      format={props.format}
      palette={view.palette}
      overlaid={variants.length > 1}
      variants={variants}
      emptyText={props.emptyText}
      ratioAxis={props.ratioAxis}
      height={props.height}
    />
  );
}
