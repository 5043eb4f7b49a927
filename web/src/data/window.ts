import { TOKEN_DIRECTIONS, type TokenDirection, type VariantSnapshot } from '../../../src/dashboard/model.js';

/** Totals over the selected range for one variant: the sum of each point's window totals. */
export interface WindowTotals {
  /** Seconds the points actually cover (gaps while a target was down are not counted). */
  coveredS: number;
  tokens: Record<TokenDirection, number>;
  tokensTotal: number;
  requests: number;
  errors5xx: number;
  throttled429: number;
  costUsd: number;
  costByDirection: Record<TokenDirection, number>;
  /** USD by model over the range; points stored before the field existed add nothing. */
  costByModel: Record<string, number>;
}

const zeroByDirection = (): Record<TokenDirection, number> => ({ input: 0, output: 0, cache_read: 0, cache_write: 0 });

export function windowTotals(points: readonly VariantSnapshot[]): WindowTotals {
  const t: WindowTotals = {
    coveredS: 0,
    tokens: zeroByDirection(),
    tokensTotal: 0,
    requests: 0,
    errors5xx: 0,
    throttled429: 0,
    costUsd: 0,
    costByDirection: zeroByDirection(),
    costByModel: {},
  };
  for (const p of points) {
    t.coveredS += p.window_s;
    for (const d of TOKEN_DIRECTIONS) {
      t.tokens[d] += p.tokens.window[d] ?? 0;
      t.costByDirection[d] += p.cost_usd.window_by_direction[d] ?? 0;
    }
    t.requests += p.requests.window;
    // Counts from per-second rates over the point's window; rounding keeps "3 errors" honest.
    t.errors5xx += (p.requests.by_class['5xx'] ?? 0) * p.window_s;
    t.throttled429 += (p.requests.by_code['429'] ?? 0) * p.window_s;
    t.costUsd += p.cost_usd.window;
    for (const [m, usd] of Object.entries(p.cost_usd.window_by_model ?? {})) t.costByModel[m] = (t.costByModel[m] ?? 0) + usd;
  }
  t.errors5xx = Math.round(t.errors5xx);
  t.throttled429 = Math.round(t.throttled429);
  t.tokensTotal = TOKEN_DIRECTIONS.reduce((sum, d) => sum + t.tokens[d], 0);
  return t;
}

/** Ratio helpers answer null when the denominator is empty: "no requests" is not "0 % errors". */
export const ratio = (num: number, den: number): number | null => (den > 0 ? num / den : null);

/** USD per day at the range's average pace; null until at least a minute is covered. */
export function projectedPerDay(t: WindowTotals): number | null {
  return projectPerDay(t, t.costUsd);
}

/** USD per day at the range's average pace for one slice of the spend (a model, a direction). */
export function projectPerDay(t: WindowTotals, usd: number): number | null {
  return t.coveredS >= 60 ? (usd / t.coveredS) * 86_400 : null;
}

export interface ModelCost {
  /** Model name, or null for the row that folds the long tail together. */
  model: string | null;
  /** How many models the row stands for (1, or the tail's size). */
  models: number;
  /** USD per variant over the range, in the order of the variants asked for. */
  usd: number[];
}

/**
 * Cost by model across variants, largest first (by the variants' summed spend, ties by name),
 * the tail beyond `top` folded into one row so a long model list never pushes the panel apart.
 */
export function costByModel(totals: readonly (WindowTotals | null)[], top = 6): ModelCost[] {
  const names = new Set<string>();
  for (const t of totals) for (const m of Object.keys(t?.costByModel ?? {})) names.add(m);
  const rows = [...names].map((m) => ({ model: m as string | null, models: 1, usd: totals.map((t) => t?.costByModel[m] ?? 0) }));
  const spend = (r: ModelCost) => r.usd.reduce((a, b) => a + b, 0);
  rows.sort((a, b) => spend(b) - spend(a) || a.model!.localeCompare(b.model!));
  if (rows.length <= top) return rows;
  const tail = rows.slice(top - 1);
  return [...rows.slice(0, top - 1), { model: null, models: tail.length, usd: totals.map((_, i) => tail.reduce((a, r) => a + r.usd[i]!, 0)) }];
}

/** Output over input tokens in the range. */
export const outputInputRatio = (t: WindowTotals): number | null => ratio(t.tokens.output, t.tokens.input);

/**
 * How long, in seconds, the admission queue has been non-empty without a break, up to the
 * newest point (0 when it is empty now). Two points further apart than three of their
 * intervals (a target that was down) break the run: nothing is known about the gap.
 */
export function queuedForS(points: readonly VariantSnapshot[], stepMs = 0): number {
  const queued = (p: VariantSnapshot) => (p.limiter.queue_depth ?? 0) > 0;
  let i = points.length - 1;
  if (i < 0 || !queued(points[i])) return 0;
  const newest = points[i].ts;
  while (i > 0 && queued(points[i - 1]) && points[i].ts - points[i - 1].ts <= 3 * Math.max(points[i].window_s * 1000, stepMs, 5_000)) i -= 1;
  return (newest - points[i].ts) / 1000;
}
