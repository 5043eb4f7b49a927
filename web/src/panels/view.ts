import type { VariantSnapshot } from '../../../src/dashboard/model.js';
import type { Dataset } from '../data/dataset.js';
import { type WindowTotals, windowTotals } from '../data/window.js';
import type { Palette } from '../theme/palette.js';

/** Everything a panel needs, computed once per render of the page. Panels are pure functions of it. */
export interface PanelView {
  readonly dataset: Dataset;
  /** Variants drawn: one, or two overlaid in compare mode. */
  readonly variants: readonly string[];
  readonly overlaid: boolean;
  /** Every variant with data, for panels that always show all (token rate by variant, build). */
  readonly allVariants: readonly string[];
  /** Newest snapshot per variant, from the live feed or history. */
  readonly latest: ReadonlyMap<string, VariantSnapshot>;
  /** Range totals per variant. */
  readonly totals: ReadonlyMap<string, WindowTotals>;
  readonly palette: Palette;
  readonly nowMs: number;
  readonly rangeMs: number;
  readonly rangeLabel: string;
}

export function buildView(args: Omit<PanelView, 'totals'>): PanelView {
  const totals = new Map<string, WindowTotals>();
  for (const v of args.allVariants) totals.set(v, windowTotals(args.dataset.byVariant.get(v) ?? []));
  return { ...args, totals };
}
