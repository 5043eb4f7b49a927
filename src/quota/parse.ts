import { isRecord } from '../lib/json.js';
/**
 * Normalises the Coding Plan quota endpoint's answer (docs/zai.md, "Quota endpoint") into windows
 * with used/remaining fractions. Pure: no I/O, no clock (the fetch time is passed in).
 *
 * Two shapes are in the wild: the current one (`CREDIT_LIMIT` entries with amounts) and the
 * legacy one (`TOKENS_LIMIT` entries with only `percentage`). Unknown types are ignored so a new
 * provider type never breaks the poller; a structurally wrong body is `malformed` and the
 * caller keeps its last good sample. Error details are our own words: the provider's `msg`
 * may carry account markers and is never copied.
 */

export type QuotaWindow = 'five_hour' | 'weekly' | 'monthly' | 'unknown';

export interface QuotaLimit {
  window: QuotaWindow;
  /** lower-cased provider type, [a-z0-9_-]{1,32}; only known types get this far */
  limitType: string;
  /** clamped to [0, 1]; a provider reading of 137 % is 1 */
  usedRatio: number;
  remainingRatio: number;
  /** epoch ms; absent when the provider advertised none */
  resetAtMs?: number;
  used?: number;
  total?: number;
  remaining?: number;
}

export interface QuotaSample {
  level?: string;
  limits: QuotaLimit[];
  fetchedAtMs: number;
}

export interface QuotaMalformed {
  error: 'malformed';
  detail: string;
}

/** The endpoint answered with its own error envelope (`success: false` or a non-200 `code`). */
export interface QuotaRejected {
  error: 'rejected';
  detail: string;
  providerCode?: number;
}

export type QuotaParseError = QuotaMalformed | QuotaRejected;

/** Types we understand; everything else is ignored (a new provider type must never break the poller). */
const KNOWN_TYPES = new Set(['credit_limit', 'tokens_limit', 'time_limit']);

/** Latest plausible epoch ms (year 10000); beyond it a Date cannot render it. */
const MAX_EPOCH_MS = 253_402_300_800_000;

/** A finite number, or a decimal string of one; anything else (NaN, Inf, junk) is absent. */
export function finiteNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

const nonNegative = (v: number | undefined) => (v === undefined ? undefined : Math.max(0, v));
export const clamp01 = (v: number) => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0);

/** Label-safe form of a provider string: lower-cased, [a-z0-9_-] only, at most 32 characters. */
export function sanitizeLabel(raw: string): string {
  const s = raw
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '_')
    .slice(0, 32);
  return s === '' ? 'unknown' : s;
}

/**
 * `unit`/`number` read as a window (undocumented; what third-party parsers agree on):
 * unit 3 = hours (5 of them), unit 6 = week (the weekly entry has sent number 1 and 7),
 * unit 5 = month. A combination we do not recognise is kept as `unknown` rather than misnamed.
 */
export function windowOf(unit: number | undefined, number: number | undefined): QuotaWindow {
  if (unit === 3 && (number === undefined || number === 5)) return 'five_hour';
  if (unit === 6 && (number === undefined || number === 1 || number === 7)) return 'weekly';
  if (unit === 5 && (number === undefined || number === 1)) return 'monthly';
  return 'unknown';
}

function limitFrom(entry: Record<string, unknown>, limitType: string): QuotaLimit | undefined {
  const total = nonNegative(finiteNumber(entry.usage)); // `usage` is the allowance, despite its name
  const used = nonNegative(finiteNumber(entry.currentValue));
  const percentage = finiteNumber(entry.percentage);
  let usedRatio: number;
  if (total !== undefined && total > 0 && used !== undefined) usedRatio = clamp01(used / total);
  else if (percentage !== undefined) usedRatio = clamp01(percentage / 100);
  else return undefined; // nothing to say about this window
  const remaining = nonNegative(finiteNumber(entry.remaining)) ?? (total !== undefined && used !== undefined ? Math.max(0, total - used) : undefined);
  const reset = finiteNumber(entry.nextResetTime);
  const limit: QuotaLimit = {
    window: windowOf(finiteNumber(entry.unit), finiteNumber(entry.number)),
    limitType,
    usedRatio,
    remainingRatio: 1 - usedRatio,
  };
  if (reset !== undefined && reset > 0 && reset < MAX_EPOCH_MS) limit.resetAtMs = Math.trunc(reset);
  if (used !== undefined) limit.used = used;
  if (total !== undefined) limit.total = total;
  if (remaining !== undefined) limit.remaining = remaining;
  return limit;
}

/**
 * `body` is the decoded JSON. Returns a sample (possibly with zero windows when only unknown
 * types were present) or an error the poller classifies: `malformed` for a body we cannot
 * read, `rejected` for the provider's own error envelope.
 */
export function parseQuotaResponse(body: unknown, fetchedAtMs: number): QuotaSample | QuotaParseError {
  if (!isRecord(body)) return { error: 'malformed', detail: 'body is not a JSON object' };
  const code = finiteNumber(body.code);
  if (body.success === false || (body.success === undefined && code !== undefined && code !== 0 && code !== 200)) {
    return code === undefined
      ? { error: 'rejected', detail: 'provider rejected the request' }
      : { error: 'rejected', detail: `provider rejected the request (code ${code})`, providerCode: code };
  }
  const data = body.data;
  if (!isRecord(data) || !Array.isArray(data.limits)) return { error: 'malformed', detail: 'data.limits is missing or not an array' };

  const limits: QuotaLimit[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of data.limits.entries()) {
    if (!isRecord(entry)) return { error: 'malformed', detail: `limits[${i}] is not an object` };
    if (typeof entry.type !== 'string') return { error: 'malformed', detail: `limits[${i}].type is not a string` };
    const limitType = entry.type.trim().toLowerCase();
    if (!KNOWN_TYPES.has(limitType)) continue;
    const limit = limitFrom(entry, limitType);
    if (!limit) continue;
    // One series per (window, type): the first entry wins, as the provider lists the primary one first.
    const key = `${limit.window}/${limit.limitType}`;
    if (seen.has(key)) continue;
    seen.add(key);
    limits.push(limit);
  }

  const sample: QuotaSample = { limits, fetchedAtMs };
  if (typeof data.level === 'string' && data.level.trim() !== '') sample.level = sanitizeLabel(data.level);
  return sample;
}

export const isQuotaSample = (r: QuotaSample | QuotaParseError): r is QuotaSample => !('error' in r);
