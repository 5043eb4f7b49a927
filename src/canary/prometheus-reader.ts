import { request } from 'undici';
import { METRIC } from '../dashboard/snapshot/names.js';
import { parseValue } from '../dashboard/snapshot/exposition.js';
import { add, emptyArms, SourceUnreadableError, type ArmQuery, type ArmReader, type ArmsRead } from './arms.js';
import { LATENCY_BOUNDS, noTokens, REPORTED_DIRECTIONS, type ArmCounts, type Direction } from './judgement.js';
import { promDuration, stepIncrease } from './promql-increase.js';

/**
 * Arm counts from a Prometheus server. Each series' increase over the span is the sum of its
 * step increases (promql-increase.ts, the same PromQL the Argo analysis queries sum with a
 * subquery), read with query_range at steps that end exactly at `to`: a series present at
 * `from` counts from its value there, one that appears later counts from zero, a drop is a
 * reset, as the dashboard's collector counts them. No increase() extrapolation, so the numbers
 * match the store's.
 */

type Into = (arm: ArmCounts, labels: Record<string, string>, n: number) => void;

const bucketIndex = (le: string | undefined) => {
  const v = parseValue(le ?? '');
  if (v === undefined) return -1;
  return v === Infinity ? LATENCY_BOUNDS.length : LATENCY_BOUNDS.findIndex((b) => Math.abs(b - v) <= Math.abs(b) * 1e-9);
};
const intoBuckets =
  (pick: (a: ArmCounts) => number[]): Into =>
  (arm, l, n) => {
    const i = bucketIndex(l.le);
    if (i >= 0) pick(arm)[i] = (pick(arm)[i] ?? 0) + n;
  };
const modelOf = (arm: ArmCounts, model: string) => (arm.models[model] ??= { counted: 0, tokens: noTokens() });
const isDirection = (d: string | undefined): d is Direction => (REPORTED_DIRECTIONS as readonly string[]).includes(d ?? '');

/** Every series the judgement reads, and where its increase goes. */
export const SIGNALS: readonly { series: string; matchers?: string; into: Into }[] = [
  { series: METRIC.zai_proxy_requests_total, into: (a, l, n) => add(a.byStatus, l.status_code ?? '', n) },
  { series: METRIC.zai_proxy_rate_limit_rejections_total, into: (a, l, n) => add(a.rejections, l.reason ?? '', n) },
  { series: METRIC.zai_proxy_zai_errors_total, into: (a, l, n) => add(a.zaiErrors, l.class ?? '', n) },
  { series: `${METRIC.zai_proxy_request_duration_seconds}_bucket`, into: intoBuckets((a) => a.latency) },
  { series: `${METRIC.zai_proxy_time_to_first_byte_seconds}_bucket`, into: intoBuckets((a) => a.ttfb) },
  {
    series: METRIC.zai_proxy_tokens_total,
    into: (a, l, n) => {
      if (!isDirection(l.direction)) return;
      a.tokens[l.direction] += n;
      modelOf(a, l.model ?? '').tokens[l.direction] += n;
    },
  },
  { series: METRIC.zai_proxy_estimated_cost_usd_total, into: (a, _l, n) => (a.costUsd += n) },
  { series: `${METRIC.zai_proxy_token_rate}_count`, matchers: 'direction="input"', into: (a, l, n) => (modelOf(a, l.model ?? '').counted += n) },
];

/** The sum of one series' step increases (non-finite values, which no counter has, count nothing). */
export function sumOfSteps(values: readonly [number, string][]): number {
  let total = 0;
  for (const [, v] of values) {
    const n = Number(v);
    if (Number.isFinite(n) && n > 0) total += n;
  }
  return total;
}

const escapeLabel = (s: string) => s.replace(/[\\"]/g, '\\$&');

interface RangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

export interface PrometheusReaderOptions {
  timeoutMs?: number;
  /** PromQL matchers that pick each arm, instead of `variant="<name>"` (e.g. a Rollout's pod-template hash). */
  matchers?: { stable: string; canary: string };
}

export function prometheusReader(baseUrl: string, { timeoutMs = 15_000, matchers }: PrometheusReaderOptions = {}): ArmReader {
  const base = baseUrl.replace(/\/+$/, '');

  /** query_range, its times in whole milliseconds so every step lands exactly where asked. */
  async function range(expr: string, fromMs: number, toMs: number, stepMs: number): Promise<RangeSeries[]> {
    const seconds = (ms: number) => (ms / 1000).toFixed(3);
    let text: string;
    try {
      const res = await request(`${base}/api/v1/query_range`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ query: expr, start: seconds(fromMs), end: seconds(toMs), step: promDuration(stepMs) }).toString(),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      text = await res.body.text();
    } catch (err) {
      throw new SourceUnreadableError(`Prometheus at ${base} does not answer: ${(err as Error).message}`);
    }
    let body: { status?: string; error?: string; data?: { result?: RangeSeries[] } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new SourceUnreadableError(`${base}/api/v1/query_range answered with something that is not the Prometheus API`);
    }
    if (body.status !== 'success') throw new SourceUnreadableError(`Prometheus rejected ${expr}: ${body.error ?? 'unknown error'}`);
    return body.data?.result ?? [];
  }

  return {
    description: `Prometheus ${base}`,
    async read(q: ArmQuery): Promise<ArmsRead> {
      // At most 500 steps of whole milliseconds, the last ending exactly at `to`, the first
      // starting at or before `from`; increases telescope, so the step only matters for resets.
      const toMs = Math.round(q.toMs);
      const stepMs = Math.max(Math.ceil((toMs - q.fromMs) / 500), 1000);
      const startMs = toMs - Math.max(Math.ceil((toMs - q.fromMs) / stepMs), 1) * stepMs;
      const arms = emptyArms(q);
      const armMatchers = matchers ?? { stable: `variant="${escapeLabel(q.stable)}"`, canary: `variant="${escapeLabel(q.canary)}"` };
      for (const signal of SIGNALS) {
        for (const side of ['stable', 'canary'] as const) {
          const selector = `${signal.series}{${[armMatchers[side], signal.matchers].filter(Boolean).join(', ')}}`;
          // Evaluated at the end of each step: the first one, one step after the start, counts from the start.
          for (const s of await range(stepIncrease(selector, promDuration(stepMs)), startMs + stepMs, toMs, stepMs)) {
            const n = sumOfSteps(s.values);
            if (n !== 0) signal.into(arms[side], s.metric, n);
          }
        }
      }
      const seen = await range('group by (variant) ({__name__="zai_proxy_requests_total"})', startMs, toMs, stepMs);
      return {
        ...arms,
        variantsSeen: seen
          .map((s) => s.metric.variant ?? '')
          .filter(Boolean)
          .sort(),
      };
    },
    close: () => undefined,
  };
}
