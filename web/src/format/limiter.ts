import type { VariantSnapshot } from '../../../src/dashboard/model.js';
import { formatUtilization } from './format.js';

/**
 * The limiter in one sentence: which limit holds clients back (the proxy's
 * zai_proxy_limiter_binding gauge) and how far below the inferred ceiling the rate is held,
 * e.g. "binding: learned rate — holding 19.6 req/s, 2% under the inferred ceiling 20".
 */

/** Words for the gauge's `limit` values; an unknown value is shown as it came, underscores spaced. */
export const LIMIT_WORDS: Readonly<Record<string, string>> = {
  none: 'none',
  learned_rate: 'learned rate',
  concurrency: 'concurrency',
  quota_pacing: 'quota pacing',
  upstream: 'upstream',
};

export const limitWord = (limit: string): string => LIMIT_WORDS[limit] ?? limit.replace(/_/g, ' ');

/** Up to one decimal, without a trailing ".0": 20 → "20", 19.6 → "19.6". */
const reqs = (v: number) => (Math.abs(v) >= 100 ? Math.round(v).toString() : v.toFixed(1).replace(/\.0$/, ''));
/** A share as a short percentage: 0.02 → "2%", 0.025 → "2.5%", 0.4 → "40%". */
const share = (v: number) => {
  const pct = Math.abs(v) * 100;
  return `${pct >= 10 || Number.isInteger(Math.round(pct * 10) / 10) ? Math.round(pct) : (Math.round(pct * 10) / 10).toFixed(1)}%`;
};

const replicaCount = (l: VariantSnapshot['limiter']) => Object.values(l.binding_replicas ?? {}).reduce((a, b) => a + b, 0);

/**
 * "holding 19.6 req/s, 2% under the inferred ceiling 20" (`lead` replaces "holding"). With
 * several replicas the rate gauges add up while each replica holds under the same ceiling, so
 * the rate is given per replica.
 */
export function headroomPhrase(l: VariantSnapshot['limiter'], lead = 'holding'): string | null {
  const ceiling = l.ceiling_rps;
  if (l.rate_rps === null) return null;
  const n = replicaCount(l);
  const rate = n > 1 ? l.rate_rps / n : l.rate_rps;
  const unit = n > 1 ? 'req/s per replica' : 'req/s';
  const headroom = l.ceiling_headroom_ratio ?? (ceiling !== null && ceiling > 0 ? 1 - rate / ceiling : null);
  if (ceiling === null || headroom === null) return `${lead} ${reqs(rate)} ${unit}`;
  if (Math.abs(headroom) < 0.0005) return `${lead} ${reqs(rate)} ${unit}, at the inferred ceiling ${reqs(ceiling)}`;
  return headroom > 0
    ? `${lead} ${reqs(rate)} ${unit}, ${share(headroom)} under the inferred ceiling ${reqs(ceiling)}`
    : `probing at ${reqs(rate)} ${unit}, ${share(headroom)} over the inferred ceiling ${reqs(ceiling)}`;
}

/** What the binding limit means right now, in the operator's terms. */
function reason(limit: string, s: VariantSnapshot): string | null {
  switch (limit) {
    case 'none':
      return 'requests are admitted as they arrive';
    case 'concurrency': {
      const limitNow = s.limiter.concurrency_limit ?? s.workers.max_workers;
      const inFlight = s.workers.in_flight;
      if (limitNow === null || inFlight === null) return 'the in-flight limit is full';
      return `${Math.round(inFlight)} of ${Math.round(limitNow)} in flight (${formatUtilization(limitNow > 0 ? inFlight / limitNow : null)})`;
    }
    case 'quota_pacing':
      return 'spreading the remaining quota over its window';
    case 'upstream':
      return 'Z.AI is refusing requests (429, 1302, 1303)';
    default:
      return null;
  }
}

/** Replicas bound by another limit than the named one, when there are several replicas. */
function replicasPhrase(binding: string, replicas: Readonly<Record<string, number>> | undefined): string | null {
  if (!replicas) return null;
  const total = Object.values(replicas).reduce((a, b) => a + b, 0);
  const mine = replicas[binding] ?? 0;
  if (total <= 1 || Math.abs(total - mine) < 1e-9) return null;
  return `on ${Math.round(mine)} of ${Math.round(total)} replicas`;
}

export interface BindingParts {
  /** "learned rate", "concurrency", …; null when the proxy does not report the gauge. */
  readonly limit: string | null;
  /** "on 2 of 3 replicas" when replicas disagree. */
  readonly where: string | null;
  /** What it means now and the headroom under the ceiling, joined by "; ". */
  readonly detail: string | null;
}

export function bindingParts(s: VariantSnapshot): BindingParts {
  const l = s.limiter;
  if (l.binding === undefined || l.binding === null) return { limit: null, where: null, detail: headroomPhrase(l, 'rate limit') };
  const headroom = l.binding === 'learned_rate' ? headroomPhrase(l) : headroomPhrase(l, 'rate limit');
  const parts = [reason(l.binding, s), headroom].filter((x): x is string => x !== null);
  return { limit: limitWord(l.binding), where: replicasPhrase(l.binding, l.binding_replicas), detail: parts.length > 0 ? parts.join('; ') : null };
}

export function bindingLine(s: VariantSnapshot): string {
  const { limit, where, detail } = bindingParts(s);
  const head = limit === null ? 'binding: not reported by this proxy' : `binding: ${limit}${where ? ` (${where})` : ''}`;
  return detail === null ? head : `${head} — ${detail}`;
}
