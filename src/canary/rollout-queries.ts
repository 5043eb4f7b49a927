import { METRIC } from '../dashboard/snapshot/names.js';
import { COMPARED_DIRECTIONS, criticalZ, DEFAULT_THRESHOLDS, Z_95_ONE_SIDED, type Thresholds } from './judgement.js';
import { windowIncrease } from './promql-increase.js';

/**
 * The canary judgement as PromQL, for an automated rollout engine (Argo Rollouts' Prometheus
 * analysis). Each check of judgement.ts becomes one query returning one number, with a success
 * and a failure condition on it: success on every metric is "promote", a failure is
 * "rollback", neither (Argo: inconclusive, the rollout pauses) is "hold". The same thresholds,
 * the same Wilson bound, the same z-test and the same slack; only the windows are the rollout's
 * (the promote checks over `window`, the rollback checks over the sustain span). Increases are
 * counted as canary-report's Prometheus source counts them (promql-increase.ts), not with
 * increase(), whose extrapolation undercounts series born inside the window.
 *
 * Arms are PromQL matchers, so the same queries run on `variant="canary"` in a test and on a
 * Rollout's pod-template hashes in a cluster.
 */

export interface ArmMatchers {
  stable: string;
  canary: string;
}

/** A condition on `result[0]`, as data: rendered for Argo (expr language) and evaluated in tests. */
export type Condition = { op: '<' | '<=' | '>' | '>='; value: number } | { op: 'never' } | { op: 'between'; min: number; max: number };

export interface AnalysisQuery {
  name: string;
  /** What the number is, for the AnalysisTemplate's comments and the runbook. */
  meaning: string;
  query: string;
  success: Condition;
  failure: Condition;
}

export function renderCondition(c: Condition): string {
  if (c.op === 'never') return 'false';
  if (c.op === 'between') return `result[0] >= ${c.min} && result[0] <= ${c.max}`;
  return `result[0] ${c.op} ${c.value}`;
}

export function holds(c: Condition, x: number): boolean {
  switch (c.op) {
    case 'never':
      return false;
    case 'between':
      return x >= c.min && x <= c.max;
    case '<':
      return x < c.value;
    case '<=':
      return x <= c.value;
    case '>':
      return x > c.value;
    case '>=':
      return x >= c.value;
  }
}

function queryParts(step: string) {
  const inc = (series: string, matchers: string, w: string) => windowIncrease(`${series}{${matchers}}`, w, step);
  const requests = (m: string, w: string) => `sum(${inc(METRIC.zai_proxy_requests_total, m, w)})`;
  const errors = (m: string, w: string) => `(sum(${inc(METRIC.zai_proxy_requests_total, `${m}, status_code=~"5.."`, w)}) or on() vector(0))`;
  const p95 = (m: string, w: string) => `histogram_quantile(0.95, sum by (le) (${inc(`${METRIC.zai_proxy_request_duration_seconds}_bucket`, m, w)}))`;
  const tokensPerRequest = (m: string, w: string, minRequests: number) => {
    const tokens = `sum by (model, direction) (${inc(METRIC.zai_proxy_tokens_total, `${m}, direction=~"${COMPARED_DIRECTIONS.join('|')}"`, w)})`;
    const counted = `sum by (model) (${inc(`${METRIC.zai_proxy_token_rate}_count`, `${m}, direction="input"`, w)})`;
    return `(${tokens} / on(model) group_left() (${counted} >= ${minRequests}))`;
  };
  return { requests, errors, p95, tokensPerRequest };
}

export interface QueryWindows {
  /** Span of the promote checks (e.g. 10m). */
  window: string;
  /** Span of the rollback checks: the failure must hold over it as a whole (e.g. 2m). */
  sustain: string;
  /** Step of the increases (promql-increase.ts): at most the scrape interval (e.g. 15s). */
  step: string;
}

