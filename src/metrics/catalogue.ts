import client from 'prom-client';
import {
  DURATION_BUCKETS,
  SIZE_BUCKETS,
  OVERHEAD_BUCKETS,
  WAIT_BUCKETS,
  TOKEN_COUNT_BUCKETS,
  SECONDS_PER_TOKEN_BUCKETS,
  TOKENS_PER_SECOND_BUCKETS,
} from './buckets.js';
import { FastCounter, FastGauge, FastHistogram } from './fast.js';
import { IPC_PURPOSES } from './labels.js';

/**
 * The metric catalogue: names, types, label names and buckets are a contract with operators'
 * Grafana panels and alerts. This is the only place they are declared (bucket bounds in
 * buckets.ts, which the dashboard page reads too); everything that records
 * or checks a metric imports it from here, and docs/metrics.md is generated from it.
 */

export * from './buckets.js';

type Kind = 'counter' | 'gauge' | 'histogram';
/**
 * How one family's series from several processes (PROXY_WORKERS > 1) become one, by
 * prom-client's aggregator names: counters and histograms (bucket by bucket) are always
 * summed; each gauge says what its meaning needs.
 */
export type Aggregation = 'sum' | 'max' | 'min' | 'average' | 'first';
interface Spec {
  readonly kind: Kind;
  readonly help: string;
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
  readonly aggregate: Aggregation;
  /** For a family prom-client exports only once touched: the event that first touches it. */
  readonly appearsWhen?: string;
}

const spec = <K extends Kind, L extends readonly string[]>(kind: K, help: string, labels: L, buckets?: number[]) =>
  ({ kind, help, labels, buckets, aggregate: 'sum' as Aggregation }) as const;
/** A gauge and how workers' values of it combine (see Aggregation). */
const gauge = <L extends readonly string[]>(aggregate: Aggregation, help: string, labels: L) => ({ ...spec('gauge', help, labels), aggregate }) as const;

/** A family that exists only after `event` (a labelled series is exported once it is touched). */
const after = <S extends Spec>(event: string, s: S) => ({ ...s, appearsWhen: event }) as const;

