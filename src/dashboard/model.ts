/**
 * The dashboard's wire model: what the collector derives per variant and what the REST and SSE
 * endpoints return. The React UI (web/) is written against these types, so they only grow:
 * fields may be added, never renamed or removed.
 *
 * Conventions, everywhere:
 * - timestamps `*_ms` / `ts` are milliseconds since the Unix epoch (UTC);
 * - `*_s` are seconds, `*_ms` durations are milliseconds;
 * - `rate` values are per second, averaged over the snapshot's window (`window_s`);
 * - `window` values are totals over the snapshot's window (for history points: over the point's
 *   whole resolution step, e.g. one minute for 1m points);
 * - `lifetime` values are the proxy's own cumulative counters (they drop when a proxy restarts);
 * - a value that cannot be known (no observations, no such series) is `null`, never NaN or 0.
 */

import type { Report } from '../canary/judgement.js';

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

export const TOKEN_DIRECTIONS = ['input', 'output', 'cache_read', 'cache_write'] as const;
export type TokenDirection = (typeof TOKEN_DIRECTIONS)[number];

export const RESOLUTIONS = ['5s', '1m', '1h'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];
/** The step between points at each resolution. */
export const STEP_MS: Record<Resolution, number> = { '5s': 5_000, '1m': 60_000, '1h': 3_600_000 };

/** Quantiles from bucket deltas within the window (not lifetime). `null` = no observations. */
export interface Quantiles {
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}

export interface RequestStats {
  /** Finished requests per second, every status. */
  rate: number;
  /** Requests per second by status class; every class is present (0 when none). */
  by_class: Record<StatusClass, number>;
  /** Requests per second by exact status code ("200", "429", …); only codes seen in the window. */
  by_code: Record<string, number>;
  /** Requests finished in the window. */
  window: number;
  /** Sum of the proxy's requests counter (since the proxy started). */
  lifetime: number;
  /** 5xx share of requests in the window, 0..1; null when the window had no requests. 4xx are client errors, not counted. */
  error_ratio: number | null;
  /** 429 share of requests in the window, 0..1; null when no requests. */
  throttled_ratio: number | null;
  /** Clients that went away before the response ended, per second. */
  client_disconnect_rate: number;
}

export interface TokenStats {
  /** Tokens per second by direction. */
  rate: Record<TokenDirection, number>;
  /** Tokens in the window by direction. */
  window: Record<TokenDirection, number>;
  /** Proxy's cumulative token counters by direction. */
  lifetime: Record<TokenDirection, number>;
  /** Output tokens over input tokens in the window; null when no input tokens. */
  output_input_ratio: number | null;
  /** Generation throughput a client saw (tokens/s per request, output direction): p90/p99 in the window. */
  throughput_output: { p90: number | null; p99: number | null };
  /** Prompt ingestion throughput (tokens/s per request, input direction): p90/p99 in the window. */
  throughput_input: { p90: number | null; p99: number | null };
  /** Where usage came from, requests per second: reported / estimated / none. */
  usage_source_rate: Record<string, number>;
  /** Tokens in the window by model, then direction (only models with tokens). Absent on points stored before it existed. */
  window_by_model?: Record<string, Record<TokenDirection, number>>;
  /**
   * Requests whose usage was recorded in the window, by model: the count of the input
   * token-rate histogram, the only per-model request count the catalogue has. Absent on older points.
   */
  counted_by_model?: Record<string, number>;
}

export interface CostStats {
  /** Estimated USD spent in the window, all directions and tiers. */
  window: number;
  /** Estimated USD in the window by token direction. */
  window_by_direction: Record<TokenDirection, number>;
  /** Spend pace: USD per hour at the window's rate. */
  per_hour: number;
  /** Proxy's cumulative estimated USD (since the proxy started). */
  lifetime: number;
  /** Spend pace projected over a day: USD per day at the window's rate (per_hour × 24). */
  per_day: number;
  /** Estimated USD in the window by model (the upstream model name); only models priced in the window. */
  window_by_model: Record<string, number>;
  /** USD per day at the window's rate, by model; same keys as window_by_model. */
  per_day_by_model: Record<string, number>;
}

