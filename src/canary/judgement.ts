import { DURATION_BUCKETS } from '../metrics/catalogue.js';
import { histogramQuantile } from '../dashboard/snapshot/quantile.js';

/**
 * The canary judgement, defined once: what is counted per arm, the thresholds, the statistical
 * test and the verdict. `zai-proxy canary-report`, the dashboard's verdict panel and the Argo
 * Rollouts analysis queries (rollout-queries.ts) all read this module; the two readers
 * (store-reader.ts, prometheus-reader.ts) only fill in ArmCounts.
 *
 * Reasoning:
 * - An error is a 5xx the client got; 4xx are the client's own mistakes and 429s are reported
 *   apart, by cause, because a quota running out is not the canary's fault.
 * - Error rates are judged with intervals, not point estimates. Promotion needs the one-sided
 *   95 % Wilson upper bound of the canary's error rate below the promote threshold (0 errors in
 *   59 requests is the smallest sample that can promote at 5 %). Rollback needs the point
 *   estimate above the rollback threshold AND the canary significantly worse than stable
 *   (one-sided two-proportion z-test, pooled, p < 0.05): when both arms fail alike the upstream
 *   is failing, and rolling the canary back would not help.
 * - Latency is judged on p95 from bucket counts (as histogram_quantile does), with an absolute
 *   slack: at loopback speeds a 3 ms p95 against a 1.5 ms one is a 2x ratio and means nothing.
 * - A rollback on errors or latency must be sustained: the failing condition must also hold
 *   over the last `sustainS` seconds taken alone, so a spike that has passed only holds.
 * - Token counts per recorded request, per model and direction, must agree between arms within
 *   2 %: the same requests must cost the same on both builds. This assumes both arms see the
 *   same mix of requests (a sticky split by client can skew it when clients differ a lot).
 * - Below `minRequests` per arm nothing is judged: "not enough data", verdict hold.
 */

export const LATENCY_BOUNDS = DURATION_BUCKETS;

/** Status codes counted as errors. */
export const isServerError = (statusCode: string): boolean => statusCode.startsWith('5');
export const isSuccess = (statusCode: string): boolean => statusCode.startsWith('2');
/** Admission rejections (rate_limit_rejections_total reasons) that mean the proxy's own queue was full or too slow. */
export const PROXY_QUEUE_REASONS = ['capacity', 'queue_timeout'] as const;
/** Admission rejections held back because the quota is spent (pacing after a 1308/1310). */
export const PROXY_QUOTA_REASONS = ['quota'] as const;
/** Z.AI error classes (zai_errors_total) that are quota exhaustion; never retried, so one per client answer. */
export const UPSTREAM_QUOTA_CLASSES = ['quota'] as const;
/** Token directions compared between arms. */
export const COMPARED_DIRECTIONS = ['input', 'output', 'cache_read'] as const;
export type ComparedDirection = (typeof COMPARED_DIRECTIONS)[number];
export const REPORTED_DIRECTIONS = ['input', 'output', 'cache_read', 'cache_write'] as const;
export type Direction = (typeof REPORTED_DIRECTIONS)[number];

export interface Thresholds {
  /** Promote only while the canary's error rate is below this (its 95 % upper bound). */
  promoteErrorRate: number;
  /** Promote only while canary p95 ≤ this × stable p95. */
  promoteLatencyRatio: number;
  /** Roll back above this error rate (significantly worse than stable). */
  rollbackErrorRate: number;
  /** Roll back when canary p95 > this × stable p95. */
  rollbackLatencyRatio: number;
  /** Latency differences up to this many ms are never judged worse. */
  latencySlackMs: number;
  /** Roll back when tokens per request of a model disagree by more than this fraction. */
  tokenTolerance: number;
  /** Seconds a failing error or latency condition must last. */
  sustainS: number;
  /** Requests each arm needs before anything is judged (also per model for tokens). */
  minRequests: number;
  /** Significance level of the two-proportion test. */
  alpha: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  promoteErrorRate: 0.05,
  promoteLatencyRatio: 1.5,
  rollbackErrorRate: 0.1,
  rollbackLatencyRatio: 2,
  latencySlackMs: 50,
  tokenTolerance: 0.02,
  sustainS: 120,
  minRequests: 100,
  alpha: 0.05,
};