/** Every application metric, by name. `variant` is on every series and is set once per registry. */
export const CATALOGUE = {
  // Requests
  zai_proxy_requests_total: spec('counter', 'Finished requests, by the status the client got', ['method', 'path', 'status_code'] as const),
  zai_proxy_request_duration_seconds: spec(
    'histogram',
    'Time from request received to response ended',
    ['method', 'path', 'status_code'] as const,
    DURATION_BUCKETS,
  ),
  zai_proxy_request_size_bytes: spec('histogram', 'Request body size', ['method', 'path'] as const, SIZE_BUCKETS),
  zai_proxy_response_size_bytes: spec('histogram', 'Response body size sent to the client', ['method', 'path', 'status_code'] as const, SIZE_BUCKETS),
  zai_proxy_time_to_first_byte_seconds: spec('histogram', 'Time until the first upstream byte was relayed to the client', ['path'] as const, DURATION_BUCKETS),
  zai_proxy_overhead_seconds: spec('histogram', 'Time the proxy itself added (total minus upstream and limiter wait)', ['path'] as const, OVERHEAD_BUCKETS),
  zai_proxy_concurrent_requests: gauge('sum', 'Requests in flight', [] as const),
  zai_proxy_max_workers: gauge('sum', 'Configured MAX_WORKERS (each worker process has its own: summed over them)', [] as const),
  zai_proxy_worker_utilization_ratio: gauge('average', 'In-flight requests over MAX_WORKERS', [] as const),
  // Upstream errors and retries
  zai_proxy_upstream_errors_total: after(
    'an upstream attempt fails',
    spec('counter', 'Failed upstream attempts, by error type or upstream HTTP status', ['error_type'] as const),
  ),
  zai_proxy_zai_errors_total: after(
    'Z.AI answers with a business error code',
    spec('counter', 'Z.AI business errors, by class and code', ['class', 'code'] as const),
  ),
  zai_proxy_retry_attempts_total: after('the proxy retries a request', spec('counter', 'Retries actually made, by reason', ['reason'] as const)),
  zai_proxy_client_disconnects_total: after(
    'a client goes away before its response ends',
    spec('counter', 'Clients that went away before the response ended', ['path'] as const),
  ),
  // Rate and concurrency control
  zai_proxy_rate_limit_requests_per_second: gauge('max', 'Current admitted request rate (one budget for the key, shared by every worker process)', [] as const),
  zai_proxy_rate_limit_ceiling: gauge('max', 'Inferred upstream request-rate ceiling (req/s)', [] as const),
  zai_proxy_concurrency_limit: gauge('sum', 'Current adaptive in-flight limit (each worker process learns its own: summed over them)', [] as const),
  zai_proxy_queue_depth: gauge('sum', 'Requests waiting for admission', [] as const),
  zai_proxy_limiter_binding: gauge(
    'max',
    'Which limit holds clients back now (1 for that limit, 0 for the others): none, learned_rate, concurrency, quota_pacing or upstream; with several worker processes, 1 for each limit that holds back any of them',
    ['limit'] as const,
  ),
  zai_proxy_rate_limit_wait_seconds: spec('histogram', 'Time a request waited for admission', ['client'] as const, WAIT_BUCKETS),
  zai_proxy_rate_limit_adjustments_total: after(
    'the rate limiter moves its limit',
    spec('counter', 'Rate limit adjustments, by direction', ['direction'] as const),
  ),
  zai_proxy_rate_limit_rejections_total: after(
    'admission rejects a request',
    spec('counter', 'Requests rejected by admission, by reason', ['reason', 'client'] as const),
  ),
  // Tokens and cost
  zai_proxy_tokens_total: spec('counter', 'Tokens consumed, by direction, model and pricing tier', ['direction', 'model', 'pricing_tier'] as const),
  zai_proxy_estimated_cost_usd_total: spec('counter', 'Estimated cost in USD, by direction, model and pricing tier', [
    'direction',
    'model',
    'pricing_tier',
  ] as const),
  zai_proxy_usage_source_total: spec('counter', 'Where token usage came from: reported, estimated or none', ['source'] as const),
  zai_proxy_token_count_duration_seconds: after(
    'the local tokenizer estimates a usage the upstream did not report',
    spec('histogram', 'Time spent estimating tokens locally', [] as const, TOKEN_COUNT_BUCKETS),
  ),
  zai_proxy_token_rate_seconds: spec('histogram', 'Seconds per token, by direction and model', ['direction', 'model'] as const, SECONDS_PER_TOKEN_BUCKETS),
  zai_proxy_token_rate: spec('histogram', 'Tokens per second, by direction and model', ['direction', 'model'] as const, TOKENS_PER_SECOND_BUCKETS),
  // Quota
  zai_proxy_quota_usage_ratio: after(
    'the quota poller (QUOTA_POLL_ENABLED=true) gets a sample',
    gauge('max', 'Used fraction of a Coding Plan quota window', ['window', 'limit_type'] as const),
  ),
  zai_proxy_quota_remaining_ratio: after(
    'the quota poller (QUOTA_POLL_ENABLED=true) gets a sample',
    gauge('min', 'Remaining fraction of a Coding Plan quota window', ['window', 'limit_type'] as const),
  ),
  zai_proxy_quota_reset_time_seconds: after(
    'the quota poller (QUOTA_POLL_ENABLED=true) gets a sample with a reset time',
    gauge('max', 'When a quota window resets (Unix seconds)', ['window', 'limit_type'] as const),
  ),
  zai_proxy_quota_sample_age_seconds: after('the quota poller (QUOTA_POLL_ENABLED=true) runs', gauge('max', 'Age of the last good quota sample', [] as const)),
  zai_proxy_quota_poll_total: after('the quota poller (QUOTA_POLL_ENABLED=true) runs', spec('counter', 'Quota polls, by result', ['result'] as const)),
  // Canary traffic split (only with CANARY_UPSTREAM)
  zai_proxy_canary_requests_total: after(
    'the proxy splits traffic (CANARY_UPSTREAM set)',
    spec('counter', 'Requests the canary traffic split served on each arm (stable, canary)', ['arm'] as const),
  ),
  zai_proxy_canary_failovers_total: after(
    'a canary arm (CANARY_UPSTREAM) does not answer',
    spec('counter', 'Canary-arm requests served on stable because the canary did not answer', ['reason'] as const),
  ),
  // Worker processes (only with PROXY_WORKERS > 1)
  zai_proxy_cluster_workers: gauge('sum', 'Processes serving the port now: the workers the primary has up with PROXY_WORKERS > 1, else 1', [] as const),
  zai_proxy_cluster_worker_requests_total: spec(
    'counter',
    'Requests each worker process took (worker = its slot, 0 to PROXY_WORKERS - 1; one process is worker 0)',
    ['worker'] as const,
  ),
  zai_proxy_cluster_ipc_failures_total: spec(
    'counter',
    'Messages between worker processes and the primary that failed or went unanswered, by what they were for (budget, metrics, health, drain); always 0 for one process',
    ['op'] as const,
  ),
  // Build
  zai_proxy_build_info: gauge('first', 'Build information; always 1', ['version', 'commit', 'build_time'] as const),
} as const;

