/** @jsxRuntime automatic */
// (The pragma lets the repository's tsx loader, whose tsconfig has no JSX setting, run these files in tests.)
import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import { formatCompact, formatDateTime } from '../format/format.js';
import { AXIS_FONT, AXIS_GAP, AXIS_TICK_SIZE, timeAxisIncrs, timeAxisSpace, timeTickLabels, yAxisSize } from './axes.js';
import { type PlotData, isEmptyPlot, legendValues } from '../data/series.js';
import { type Palette, seriesColor } from '../theme/palette.js';

export interface TimeChartProps {
  readonly title: string;
  readonly data: PlotData;
  /** Formats a y value with its unit, for axis ticks, the hover readout and the legend. */
  readonly format: (v: number | null) => string;
  readonly palette: Palette;
  /** Several variants overlaid: colour by variant family and dash the later variants. */
  readonly overlaid: boolean;
  readonly variants: readonly string[];
  readonly height?: number;
  /** One line under the title saying what the chart measures, when its title cannot. */
  readonly note?: string;
  /** Said instead of an empty plot. */
  readonly emptyText: string;
  /** Fix the y axis at 0..1 (ratios) instead of auto-ranging. */
  readonly ratioAxis?: boolean;
  /** Axis tick labels; compact and unitless by default. */
  readonly axisFormat?: (v: number) => string;
  /** The x extent in seconds (the selected range), so where the data sits in the range is visible. */
  readonly xRange?: readonly [number, number] | null;
}

const DASH_CANARY = [6, 4];
const DASH_LIMIT = [2, 3];

/**
 * A thin wrapper over uPlot: one canvas per chart, created when the set of series or the theme
 * changes and fed with setData otherwise, so a live update redraws without rebuilding. The legend
 * is ordinary HTML with each series' newest value and its peak in the range as text, so it reads without hovering, is
 * rendered on the server in tests, and names the variant instead of relying on colour.
 */