export interface LimiterStats {
  /** Current admitted request rate (req/s), gauge. null when the proxy exports none. */
  rate_rps: number | null;
  /** Inferred upstream ceiling (req/s), gauge. */
  ceiling_rps: number | null;
  /** Current adaptive in-flight limit, gauge. */
  concurrency_limit: number | null;
  /** Requests waiting for admission, gauge. */
  queue_depth: number | null;
  /** Admission wait quantiles in ms within the window. */
  wait_ms: Quantiles;
  /** Admissions per second that recorded a wait observation. */
  waits_rate: number;
  /** Rejections per second, total. */
  rejection_rate: number;
  /** Rejections per second by reason (capacity, queue_timeout, quota). */
  rejections_by_reason: Record<string, number>;
  /** Rate-limit adjustments in the window by direction (increase, decrease, probe). */
  adjustments_window: Record<string, number>;
  /**
   * The limit that holds clients back now (zai_proxy_limiter_binding): none, learned_rate,
   * concurrency, quota_pacing or upstream; with several replicas, the one binding the most of
   * them. null when the proxy does not export the gauge. Absent on points stored before it existed.
   */
  binding?: string | null;
  /** Replicas each limit binds now, by limit (only limits binding at least one); a mean on rollups. Absent on older points. */
  binding_replicas?: Record<string, number>;
  /**
   * How far under the inferred ceiling one replica holds its admitted rate: 1 − rate / ceiling
   * (0.02 = 2 % under; negative while probing above it). null without both gauges or with a
   * zero ceiling. Absent on older points.
   */
  ceiling_headroom_ratio?: number | null;
}

export interface ErrorStats {
  /** Failed upstream attempts per second. */
  upstream_rate: number;
  /** Failed upstream attempts per second by error_type (timeout, 429, …). */
  upstream_by_type: Record<string, number>;
  /** Z.AI business errors per second by class (concurrency, frequency, quota, …). */
  zai_by_class: Record<string, number>;
  /** Z.AI business errors per second by business code ("1302", …). */
  zai_by_code: Record<string, number>;
  /** Retries made per second. */
  retry_rate: number;
  /** Retries per second by reason. */
  retries_by_reason: Record<string, number>;
}

export interface WorkerStats {
  /** Requests in flight (gauge). */
  in_flight: number | null;
  /** Configured MAX_WORKERS (gauge). */
  max_workers: number | null;
  /** In flight over max workers (0..1, above 1 when overloaded). */
  utilization: number | null;
}

export interface QuotaWindow {
  /** Lower-case limit type chosen for this window (credit_limit preferred, then tokens_limit). */
  limit_type: string;
  /** Used fraction 0..1; null when not exported. */
  usage_ratio: number | null;
  /** Remaining fraction 0..1; null when not exported. */
  remaining_ratio: number | null;
  /** When the window resets, ms since epoch; null when no reset is advertised. */
  reset_ms: number | null;
}

export interface QuotaState {
  /** Keyed by window name: five_hour, weekly, monthly. Windows without series are absent. */
  windows: Record<string, QuotaWindow>;
  /** Age of the oldest quota sample among the series, seconds; null when not exported. */
  sample_age_s: number | null;
  /** Quota polls per second by result (success, error, malformed, stale). */
  poll_rate: Record<string, number>;
}

export interface BuildInfo {
  version: string;
  commit: string;
  build_time: string;
}

export interface ScrapeHealth {
  /** Every target of this variant answered this round. */
  up: boolean;
  /** Slowest scrape of this variant's targets this round, ms. */
  duration_ms: number;
  /** Last successful scrape of this variant, ms since epoch. */
  last_success_ms: number | null;
  /** Targets contributing to this variant, and how many answered. */
  targets: number;
  targets_up: number;
  /** Series parsed this round for this variant. */
  series: number;
}

/** One variant at one point in time: a live scrape (5s) or a history point (5s/1m/1h). */
export interface VariantSnapshot {
  /** Snapshot time (the scrape round's start, or the history bucket's start), ms since epoch. */
  ts: number;
  variant: string;
  /** Seconds the rates and window totals cover; 0 on a target's first scrape (rates then 0). */
  window_s: number;
  requests: RequestStats;
  /** Request duration quantiles in ms within the window. */
  latency_ms: Quantiles;
  /** Time-to-first-byte quantiles in ms within the window. */
  ttfb_ms: Quantiles;
  /** Time the proxy itself added, quantiles in ms within the window. */
  overhead_ms: Quantiles;
  /**
   * Cumulative bucket increases of request duration and time to first byte in the window, one
   * per catalogue bound then +Inf: quantiles over any span can be recomputed from stored points
   * (the canary report does). Absent on points stored before it existed.
   */
  buckets?: { latency: number[]; ttfb: number[] };
  tokens: TokenStats;
  cost_usd: CostStats;
  limiter: LimiterStats;
  errors: ErrorStats;
  workers: WorkerStats;
  /** null when the proxy exports no quota telemetry. */
  quota: QuotaState | null;
  /** null when the proxy exports no build info. */
  build: BuildInfo | null;
  scrape: ScrapeHealth;
}