/** What a reader extracts for one arm over one span. Counts, not rates. */
export interface ArmCounts {
  variant: string;
  /** Finished requests by the status the client got. */
  byStatus: Record<string, number>;
  /** Admission rejections by reason. */
  rejections: Record<string, number>;
  /** Z.AI business errors by class (per attempt). */
  zaiErrors: Record<string, number>;
  /** Cumulative bucket increases, one per LATENCY_BOUNDS entry then +Inf. */
  latency: number[];
  ttfb: number[];
  tokens: Record<Direction, number>;
  costUsd: number;
  /** Per model: requests whose usage was recorded, and their tokens. */
  models: Record<string, { counted: number; tokens: Record<Direction, number> }>;
}

export function emptyArm(variant: string): ArmCounts {
  return {
    variant,
    byStatus: {},
    rejections: {},
    zaiErrors: {},
    latency: new Array<number>(LATENCY_BOUNDS.length + 1).fill(0),
    ttfb: new Array<number>(LATENCY_BOUNDS.length + 1).fill(0),
    tokens: noTokens(),
    costUsd: 0,
    models: {},
  };
}

export const noTokens = (): Record<Direction, number> => ({ input: 0, output: 0, cache_read: 0, cache_write: 0 });

const sum = (xs: Iterable<number>) => {
  let t = 0;
  for (const x of xs) t += x;
  return t;
};
const pick = (r: Record<string, number>, keys: readonly string[]) => sum(keys.map((k) => r[k] ?? 0));
const share = (n: number, d: number) => (d > 0 ? n / d : null);

export interface ArmStats {
  variant: string;
  requests: number;
  successes: number;
  errors: number;
  error_rate: number | null;
  /** 95 % one-sided Wilson upper bound of the error rate. */
  error_rate_upper: number | null;
  throttled_share: number | null;
  /** 429 share of requests by cause. */
  throttled_by_cause: { upstream_quota: number | null; upstream_rate: number | null; proxy_queue: number | null };
  latency_ms: { p50: number | null; p95: number | null };
  ttfb_ms: { p50: number | null; p95: number | null };
  /** Tokens per successful request, by direction. */
  tokens_per_request: Record<Direction, number | null>;
  cost_per_request_usd: number | null;
}

const quantileMs = (q: number, cumulative: readonly number[]) => {
  const v = histogramQuantile(q, LATENCY_BOUNDS, cumulative);
  return v === null ? null : v * 1000;
};

/**
 * 429s by cause. The proxy's own rejections carry their reason; a 429 relayed from Z.AI is a
 * quota one when Z.AI classed it quota (never retried, so attempts = answers), else a rate one.
 */
export function throttledCounts(a: ArmCounts): { total: number; upstream_quota: number; upstream_rate: number; proxy_queue: number } {
  const total = a.byStatus['429'] ?? 0;
  const proxyQueue = Math.min(total, pick(a.rejections, PROXY_QUEUE_REASONS));
  const quota = Math.min(total - proxyQueue, pick(a.rejections, PROXY_QUOTA_REASONS) + pick(a.zaiErrors, UPSTREAM_QUOTA_CLASSES));
  return { total, proxy_queue: proxyQueue, upstream_quota: quota, upstream_rate: total - proxyQueue - quota };
}

