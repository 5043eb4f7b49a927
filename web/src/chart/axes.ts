/**
 * Pure axis decisions for the shared chart wrapper: how wide the y axis must be for its labels,
 * which time steps the x axis may use, and how its ticks are labelled so no two neighbours read
 * the same. Kept free of uPlot and the DOM so test/web/axes.test.ts can pin them.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number) => n.toString().padStart(2, '0');

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Beyond this span the x axis counts days, so 7d-90d axes are not a wall of clock times. */
export const DATE_AXIS_SPAN_MS = 2 * DAY_MS;

/** The axis font, set on every axis so the width measured is the width drawn. */
export const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
export const AXIS_TICK_SIZE = 10;
export const AXIS_GAP = 5;
/** Room so the widest label's first glyph does not touch the canvas edge. */
const AXIS_EDGE_PAD = 4;
/** Never narrower than this, so charts stacked in a column keep roughly aligned plot areas. */
export const Y_AXIS_MIN_SIZE = 36;

/**
 * The y axis width in CSS pixels: tick + gap + the widest rendered label + a little edge room.
 * uPlot calls the size function with the labels it is about to draw (null before the first pass).
 */
export function yAxisSize(labels: readonly (string | null)[] | null | undefined, measure: (text: string) => number): number {
  let widest = 0;
  for (const l of labels ?? []) if (l) widest = Math.max(widest, measure(l));
  return Math.max(Y_AXIS_MIN_SIZE, Math.ceil(AXIS_TICK_SIZE + AXIS_GAP + widest + AXIS_EDGE_PAD));
}

const clock = (d: Date) => `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
const clockSeconds = (d: Date) => `${clock(d)}:${pad2(d.getSeconds())}`;
const date = (d: Date) => `${MONTHS[d.getMonth()]} ${d.getDate()}`;

/** True when every label differs from its neighbour. */
function distinct(labels: readonly string[]): boolean {
  for (let i = 1; i < labels.length; i += 1) if (labels[i] === labels[i - 1]) return false;
  return true;
}

/**
 * Labels for time ticks (epoch ms, in the browser's zone). The format follows the tick step:
 * seconds when ticks are under a minute apart, "HH:MM" otherwise, dates beyond two days of span.
 * If a coarser format would still repeat a label (uneven splits), the next finer one is used.
 */
export function timeTickLabels(splitsMs: readonly number[], stepMs: number, spanMs: number): string[] {
  const formats: ((d: Date) => string)[] =
    spanMs > DATE_AXIS_SPAN_MS ? [date, (d) => `${date(d)} ${clock(d)}`] : stepMs < MINUTE_MS ? [clockSeconds] : [clock, clockSeconds];
  const dates = splitsMs.map((ms) => new Date(ms));
  let labels: string[] = [];
  for (const f of formats) {
    labels = dates.map(f);
    if (distinct(labels)) return labels;
  }
  return labels;
}

/**
 * Tick steps (seconds) uPlot may choose from. Within two days the usual clock steps; beyond,
 * whole days only, so each date label names a different day.
 */
export function timeAxisIncrs(spanMs: number): number[] {
  const day = DAY_MS / 1000;
  if (spanMs > DATE_AXIS_SPAN_MS) return [1, 2, 3, 7, 14, 30, 60, 90, 180, 365].map((d) => d * day);
  return [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, day, 2 * day];
}

/** Minimum pixels between x ticks: room for the longest label of the span ("HH:MM:SS", "Nov 27") plus a gap. */
export function timeAxisSpace(spanMs: number): number {
  return spanMs > DATE_AXIS_SPAN_MS ? 56 : 64;
}
