import type { ZaiErrorClass } from './errors.js';

/** First backoff step when nothing else is configured (RETRY_BASE_DELAY's default). */
export const DEFAULT_RETRY_BASE_MS = 1000;

export interface RetryDelayOptions {
  /** First backoff step for rate-pressure classes (default 1000 ms). */
  baseMs?: number;
  /** No single wait is longer than this (default 30 000 ms), Retry-After included. */
  maxDelayMs?: number;
}

/** 1302 clears as soon as one of our own in-flight requests ends, so it needs only a short pause. */
const CONCURRENCY_BASE_FRACTION = 0.25;

/**
 * Delay before retry number `attempt` (1-based).
 *
 * - frequency / overload / congestion / unknown / network / truncated: exponential backoff
 *   `b = base · 2^(attempt−1)` with "equal jitter" — uniform in [b/2, b) — so replicas and
 *   clients that failed together do not come back together, yet never retry instantly.
 * - concurrency (1302): a quarter of that curve, same jitter; the slot frees itself soon.
 * - a Retry-After (header or body hint) is a floor: we never come back earlier than asked.
 * - everything is capped at `maxDelayMs`; a caller whose client cannot wait that long should
 *   not retry at all (compare `err.retryAfterMs` with its own deadline first).
 * Quota / balance / policy are never retried (see ZAI_ERROR_TABLE); for them this still
 * answers a capped Retry-After so a caller that asks gets something sane.
 */
export function retryDelayMs(
  attempt: number,
  err: { class: ZaiErrorClass | 'network' | 'truncated'; retryAfterMs?: number },
  random: () => number,
  opts: RetryDelayOptions = {},
): number {
  const baseMs = opts.baseMs ?? DEFAULT_RETRY_BASE_MS;
  const maxDelayMs = opts.maxDelayMs ?? 30_000;
  const n = Math.max(1, Math.floor(Number.isFinite(attempt) ? attempt : 1));
  const scale = err.class === 'concurrency' ? CONCURRENCY_BASE_FRACTION : 1;
  // Exponent capped so 2^n never overflows into Infinity for silly attempt numbers.
  const step = Math.min(maxDelayMs, baseMs * scale * 2 ** Math.min(n - 1, 30));
  const u = Math.min(Math.max(random(), 0), 1);
  const jittered = step / 2 + (step / 2) * u;
  const floor = err.retryAfterMs !== undefined && err.retryAfterMs > 0 ? err.retryAfterMs : 0;
  return Math.round(Math.min(maxDelayMs, Math.max(jittered, floor)));
}
