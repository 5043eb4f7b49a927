import { parseRetryAfter } from './retry-after.js';
import { isRecord } from '../lib/json.js';

/**
 * Z.AI error classification (docs/zai.md, "Errors"): one table from business code to class and
 * retry policy. The retry policy, the rate controller and the quota answer all read it.
 */
export type ZaiErrorClass = 'concurrency' | 'frequency' | 'overload' | 'quota' | 'congestion' | 'balance' | 'policy' | 'unknown';

export const ZAI_ERROR_TABLE: Readonly<Record<string, { class: ZaiErrorClass; retry: boolean }>> = Object.freeze({
  '1302': { class: 'concurrency', retry: true }, // too many in flight for the key: lower concurrency, short backoff
  '1303': { class: 'frequency', retry: true }, // request rate too high: lower the rate, jittered backoff
  '1305': { class: 'overload', retry: true }, // platform overloaded: jittered, counts as rate pressure
  '1308': { class: 'quota', retry: false }, // 5-hour window used up: only the reset helps
  '1310': { class: 'quota', retry: false }, // weekly/monthly window used up
  '1312': { class: 'congestion', retry: true }, // model busy: jittered, not our rate's fault
  '1113': { class: 'balance', retry: false }, // no balance / wrong endpoint for the key
  '1301': { class: 'policy', retry: false }, // unsafe content: the same request fails again
  '1313': { class: 'policy', retry: false }, // fair-use violation
});
// 1211 (unknown model, HTTP 400) is deliberately absent: a plain client error, passed through.

export interface UpstreamError {
  status: number;
  code: string | undefined;
  class: ZaiErrorClass;
  retryable: boolean;
  /** From Retry-After (seconds or HTTP date) or a body hint (`retry_after` seconds). */
  retryAfterMs?: number;
  /** Quota: when the window resets (epoch ms). */
  resetAtMs?: number;
}

const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);
const CODE = /^\d{1,8}$/;
const RESET_KEYS = ['reset_time', 'resetTime', 'reset_at', 'resetAt', 'next_reset_time', 'nextResetTime'] as const;
const RETRY_AFTER_KEYS = ['retry_after', 'retryAfter'] as const;
const MAX_BODY_RETRY_AFTER_S = 7 * 86_400;
const BEIJING_OFFSET_MS = 8 * 3_600_000;
// Plausible epoch range for a reset time: 2001 .. ~2603. Outside it a number is not a timestamp.
const MIN_EPOCH_S = 1e9;
const MAX_EPOCH_S = 2e10;
const DATE_TIME = /(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?/;

type Json = Record<string, unknown>;

/**
 * Classifies a non-2xx upstream answer. `body` is at most the first 64 KiB (the caller bounds
 * it); a cut-off JSON body simply yields no code. Never throws.
 *
 * Status-only fallbacks: 429 with no recognised code is frequency pressure (that is what an
 * unexplained 429 from a rate-limited key almost always is); 5xx without code is unknown and
 * retryable for 500/502/503/504; any other status is not retryable.
 */
export function classifyUpstreamError(status: number, headers: Record<string, string | string[] | undefined>, body: Buffer, nowMs: number): UpstreamError {
  let parsed: Json | undefined;
  try {
    parsed = parseBody(body);
  } catch {
    parsed = undefined;
  }
  const inner = parsed && isRecord(parsed.error) ? parsed.error : undefined;
  const message = stringField(inner, 'message') ?? stringField(inner, 'msg') ?? stringField(parsed, 'msg') ?? stringField(parsed, 'message');
  const code = codeOf(inner?.code) ?? codeOf(parsed?.code) ?? codeFromMessage(message);

  const entry = code !== undefined ? ZAI_ERROR_TABLE[code] : undefined;
  let result: UpstreamError;
  if (entry) {
    result = { status, code, class: entry.class, retryable: entry.retry };
  } else if (status === 429) {
    result = { status, code, class: 'frequency', retryable: true };
  } else {
    result = { status, code, class: 'unknown', retryable: RETRYABLE_STATUS.has(status) };
  }

  const retryAfterMs = parseRetryAfter(headerValue(headers, 'retry-after'), nowMs) ?? bodyRetryAfterMs(inner, parsed);
  if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
  const resetAtMs = resetFromFields(inner, parsed) ?? (message !== undefined ? resetFromText(message) : undefined);
  if (resetAtMs !== undefined) result.resetAtMs = resetAtMs;
  return result;
}

function parseBody(body: Buffer): Json | undefined {
  if (body.length === 0) return undefined;
  const text = body.toString('utf8').trim();
  if (!text.startsWith('{')) return undefined;
  const value: unknown = JSON.parse(text);
  return isRecord(value) ? value : undefined;
}

function stringField(obj: Json | undefined, key: string): string | undefined {
  const v = obj?.[key];
  return typeof v === 'string' ? v : undefined;
}

function codeOf(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) v = String(v);
  if (typeof v !== 'string') return undefined;
  const text = v.trim();
  // A top-level `code: 200` or `code: 0` in an error body carries no business meaning.
  return CODE.test(text) && text.length >= 4 ? text : undefined;
}