export function armStats(a: ArmCounts): ArmStats {
  const requests = sum(Object.values(a.byStatus));
  const errors = sum(Object.entries(a.byStatus).flatMap(([c, n]) => (isServerError(c) ? [n] : [])));
  const successes = sum(Object.entries(a.byStatus).flatMap(([c, n]) => (isSuccess(c) ? [n] : [])));
  const t = throttledCounts(a);
  const perRequest = {} as Record<Direction, number | null>;
  for (const d of REPORTED_DIRECTIONS) perRequest[d] = share(a.tokens[d], successes);
  return {
    variant: a.variant,
    requests,
    successes,
    errors,
    error_rate: share(errors, requests),
    error_rate_upper: requests > 0 ? wilsonUpper(errors, requests) : null,
    throttled_share: share(t.total, requests),
    throttled_by_cause: {
      upstream_quota: share(t.upstream_quota, requests),
      upstream_rate: share(t.upstream_rate, requests),
      proxy_queue: share(t.proxy_queue, requests),
    },
    latency_ms: { p50: quantileMs(0.5, a.latency), p95: quantileMs(0.95, a.latency) },
    ttfb_ms: { p50: quantileMs(0.5, a.ttfb), p95: quantileMs(0.95, a.ttfb) },
    tokens_per_request: perRequest,
    cost_per_request_usd: share(a.costUsd, successes),
  };
}

// ---------------------------------------------------------------------------------------------
// Statistics

export const Z_95_ONE_SIDED = 1.6448536269514722;

/** One-sided 95 % Wilson score upper bound of a proportion x/n. */
export function wilsonUpper(x: number, n: number, z = Z_95_ONE_SIDED): number {
  const p = x / n;
  const z2 = z * z;
  return Math.min(1, (p + z2 / (2 * n) + z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n));
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 through erf; absolute error < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** z with normalCdf(z) = 1 − alpha: the critical value of the one-sided test (bisection; alpha in (0, 0.5]). */
export function criticalZ(alpha: number): number {
  let lo = 0;
  let hi = 10;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (1 - normalCdf(mid) > alpha) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * One-sided pooled two-proportion z-test: p-value of "the canary's rate is higher than
 * stable's". 1 when the rates cannot be told apart (no errors at all, or every request failed).
 */
export function canaryWorsePValue(canaryX: number, canaryN: number, stableX: number, stableN: number): number {
  if (canaryN === 0 || stableN === 0) return 1;
  const pooled = (canaryX + stableX) / (canaryN + stableN);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / canaryN + 1 / stableN));
  if (!(se > 0)) return 1;
  return 1 - normalCdf((canaryX / canaryN - stableX / stableN) / se);
}

// ---------------------------------------------------------------------------------------------
// Verdict

export type CheckStatus = 'pass' | 'hold' | 'fail' | 'insufficient';
export type Verdict = 'promote' | 'hold' | 'rollback';

export interface Check {
  name: 'sample' | 'errors' | 'latency_p95' | 'tokens';
  status: CheckStatus;
  /** One line a person reads: the numbers and the threshold they were held against. */
  detail: string;
}

export interface TokenAgreement {
  model: string;
  direction: ComparedDirection;
  stable_per_request: number;
  canary_per_request: number;
  /** canary / stable − 1 */
  difference: number;
}

export interface Report {
  verdict: Verdict;
  /** false when a check lacked the data to decide; the verdict is then hold. */
  enough_data: boolean;
  reasons: string[];
  window_s: number;
  thresholds: Thresholds;
  stable: ArmStats;
  canary: ArmStats;
  /** canary − stable, or canary / stable for the ratio fields. */
  deltas: {
    error_rate: number | null;
    error_p_value: number;
    latency_p95_ratio: number | null;
    ttfb_p95_ratio: number | null;
    cost_per_request_ratio: number | null;
  };
  token_agreement: TokenAgreement[];
  checks: Check[];
}

export interface JudgementInput {
  windowS: number;
  window: { stable: ArmCounts; canary: ArmCounts };
  /** The last `sustainS` seconds alone. */
  sustain: { stable: ArmCounts; canary: ArmCounts };
  thresholds?: Partial<Thresholds>;
}