export type MetricName = keyof typeof CATALOGUE;

const DUPLICATE_GAUGE_TOTALS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
type Catalogue = typeof CATALOGUE;
type MetricOf<N extends MetricName> = Catalogue[N]['kind'] extends 'counter' ? FastCounter : Catalogue[N]['kind'] extends 'gauge' ? FastGauge : FastHistogram;

export type Metrics = { readonly [N in MetricName]: MetricOf<N> } & {
  readonly registry: client.Registry;
  readonly variant: string;
};

/**
 * Creates a fresh registry holding the whole catalogue (plus Node's process metrics), with
 * `variant` applied to every series. Tests create one per proxy instance.
 */
export function createMetrics(variant: string, { processMetrics = true } = {}): Metrics {
  const registry = new client.Registry();
  registry.setDefaultLabels({ variant });
  const metrics: Record<string, unknown> = { registry, variant };
  for (const [name, s] of Object.entries(CATALOGUE) as [string, Spec][]) {
    const metric =
      s.kind === 'counter'
        ? new FastCounter(name, s.help, s.labels)
        : s.kind === 'gauge'
          ? new FastGauge(name, s.help, s.labels, s.aggregate)
          : new FastHistogram(name, s.help, s.labels, s.buckets!);
    registry.registerMetric(metric as unknown as client.Metric);
    metrics[name] = metric;
  }
  // Known label values start at 0, so the family exists (and a dashboard query answers) before the first failure.
  for (const op of IPC_PURPOSES) (metrics.zai_proxy_cluster_ipc_failures_total as FastCounter).labels(op);
  if (processMetrics) {
    client.collectDefaultMetrics({ register: registry });
    // prom-client also exports these totals as gauges named *_total, which promtool flags;
    // the same numbers remain available per type in nodejs_active_{handles,requests,resources}.
    for (const name of DUPLICATE_GAUGE_TOTALS) registry.removeSingleMetric(name);
  }
  return metrics as Metrics;
}

/**
 * The primary process's own series with PROXY_WORKERS > 1 (it serves no request): how many
 * workers are up and the messages that failed, merged into the workers' on every scrape.
 */
export function createPrimaryMetrics(variant: string) {
  const registry = new client.Registry();
  registry.setDefaultLabels({ variant });
  const w = CATALOGUE.zai_proxy_cluster_workers;
  const workers = new client.Gauge({ name: 'zai_proxy_cluster_workers', help: w.help, registers: [registry], aggregator: w.aggregate });
  const f = CATALOGUE.zai_proxy_cluster_ipc_failures_total;
  const ipcFailures = new FastCounter('zai_proxy_cluster_ipc_failures_total', f.help, f.labels);
  registry.registerMetric(ipcFailures as unknown as client.Metric);
  for (const op of IPC_PURPOSES) ipcFailures.labels(op);
  return { registry, workers, ipcFailures };
}
