import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../config/fields.js';

/**
 * What tokens cost, per model, direction and pricing tier. The default table is GLM-4.7's
 * public pay-as-you-go rate (2026-08); operators override it with a JSON file
 * (PRICING_FILE) or inline JSON (PRICING_JSON) when their contract differs.
 */

export type Direction = 'input' | 'output' | 'cache_read' | 'cache_write';
export type PricingTier = 'peak' | 'off_peak';

export const DIRECTIONS: readonly Direction[] = ['input', 'output', 'cache_read', 'cache_write'];

/** USD per 1K tokens, off-peak. */
export type PricesPer1K = Record<Direction, number>;

export const DEFAULT_PRICES_PER_1K: Readonly<PricesPer1K> = Object.freeze({
  input: 0.0006,
  output: 0.0022,
  cache_read: 0.00011,
  cache_write: 0,
});
export const DEFAULT_PEAK_MULTIPLIER = 2;

/** Peak is 02:00–06:00 in a fixed UTC−5 zone (no daylight saving): 07:00–11:00 UTC. */
const PEAK_START_UTC_HOUR = 7;
const PEAK_END_UTC_HOUR = 11;

export function pricingTier(nowMs: number): PricingTier {
  // The UTC hour from the epoch milliseconds (as Date's getUTCHours, without a Date a request).
  const hour = Math.floor(nowMs / 3_600_000) % 24;
  return hour >= PEAK_START_UTC_HOUR && hour < PEAK_END_UTC_HOUR ? 'peak' : 'off_peak';
}

export interface PriceTable {
  usdPerToken(model: string, direction: Direction, tier: PricingTier): number;
}

const price = z.number().finite().nonnegative();
const partialPrices = z.strictObject({ input: price, output: price, cache_read: price, cache_write: price }).partial();
const overrideSchema = z.strictObject({
  default: partialPrices.optional(),
  models: z.record(z.string().min(1), partialPrices).optional(),
  peakMultiplier: z.number().finite().nonnegative().optional(),
});
export type PricingOverride = z.infer<typeof overrideSchema>;

/** Per-token rates, [off_peak, peak] for each direction, computed once. */
type Rates = Record<Direction, readonly [number, number]>;

function rates(per1K: PricesPer1K, peakMultiplier: number): Rates {
  const r = {} as Record<Direction, readonly [number, number]>;
  for (const d of DIRECTIONS) r[d] = [per1K[d] / 1000, (per1K[d] / 1000) * peakMultiplier];
  return r;
}

/** Builds a table from an already-parsed override; models not named fall back to its default. */
export function priceTableFrom(override: PricingOverride = {}): PriceTable {
  const multiplier = override.peakMultiplier ?? DEFAULT_PEAK_MULTIPLIER;
  const base: PricesPer1K = { ...DEFAULT_PRICES_PER_1K, ...override.default };
  const fallback = rates(base, multiplier);
  // Model labels are lower-cased upstream of here, so the table is keyed the same way.
  const perModel = new Map<string, Rates>();
  for (const [model, prices] of Object.entries(override.models ?? {})) {
    perModel.set(model.toLowerCase(), rates({ ...base, ...prices }, multiplier));
  }
  return {
    usdPerToken(model, direction, tier) {
      const r = (perModel.size > 0 && perModel.get(model.toLowerCase())) || fallback;
      const pair = r[direction];
      return pair === undefined ? 0 : pair[tier === 'peak' ? 1 : 0];
    },
  };
}

function parseOverride(text: string, source: 'PRICING_FILE' | 'PRICING_JSON', where: string): PricingOverride {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${source} ${where}is not valid JSON (${(err as Error).message})`);
  }
  const result = overrideSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new ConfigError(
      `invalid configuration: ${source} ${where}at ${path}: ${issue.message}; expected {"default": {per-1K prices}, "models": {"name": {per-1K prices}}, "peakMultiplier": number} with prices input, output, cache_read, cache_write >= 0`,
    );
  }
  return result.data;
}

/**
 * The default GLM-4.7 table, or an override from a file (PRICING_FILE) or inline JSON
 * (PRICING_JSON). A bad override throws ConfigError naming the variable and the problem.
 */
export function loadPriceTable(opts: { file?: string; json?: string } = {}): PriceTable {
  const file = opts.file?.trim() || undefined;
  const json = opts.json?.trim() || undefined;
  if (file && json) throw new ConfigError('invalid configuration: set PRICING_FILE or PRICING_JSON, not both');
  if (json) return priceTableFrom(parseOverride(json, 'PRICING_JSON', ''));
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError(`invalid configuration: PRICING_FILE ${JSON.stringify(file)} cannot be read (${code})`);
    }
    return priceTableFrom(parseOverride(text, 'PRICING_FILE', `${JSON.stringify(file)} `));
  }
  return priceTableFrom();
}