const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(2)}%`);
const ms = (x: number | null) => (x === null ? '-' : `${x.toFixed(1)}ms`);
const ratioOf = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? a / b : null);

function errorCheck(s: ArmStats, c: ArmStats, t: Thresholds): { status: CheckStatus; p: number; detail: string } {
  const p = canaryWorsePValue(c.errors, c.requests, s.errors, s.requests);
  const rate = c.error_rate ?? 0;
  const upper = c.error_rate_upper ?? 1;
  const base = `canary ${pct(c.error_rate)} (95% upper ${pct(upper)}) vs stable ${pct(s.error_rate)}, p=${p.toFixed(3)}`;
  if (rate > t.rollbackErrorRate && p < t.alpha) return { status: 'fail', p, detail: `${base}: above ${pct(t.rollbackErrorRate)} and worse than stable` };
  if (upper < t.promoteErrorRate) return { status: 'pass', p, detail: `${base}: below ${pct(t.promoteErrorRate)}` };
  if (rate < t.promoteErrorRate) return { status: 'insufficient', p, detail: `${base}: cannot yet tell it is below ${pct(t.promoteErrorRate)}` };
  if (rate > t.rollbackErrorRate)
    return { status: 'hold', p, detail: `${base}: above ${pct(t.rollbackErrorRate)} but not worse than stable (upstream trouble?)` };
  return { status: 'hold', p, detail: `${base}: between ${pct(t.promoteErrorRate)} and ${pct(t.rollbackErrorRate)}` };
}

function latencyCheck(s: ArmStats, c: ArmStats, t: Thresholds): { status: CheckStatus; ratio: number | null; detail: string } {
  const sp = s.latency_ms.p95;
  const cp = c.latency_ms.p95;
  const ratio = ratioOf(cp, sp);
  const base = `p95 canary ${ms(cp)} vs stable ${ms(sp)} (${ratio === null ? '-' : `${ratio.toFixed(2)}x`})`;
  if (sp === null || cp === null) return { status: 'insufficient', ratio, detail: `${base}: no latency observations` };
  const within = (k: number) => cp <= k * sp || cp - sp <= t.latencySlackMs;
  if (!within(t.rollbackLatencyRatio)) return { status: 'fail', ratio, detail: `${base}: above ${t.rollbackLatencyRatio}x stable` };
  if (within(t.promoteLatencyRatio)) return { status: 'pass', ratio, detail: `${base}: within ${t.promoteLatencyRatio}x stable (or ${t.latencySlackMs}ms)` };
  return { status: 'hold', ratio, detail: `${base}: between ${t.promoteLatencyRatio}x and ${t.rollbackLatencyRatio}x stable` };
}

export function tokenAgreement(stable: ArmCounts, canary: ArmCounts, minRequests: number): TokenAgreement[] {
  const out: TokenAgreement[] = [];
  for (const model of Object.keys(stable.models).sort()) {
    const s = stable.models[model]!;
    const c = canary.models[model];
    if (!c || s.counted < minRequests || c.counted < minRequests) continue;
    for (const direction of COMPARED_DIRECTIONS) {
      if (!(s.tokens[direction] > 0)) continue;
      const sp = s.tokens[direction] / s.counted;
      const cp = c.tokens[direction] / c.counted;
      out.push({ model, direction, stable_per_request: sp, canary_per_request: cp, difference: cp / sp - 1 });
    }
  }
  return out;
}

function tokenCheck(agreement: readonly TokenAgreement[], t: Thresholds): Check {
  if (agreement.length === 0) {
    return { name: 'tokens', status: 'insufficient', detail: `no model with ${t.minRequests} recorded requests on both arms` };
  }
  const worst = agreement.reduce((a, b) => (Math.abs(b.difference) > Math.abs(a.difference) ? b : a));
  const line = `${worst.model} ${worst.direction}: canary ${worst.canary_per_request.toFixed(1)} vs stable ${worst.stable_per_request.toFixed(1)} tokens/request (${(worst.difference * 100).toFixed(2)}%)`;
  return Math.abs(worst.difference) > t.tokenTolerance
    ? { name: 'tokens', status: 'fail', detail: `${line}: disagree by more than ${pct(t.tokenTolerance)}` }
    : { name: 'tokens', status: 'pass', detail: `${line}: within ${pct(t.tokenTolerance)}` };
}

export function judge(input: JudgementInput): Report {
  const t: Thresholds = { ...DEFAULT_THRESHOLDS, ...input.thresholds };
  const s = armStats(input.window.stable);
  const c = armStats(input.window.canary);
  const agreement = tokenAgreement(input.window.stable, input.window.canary, t.minRequests);
  const err = errorCheck(s, c, t);
  const lat = latencyCheck(s, c, t);
  const deltas: Report['deltas'] = {
    error_rate: c.error_rate !== null && s.error_rate !== null ? c.error_rate - s.error_rate : null,
    error_p_value: err.p,
    latency_p95_ratio: lat.ratio,
    ttfb_p95_ratio: ratioOf(c.ttfb_ms.p95, s.ttfb_ms.p95),
    cost_per_request_ratio: ratioOf(c.cost_per_request_usd, s.cost_per_request_usd),
  };
  const base = { window_s: input.windowS, thresholds: t, stable: s, canary: c, deltas, token_agreement: agreement };

  if (s.requests < t.minRequests || c.requests < t.minRequests) {
    const detail = `stable ${s.requests}, canary ${c.requests} requests; each arm needs ${t.minRequests}`;
    return {
      ...base,
      verdict: 'hold',
      enough_data: false,
      reasons: [`not enough data to judge: ${detail}`],
      checks: [{ name: 'sample', status: 'insufficient', detail }],
    };
  }

  const checks: Check[] = [
    { name: 'sample', status: 'pass', detail: `stable ${s.requests}, canary ${c.requests} requests (minimum ${t.minRequests})` },
    { name: 'errors', status: err.status, detail: err.detail },
    { name: 'latency_p95', status: lat.status, detail: lat.detail },
    tokenCheck(agreement, t),
  ];
  // Errors and latency must also fail over the sustain span alone before they roll back.
  const ss = armStats(input.sustain.stable);
  const sc = armStats(input.sustain.canary);
  const recentEnough = ss.requests >= t.minRequests && sc.requests >= t.minRequests;
  for (const check of checks) {
    if (check.status !== 'fail' || check.name === 'tokens') continue;
    const recent = check.name === 'errors' ? errorCheck(ss, sc, t) : latencyCheck(ss, sc, t);
    if (!recentEnough || recent.status !== 'fail') {
      check.status = 'hold';
      check.detail += recentEnough
        ? `; not sustained over the last ${t.sustainS}s (${recent.detail})`
        : `; the last ${t.sustainS}s hold too few requests to confirm (stable ${ss.requests}, canary ${sc.requests})`;
    }
  }

  const failed = checks.filter((x) => x.status === 'fail');
  const insufficient = checks.filter((x) => x.status === 'insufficient');
  const held = checks.filter((x) => x.status === 'hold');
  if (failed.length > 0) return { ...base, verdict: 'rollback', enough_data: true, reasons: failed.map((x) => `${x.name}: ${x.detail}`), checks };
  if (held.length === 0 && insufficient.length === 0) return { ...base, verdict: 'promote', enough_data: true, reasons: ['every check passed'], checks };
  const reasons = [...held, ...insufficient].map((x) => `${x.name}: ${x.detail}`);
  if (insufficient.length > 0) reasons.unshift('not enough data to judge every check');
  return { ...base, verdict: 'hold', enough_data: insufficient.length === 0, reasons, checks };
}

export const EXIT_CODE: Record<Verdict, number> = { promote: 0, hold: 1, rollback: 2 };
export const EXIT_UNREADABLE = 3;
