import type { ArmReader } from '../../canary/arms.js';
import { canaryReport } from '../../canary/report.js';
import { parseDurationMs } from '../../config/fields.js';
import type { CanaryResponse } from '../model.js';
import { BadRequest } from './params.js';

/**
 * The dashboard's canary verdict: `zai-proxy canary-report`'s judgement (default thresholds),
 * read from the source the dashboard itself shows, so the page, the CLI and the rollout agree.
 */

export interface CanaryQuery {
  stable: string;
  canary: string;
  sinceMs: number;
}

/** canary-report's default window. */
export const DEFAULT_SINCE = '30m';
const MIN_SINCE_MS = 60_000;
const MAX_SINCE_MS = 7 * 86_400_000;
const ALLOWED = new Set(['since', 'stable', 'canary', 'token']);
const VARIANT = /^[A-Za-z0-9_.-]{1,64}$/;
/** Browser tabs poll; a judgement this fresh is served again rather than read twice. */
export const CACHE_MS = 5_000;

export function parseCanaryQuery(params: URLSearchParams): CanaryQuery {
  for (const key of params.keys()) if (!ALLOWED.has(key)) throw new BadRequest(`unknown parameter "${key.slice(0, 32)}"`);
  const since = params.get('since') ?? DEFAULT_SINCE;
  const sinceMs = parseDurationMs(since);
  if (sinceMs === undefined || sinceMs < MIN_SINCE_MS || sinceMs > MAX_SINCE_MS) throw new BadRequest('since must be a duration between 1m and 7d, like 30m');
  const stable = params.get('stable') ?? 'stable';
  const canary = params.get('canary') ?? 'canary';
  if (!VARIANT.test(stable) || !VARIANT.test(canary)) throw new BadRequest('stable and canary must be variant names ([A-Za-z0-9_.-], at most 64)');
  if (stable === canary) throw new BadRequest('stable and canary must name two different variants');
  return { stable, canary, sinceMs };
}

export type CanaryJudge = (q: CanaryQuery, nowMs: number) => Promise<CanaryResponse>;

/** A judge over one reader; `source` names it without credentials. */
export function canaryJudge(reader: ArmReader, source: string): CanaryJudge {
  let cached: { key: string; atMs: number; body: Promise<CanaryResponse> } | undefined;
  return (q, nowMs) => {
    const key = `${q.stable}\n${q.canary}\n${q.sinceMs}`;
    if (cached && cached.key === key && nowMs - cached.atMs < CACHE_MS && nowMs >= cached.atMs) return cached.body;
    const body = canaryReport(reader, q, nowMs).then((report) => ({ ...report, source, at_ms: nowMs }));
    cached = { key, atMs: nowMs, body };
    // A failed read is not kept: the next poll tries again.
    body.catch(() => {
      if (cached?.body === body) cached = undefined;
    });
    return body;
  };
}