export function TimeChart(props: TimeChartProps) {
  const { data, palette, overlaid, variants, format, height = 160, ratioAxis = false, axisFormat = formatCompact, xRange = null } = props;
  const host = useRef<HTMLDivElement>(null);
  const readout = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // The hover hook is installed once per plot; it reads the newest labels and formatter from here.
  const latest = useRef({ data, format, xRange, axisFormat });
  latest.current = { data, format, xRange, axisFormat };
  const empty = isEmptyPlot(data);

  // The shape: which series exist and how they look. Values are not part of it.
  const shape = data.series.map((s) => `${s.key}|${s.tone}|${s.dashed}`).join(',');
  // biome-ignore lint/correctness/useExhaustiveDependencies: styles follow the series shape string, not the data object that changes every tick
  const styles = useMemo(
    () =>
      data.series.map((s) => {
        const vi = Math.max(0, variants.indexOf(s.variant));
        return {
          color: seriesColor(palette, s.tone, vi, overlaid),
          dash: s.dashed ? DASH_LIMIT : overlaid && vi > 0 ? DASH_CANARY : undefined,
        };
      }),
    [shape, palette, overlaid, variants.join(',')],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: the plot is rebuilt when its shape changes; values and labels reach it through `latest`
  useEffect(() => {
    const el = host.current;
    if (!el || empty) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: {
        x: {
          time: true,
          range: (_u, min, max) => {
            const r = latest.current.xRange;
            return r ? [Math.min(r[0], min), Math.max(r[1], max)] : [min, max];
          },
        },
        y: ratioAxis ? { range: [0, 1] } : { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        {
          stroke: palette.axis,
          font: AXIS_FONT,
          gap: AXIS_GAP,
          grid: { stroke: palette.grid, width: 1 },
          ticks: { stroke: palette.grid, size: AXIS_TICK_SIZE },
          space: (_u, _i, min, max) => timeAxisSpace((max - min) * 1000),
          incrs: (_u, _i, min, max) => timeAxisIncrs((max - min) * 1000),
          values: (u, splits, _i, _space, incr) => {
            const span = ((u.scales.x.max ?? 0) - (u.scales.x.min ?? 0)) * 1000;
            return timeTickLabels(
              splits.map((s) => s * 1000),
              incr * 1000,
              span,
            );
          },
        },
        {
          stroke: palette.axis,
          font: AXIS_FONT,
          gap: AXIS_GAP,
          grid: { stroke: palette.grid, width: 1 },
          ticks: { stroke: palette.grid, size: AXIS_TICK_SIZE },
          // As wide as the widest label drawn, so "500ms" or "1.0ms" is never cut at the canvas edge.
          size: (u, values) => yAxisSize(values, (text) => measureAxisText(u, text)),
          values: (_u, splits) => splits.map((v) => (ratioAxis ? `${Math.round(v * 100)}%` : latest.current.axisFormat(v))),
        },
      ],
      series: [
        {},
        ...data.series.map((s, i) => ({
          label: s.label,
          stroke: styles[i].color,
          width: s.width,
          dash: styles[i].dash,
          spanGaps: false,
          points: { show: false },
        })),
      ],
      hooks: {
        setCursor: [
          (u: uPlot) => {
            const out = readout.current;
            if (!out) return;
            const idx = u.cursor.idx;
            if (idx === null || idx === undefined) {
              out.textContent = '';
              return;
            }
            const { data: d, format: f } = latest.current;
            const parts = d.series.map((s, i) => `${s.label} ${f((u.data[i + 1]?.[idx] as number | null | undefined) ?? null)}`);
            out.textContent = `${formatDateTime(u.data[0][idx] * 1000)} \u2014 ${parts.join(' \u00B7 ')}`;
          },
        ],
      },
    };
    const u = new uPlot(opts, toAligned(data), el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Rebuilt only when the shape, theme or height changes; values flow through setData below.
  }, [styles, height, empty, ratioAxis]);

  useEffect(() => {
    plot.current?.setData(toAligned(data));
  }, [data]);

  return (
    <figure className="chart" aria-label={props.title}>
      <figcaption className="chart-title">{props.title}</figcaption>
      {props.note ? (
        <p className="chart-note" data-chart-note="">
          {props.note}
        </p>
      ) : null}
      {empty ? (
        <div className="chart-empty" style={{ height }} role="note">
          {props.emptyText}
        </div>
      ) : (
        <div className="chart-canvas" ref={host} style={{ minHeight: height }} data-series={data.series.length} data-points={data.x.length} />
      )}
      <div className="chart-readout" ref={readout} aria-hidden="true" />
      <ul className="legend">
        {data.series.map((s, i) => {
          const { last, max } = legendValues(s.values);
          const lastText = format(last);
          const maxText = format(max);
          return (
            <li key={s.key} data-series-key={s.key}>
              <svg width="18" height="8" aria-hidden="true">
                <line x1="0" y1="4" x2="18" y2="4" stroke={styles[i].color} strokeWidth="2.5" strokeDasharray={styles[i].dash?.join(' ')} />
              </svg>
              <span className="legend-label">{s.label}</span>{' '}
              <span className="legend-value" title="newest value">
                now {lastText}
              </span>
              {max !== null && maxText !== lastText ? (
                <span className="legend-peak" data-legend-peak={maxText} title="largest value in the range shown">
                  {' '}
                  · peak {maxText}
                </span>
              ) : null}
            </li>
          );
        })}
      </ul>
    </figure>
  );
}

/** Label width in CSS pixels, measured with the axis font on the plot's own context. */
function measureAxisText(u: uPlot, text: string): number {
  const ctx = u.ctx;
  ctx.save();
  ctx.font = AXIS_FONT;
  const w = ctx.measureText(text).width;
  ctx.restore();
  return w;
}

function toAligned(data: PlotData): uPlot.AlignedData {
  return [data.x, ...data.series.map((s) => s.values)] as uPlot.AlignedData;
}