// ---------------------------------------------------------------------------------------------
// REST

/** GET /healthz */
export interface HealthResponse {
  status: 'ok';
}

export interface TargetStatus {
  /** Variant name given as `name=url` in SCRAPE_TARGETS, else null (variant from the series). */
  name: string | null;
  /** Target URL with any credentials removed. */
  url: string;
  up: boolean;
  /** No successful scrape for more than 3 scrape intervals (or never). */
  stale: boolean;
  last_scrape_ms: number | null;
  last_success_ms: number | null;
  /** Short reason of the last failure; null after a success. */
  last_error: string | null;
  last_duration_ms: number | null;
  /** Series and skipped (unparseable) lines on the last successful page. */
  series: number;
  skipped_lines: number;
  /** Variants seen on this target's last page. */
  variants: string[];
}

export interface VariantStatus {
  variant: string;
  /** Time of the latest snapshot, ms. */
  last_ts: number;
  /** The latest snapshot is older than 3 scrape intervals. */
  stale: boolean;
  build: BuildInfo | null;
  latest: VariantSnapshot;
}

export interface StoreStatus {
  path: string;
  /** Database plus WAL size on disk, bytes. */
  size_bytes: number;
  rows: Record<Resolution, number>;
  /** Oldest point per resolution, ms; null when empty. */
  oldest_ms: Record<Resolution, number | null>;
}

/** GET /api/status */
export interface StatusResponse {
  now_ms: number;
  /** Where snapshots come from: the dashboard's own scraping, or a Prometheus server. */
  source: 'scrape' | 'prometheus';
  version: string;
  started_ms: number;
  scrape_interval_s: number;
  targets: TargetStatus[];
  /** Keyed by variant name. */
  variants: Record<string, VariantStatus>;
  /** null in Prometheus mode (history lives in Prometheus). */
  store: StoreStatus | null;
}

/** GET /api/metrics?range=&variant=&resolution= */
export interface MetricsResponse {
  /** The range as asked ("1h"), and its length in ms. */
  range: string;
  range_ms: number;
  from_ms: number;
  to_ms: number;
  resolution: Resolution;
  step_ms: number;
  /** Variant filter applied; "all" when none. */
  variant: string;
  /** Sorted by ts, then variant. */
  points: VariantSnapshot[];
}

/** GET /api/config (no secrets: the token is reported only as present or not). */
export interface ConfigResponse {
  source: 'scrape' | 'prometheus';
  scrape_interval_s: number;
  scrape_timeout_s: number;
  targets: { name: string | null; url: string }[];
  prometheus_url: string | null;
  retention_s: Record<Resolution, number>;
  heartbeat_s: number;
  auth_required: boolean;
  version: string;
}

/**
 * GET /api/canary?since=30m&stable=stable&canary=canary: the canary judgement of
 * `zai-proxy canary-report` over the dashboard's own source (its store, or its Prometheus), so
 * the page and the CLI give the same verdict from the same numbers.
 */
export type CanaryResponse = Report & {
  /** Where the numbers come from (no credentials). */
  source: string;
  /** Every variant that reported in the window, to say which arm is missing. */
  variants_seen: string[];
  /** When the judgement was made, ms. */
  at_ms: number;
};

/** 400/401/404/500 bodies. */
export interface ErrorResponse {
  error: string;
}

// ---------------------------------------------------------------------------------------------
// SSE  GET /api/events
//
// Named events (`event:` field) with JSON `data:`. Snapshot events carry `id: <ts>:<variant>`
// so EventSource resumes with Last-Event-ID; missed snapshots are replayed from history.
// A comment line (`: heartbeat`) is sent every 15 s.

/** `event: hello` — first event of every connection. */
export interface HelloEvent {
  source: 'scrape' | 'prometheus';
  scrape_interval_s: number;
  /** Variants known at connect time. */
  variants: string[];
  /** Snapshots replayed after Last-Event-ID before live ones follow. */
  replayed: number;
}

/** `event: snapshot` — one per variant per scrape round. */
export type SnapshotEvent = VariantSnapshot;

/** `event: status` — a target went stale/down or recovered. */
export interface StatusEvent {
  ts: number;
  /** Target URL (credentials removed). */
  target: string;
  name: string | null;
  state: 'stale' | 'recovered';
  last_success_ms: number | null;
  last_error: string | null;
  variants: string[];
}

export type SseEventName = 'hello' | 'snapshot' | 'status';