/** Some gateways put the code only in the text ("1302 too many requests"): accept known codes only. */
function codeFromMessage(message: string | undefined): string | undefined {
  const m = message && /^\s*\[?(\d{4,8})\b/.exec(message);
  return m && ZAI_ERROR_TABLE[m[1]!] ? m[1] : undefined;
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  let v = headers[name];
  if (v === undefined) {
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === name) {
        v = headers[key];
        break;
      }
    }
  }
  return Array.isArray(v) ? v[0] : v;
}

function bodyRetryAfterMs(...objs: (Json | undefined)[]): number | undefined {
  for (const obj of objs) {
    for (const key of RETRY_AFTER_KEYS) {
      const v = obj?.[key];
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : NaN;
      if (n > 0 && n <= MAX_BODY_RETRY_AFTER_S) return Math.ceil(n * 1000);
    }
  }
  return undefined;
}

function resetFromFields(...objs: (Json | undefined)[]): number | undefined {
  for (const obj of objs) {
    if (!obj) continue;
    for (const key of RESET_KEYS) {
      const at = parseResetValue(obj[key]);
      if (at !== undefined) return at;
    }
  }
  return undefined;
}

/** Epoch seconds or milliseconds (number or digit string), RFC 3339, or naive Beijing time. */
export function parseResetValue(v: unknown): number | undefined {
  if (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim())) v = Number(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v <= 0) return undefined;
    if (v >= MIN_EPOCH_S * 1000 && v <= MAX_EPOCH_S * 1000) return Math.round(v);
    if (v >= MIN_EPOCH_S && v <= MAX_EPOCH_S) return Math.round(v * 1000);
    return undefined;
  }
  if (typeof v !== 'string') return undefined;
  return parseDateTime(v, true);
}

/** The quota message: "Your limit will reset at 2025-08-30 14:05:00" (Beijing time, UTC+8). */
function resetFromText(message: string): number | undefined {
  return parseDateTime(message, false);
}

function parseDateTime(text: string, anchored: boolean): number | undefined {
  const m = DATE_TIME.exec(text);
  if (!m || (anchored && m.index !== 0)) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const fields = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = fields;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = frac ? Math.round(Number(frac) * 1000) : 0;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  let offsetMs = BEIJING_OFFSET_MS; // Z.AI's naive times are Beijing wall-clock time (no DST)
  if (zone === 'Z') offsetMs = 0;
  else if (zone) {
    const z = /([+-])(\d{2}):?(\d{2})/.exec(zone)!;
    offsetMs = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 3_600_000 + Number(z[3]) * 60_000);
  }
  const at = wall - offsetMs;
  return at >= MIN_EPOCH_S * 1000 && at <= MAX_EPOCH_S * 1000 ? at : undefined;
}