export function analysisQueries(arms: ArmMatchers, windows: QueryWindows, overrides: Partial<Thresholds> = {}): AnalysisQuery[] {
  const t = { ...DEFAULT_THRESHOLDS, ...overrides };
  const { stable: s, canary: c } = arms;
  const { window: w, sustain, step } = windows;
  const { requests, errors, p95, tokensPerRequest } = queryParts(step);
  const z = Z_95_ONE_SIDED;
  const z2 = z * z;

  // Wilson upper bound of the canary's 5xx rate: (p + z²/2n + z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n).
  const n = requests(c, w);
  const p = `(${errors(c, w)} / ${n})`;
  const upper = `((${p} + ${z2 / 2} / ${n} + ${z} * sqrt(${p} * (1 - ${p}) / ${n} + ${z2 / 4} / (${n} * ${n}))) / (1 + ${z2} / ${n}))`;

  // The canary's 5xx rate over the sustain span, kept only when the pooled z-test says it is worse than stable.
  const nc = requests(c, sustain);
  const ns = requests(s, sustain);
  const pc = `(${errors(c, sustain)} / ${nc})`;
  const ps = `(${errors(s, sustain)} / ${ns})`;
  const pool = `((${errors(c, sustain)} + ${errors(s, sustain)}) / (${nc} + ${ns}))`;
  const zStat = `((${pc} - ${ps}) / sqrt(${pool} * (1 - ${pool}) * (1 / ${nc} + 1 / ${ns})))`;

  const slackS = t.latencySlackMs / 1000;
  const gatedRatio = (span: string) => `(((${p95(c, span)} / ${p95(s, span)}) and on() ((${p95(c, span)} - ${p95(s, span)}) > ${slackS})) or on() vector(1))`;

  return [
    {
      name: 'sample',
      meaning: `requests on the smaller arm over ${w}; below ${t.minRequests} nothing is judged`,
      query: `((${requests(c, w)} <= ${requests(s, w)}) or on() ${requests(s, w)}) or on() vector(0)`,
      success: { op: '>=', value: t.minRequests },
      failure: { op: 'never' },
    },
    {
      name: 'error-rate-upper-bound',
      meaning: `one-sided 95% Wilson upper bound of the canary's 5xx rate over ${w}; promote below ${t.promoteErrorRate}`,
      query: `${upper} or on() vector(1)`,
      success: { op: '<', value: t.promoteErrorRate },
      failure: { op: 'never' },
    },
    {
      name: 'error-rate-worse-than-stable',
      meaning: `the canary's 5xx rate over ${sustain} when significantly above stable's (z > ${criticalZ(t.alpha).toFixed(4)}), else 0; roll back above ${t.rollbackErrorRate}`,
      query: `((${pc}) and on() (${zStat} > ${criticalZ(t.alpha)})) or on() vector(0)`,
      success: { op: '<=', value: t.rollbackErrorRate },
      failure: { op: '>', value: t.rollbackErrorRate },
    },
    {
      name: 'latency-p95-ratio',
      meaning: `canary p95 / stable p95 over ${w} (1 while within ${t.latencySlackMs}ms); promote up to ${t.promoteLatencyRatio}`,
      query: gatedRatio(w),
      success: { op: '<=', value: t.promoteLatencyRatio },
      failure: { op: 'never' },
    },
    {
      name: 'latency-p95-ratio-sustained',
      meaning: `the same ratio over ${sustain}; roll back above ${t.rollbackLatencyRatio}`,
      query: gatedRatio(sustain),
      success: { op: '<=', value: t.rollbackLatencyRatio },
      failure: { op: '>', value: t.rollbackLatencyRatio },
    },
    {
      name: 'token-disagreement',
      meaning: `largest |canary/stable - 1| of tokens per recorded request, per model and direction, over ${w} (-1: no model with ${t.minRequests} requests on both arms); roll back above ${t.tokenTolerance}`,
      query: `max(abs(${tokensPerRequest(c, w, t.minRequests)} / ${tokensPerRequest(s, w, t.minRequests)} - 1)) or on() vector(-1)`,
      success: { op: 'between', min: 0, max: t.tokenTolerance },
      failure: { op: '>', value: t.tokenTolerance },
    },
  ];
}
