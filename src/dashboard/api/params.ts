import { parseDurationMs } from '../../config/fields.js';
import { RESOLUTIONS, STEP_MS, type Resolution } from '../model.js';

/** A request parameter the API refuses; answered 400 with its message. */
export class BadRequest extends Error {
  override name = 'BadRequest';
}

export const MIN_RANGE_MS = 5 * 60_000;
export const MAX_RANGE_MS = 90 * 86_400_000;
/** Points per variant that `resolution=auto` stays under. */
export const AUTO_MAX_POINTS = 2_000;
/** Points per variant an explicit resolution may ask for. */
export const EXPLICIT_MAX_POINTS = 20_000;

export interface MetricsQuery {
  range: string;
  rangeMs: number;
  variant: string | undefined;
  resolution: Resolution;
}

const ALLOWED = new Set(['range', 'variant', 'resolution', 'token']);

/** Finest resolution whose retention covers the range and whose point count stays under the cap. */
export function autoResolution(rangeMs: number, retentionMs: Record<Resolution, number>): Resolution {
  for (const r of RESOLUTIONS) {
    if (rangeMs <= retentionMs[r] && rangeMs / STEP_MS[r] <= AUTO_MAX_POINTS) return r;
  }
  return '1h';
}

export function parseMetricsQuery(params: URLSearchParams, retentionMs: Record<Resolution, number>): MetricsQuery {
  for (const key of params.keys()) if (!ALLOWED.has(key)) throw new BadRequest(`unknown parameter "${key.slice(0, 32)}"`);
  const range = params.get('range') ?? '1h';
  const rangeMs = parseDurationMs(range);
  if (rangeMs === undefined) throw new BadRequest('range must be a duration like 5m, 1h, 24h, 7d or 90d');
  if (rangeMs < MIN_RANGE_MS || rangeMs > MAX_RANGE_MS) throw new BadRequest('range must be between 5m and 90d');
  const v = params.get('variant') ?? 'all';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(v)) throw new BadRequest('variant must be "all" or a variant name ([A-Za-z0-9_.-], at most 64)');
  const res = params.get('resolution') ?? 'auto';
  let resolution: Resolution;
  if (res === 'auto') resolution = autoResolution(rangeMs, retentionMs);
  else if ((RESOLUTIONS as readonly string[]).includes(res)) {
    resolution = res as Resolution;
    if (rangeMs / STEP_MS[resolution] > EXPLICIT_MAX_POINTS) {
      throw new BadRequest(`range ${range} at resolution ${res} would exceed ${EXPLICIT_MAX_POINTS} points per variant; use a coarser resolution`);
    }
  } else throw new BadRequest('resolution must be one of auto, 5s, 1m, 1h');
  return { range, rangeMs, variant: v === 'all' ? undefined : v, resolution };
}

/** Last-Event-ID: `ts:variant`. Anything else starts a fresh stream. */
export function parseEventId(raw: string | undefined): { ts: number; variant: string } | undefined {
  if (!raw) return undefined;
  const m = /^(\d{1,16}):([A-Za-z0-9_.-]{1,64})$/.exec(raw.trim());
  return m ? { ts: Number(m[1]), variant: m[2]! } : undefined;
}

export const eventIdOf = (s: { ts: number; variant: string }) => `${s.ts}:${s.variant}`;
