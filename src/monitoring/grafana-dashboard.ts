/**
 * The Grafana dashboard of deploy/grafana/zai-proxy.json, described as data. The JSON file is
 * this module's output (deploy/grafana/generate.ts writes it; a test checks they are equal),
 * so the layout arithmetic and the repeated datasource/threshold boilerplate live in one
 * place and every query sits next to its title.
 *
 * The seven token panels are the ones operators already ran before this dashboard: their
 * queries and thresholds are copied verbatim and deliberately ignore the `variant` selector.
 * Every other panel follows the `variant` template variable, except the comparison row,
 * which is about stable and canary side by side.
 */

const DS = { type: 'prometheus', uid: '${DS_PROMETHEUS}' } as const;
/** Selector fragment that follows the dashboard's multi-select `variant` variable. */
const V = 'variant=~"$variant"';
const RI = '$__rate_interval';

type Unit = 'short' | 'percentunit' | 's' | 'bytes' | 'reqps' | 'currencyUSD' | 'none' | 'dateTimeFromNow';
type PanelType = 'stat' | 'timeseries' | 'gauge' | 'table' | 'state-timeline';

interface Target {
  readonly expr: string;
  readonly legend?: string;
  /** Table panels show the current value only. */
  readonly instant?: boolean;
}

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly type: PanelType;
  readonly targets: readonly Target[];
  readonly unit?: Unit;
  /** Threshold steps after the green base, e.g. [[50000, 'yellow'], [100000, 'orange']]. */
  readonly thresholds?: readonly (readonly [number, string])[];
  readonly w?: number;
  readonly h?: number;
  readonly max?: number;
  /** Value → text shown instead of the number (stat and state timeline panels). */
  readonly mappings?: readonly (readonly [number, string, string])[];
  /** What a stat panel prints: the number, or the series name (the legend). */
  readonly textMode?: 'auto' | 'name' | 'value_and_name';
}

interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

const stat = (title: string, description: string, expr: string, extra: Partial<PanelSpec> = {}): PanelSpec => ({
  title,
  description,
  type: 'stat',
  targets: [{ expr }],
  w: 6,
  h: 4,
  ...extra,
});

const series = (title: string, description: string, targets: readonly Target[], extra: Partial<PanelSpec> = {}): PanelSpec => ({
  title,
  description,
  type: 'timeseries',
  targets,
  w: 12,
  h: 8,
  ...extra,
});

const quantiles = (metric: string, by: string, qs: readonly number[], selector = V, window = RI): Target[] => {
  const shown = by
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l !== 'le')
    .map((l) => ` {{${l}}}`)
    .join('');
  return qs.map((q) => ({
    expr: `histogram_quantile(${q}, sum by (${by}) (rate(${metric}_bucket{${selector}}[${window}])))`,
    legend: `p${Math.round(q * 100)}${shown}`,
  }));
};

/** A share that is 0 rather than "no data" when no request matched the numerator. */
const share = (numeratorSelector: string, by: string, window: string, variantSelector = V): string => {
  const sum = by === '' ? 'sum' : `sum by (${by})`;
  const selector = (extra: string) => `{${[variantSelector, extra].filter((s) => s !== '').join(', ')}}`;
  const total = `${sum} (rate(zai_proxy_requests_total${selector('')}[${window}]))`;
  const part = `${sum} (rate(zai_proxy_requests_total${selector(numeratorSelector)}[${window}]))`;
  return `(${part} or ${total} * 0) / ${total}`;
};

export const DASHBOARD_ROWS: readonly RowSpec[] = [
  {
    title: 'Tokens',
    panels: [
      stat('Total tokens (1h)', 'All directions, all variants, last hour.', 'sum(increase(zai_proxy_tokens_total[1h]))', {
        thresholds: [
          [50000, 'yellow'],
          [100000, 'orange'],
        ],
      }),
      stat('Input tokens (1h)', 'Prompt tokens, last hour.', 'sum(increase(zai_proxy_tokens_total{direction="input"}[1h]))', {
        thresholds: [
          [25000, 'yellow'],
          [50000, 'orange'],
        ],
      }),
      stat('Output tokens (1h)', 'Completion tokens, last hour.', 'sum(increase(zai_proxy_tokens_total{direction="output"}[1h]))', {
        thresholds: [
          [25000, 'yellow'],
          [50000, 'orange'],
        ],
      }),
      stat(
        'Output/input ratio',
        'Output tokens per input token over 5 minutes.',
        'sum(rate(zai_proxy_tokens_total{direction="output"}[5m])) / sum(rate(zai_proxy_tokens_total{direction="input"}[5m]))',
        { unit: 'none' },
      ),
      series('Token rate by direction', 'Tokens per second.', [
        { expr: 'sum(rate(zai_proxy_tokens_total{direction="input"}[5m]))', legend: 'input' },
        { expr: 'sum(rate(zai_proxy_tokens_total{direction="output"}[5m]))', legend: 'output' },
        { expr: 'sum(rate(zai_proxy_tokens_total[5m]))', legend: 'total' },
      ]),
      series('Token rate by variant', 'Tokens per second per deployment variant.', [
        { expr: 'sum(rate(zai_proxy_tokens_total[5m])) by (variant)', legend: '{{variant}}' },
      ]),
      series(
        'Token throughput p90/p99',
        'Tokens per second a client saw: output = generation speed, input = prompt over time to first byte.',
        [
          { expr: 'histogram_quantile(0.9, sum(rate(zai_proxy_token_rate_bucket[5m])) by (le, direction))', legend: 'p90 {{direction}}' },
          { expr: 'histogram_quantile(0.99, sum(rate(zai_proxy_token_rate_bucket[5m])) by (le, direction))', legend: 'p99 {{direction}}' },
        ],
        { w: 24 },
      ),
    ],
  },
  {
    title: 'Requests',
    panels: [
      stat('Requests (1h)', 'Finished requests, last hour.', `sum(increase(zai_proxy_requests_total{${V}}[1h]))`),
      stat('Success rate (5m)', 'Share of requests answered 2xx.', share('status_code=~"2.."', '', '5m'), {
        unit: 'percentunit',
        thresholds: [],
      }),
      stat('5xx share (5m)', 'Share of requests answered 5xx.', share('status_code=~"5.."', '', '5m'), {
        unit: 'percentunit',
        thresholds: [
          [0.01, 'yellow'],
          [0.05, 'red'],
        ],
      }),
      stat('429 share (5m)', 'Share of requests answered 429 (limits not absorbed).', share('status_code="429"', '', '5m'), {
        unit: 'percentunit',
        thresholds: [
          [0.01, 'yellow'],
          [0.05, 'red'],
        ],
      }),
      series(
        'Request rate by status',
        'Requests per second by the status the client got.',
        [{ expr: `sum by (status_code) (rate(zai_proxy_requests_total{${V}}[${RI}]))`, legend: '{{status_code}}' }],
        { unit: 'reqps' },
      ),
      series(
        'Request rate by route',
        'Requests per second by matched route.',
        [{ expr: `sum by (path) (rate(zai_proxy_requests_total{${V}}[${RI}]))`, legend: '{{path}}' }],
        { unit: 'reqps' },
      ),
      series(
        'Request and response size p90',
        'Body sizes.',
        [
          { expr: `histogram_quantile(0.9, sum by (le) (rate(zai_proxy_request_size_bytes_bucket{${V}}[${RI}])))`, legend: 'request p90' },
          { expr: `histogram_quantile(0.9, sum by (le) (rate(zai_proxy_response_size_bytes_bucket{${V}}[${RI}])))`, legend: 'response p90' },
        ],
        { unit: 'bytes' },
      ),
      series('Client disconnects', 'Clients that went away before the response ended, per second.', [
        { expr: `sum by (path) (rate(zai_proxy_client_disconnects_total{${V}}[${RI}]))`, legend: '{{path}}' },
      ]),
      series(
        'Worker processes',
        'With PROXY_WORKERS > 1: requests per second each worker took (they should be close), workers up, and failed messages between workers and the primary (should be 0).',
        [
          { expr: `sum by (worker) (rate(zai_proxy_cluster_worker_requests_total{${V}}[${RI}]))`, legend: 'worker {{worker}}' },
          { expr: `sum by (variant) (zai_proxy_cluster_workers{${V}})`, legend: 'up {{variant}}' },
          { expr: `sum by (op) (rate(zai_proxy_cluster_ipc_failures_total{${V}}[${RI}]))`, legend: 'failed {{op}}' },
        ],
      ),
      {
        title: 'Builds',
        description: 'Version and commit of each running variant.',
        type: 'table',
        targets: [{ expr: `max by (variant, version, commit, build_time) (zai_proxy_build_info{${V}})`, instant: true }],
        w: 24,
        h: 5,
      },
    ],
  },
  {
    title: 'Latency',
    panels: [
      series('Request duration', 'Whole request, received to response ended.', quantiles('zai_proxy_request_duration_seconds', 'le', [0.5, 0.9, 0.99]), {
        unit: 's',
      }),
      series('Time to first byte', 'First upstream byte relayed to the client.', quantiles('zai_proxy_time_to_first_byte_seconds', 'le', [0.5, 0.95, 0.99]), {
        unit: 's',
      }),
      series(
        'Proxy overhead',
        'Time the proxy itself added (total minus upstream and limiter wait).',
        quantiles('zai_proxy_overhead_seconds', 'le', [0.5, 0.99]),
        { unit: 's' },
      ),
      series(
        'Average request duration',
        'Mean duration by route.',
        [
          {
            expr: `sum by (path) (rate(zai_proxy_request_duration_seconds_sum{${V}}[${RI}])) / sum by (path) (rate(zai_proxy_request_duration_seconds_count{${V}}[${RI}]))`,
            legend: '{{path}}',
          },
        ],
        { unit: 's' },
      ),
    ],
  },
  {
    title: 'Limits',
    panels: [
      {
        title: 'Binding limit',
        description:
          'The limit that holds clients back now, with how many replicas it binds: none, learned_rate, concurrency, quota_pacing or upstream (runbook: docs/runbooks/limiter.md).',
        type: 'stat',
        targets: [{ expr: `sum by (limit) (zai_proxy_limiter_binding{${V}}) > 0`, legend: '{{limit}}' }],
        textMode: 'value_and_name',
        unit: 'none',
        w: 6,
        h: 8,
      },
      {
        title: 'Binding limit over time',
        description:
          'Which limit held clients back, moment by moment, on any replica. learned_rate for long stretches while the upstream answers cleanly means the proxy queues clients below what the upstream would take.',
        type: 'state-timeline',
        targets: [{ expr: `max by (limit) (zai_proxy_limiter_binding{${V}})`, legend: '{{limit}}' }],
        mappings: [
          [0, 'not binding', 'transparent'],
          [1, 'binding', 'orange'],
        ],
        w: 18,
        h: 8,
      },
      series(
        'Admitted rate vs inferred ceiling',
        'The limiter holds just under the ceiling it inferred from 429s.',
        [
          { expr: `sum by (variant) (zai_proxy_rate_limit_requests_per_second{${V}})`, legend: 'admitted {{variant}}' },
          { expr: `sum by (variant) (zai_proxy_rate_limit_ceiling{${V}})`, legend: 'ceiling {{variant}}' },
          { expr: `sum by (variant) (rate(zai_proxy_requests_total{${V}}[${RI}]))`, legend: 'actual {{variant}}' },
        ],
        { unit: 'reqps' },
      ),
      series(
        'Headroom under the inferred ceiling',
        'How far below its inferred ceiling the limiter holds the admitted rate, for the replica closest to it: 2% is 19.6 req/s under a ceiling of 20. Near 0 while clients queue means the learned rate binds; a wide gap means another limit does.',
        [{ expr: `min by (variant) (1 - zai_proxy_rate_limit_requests_per_second{${V}} / (zai_proxy_rate_limit_ceiling{${V}} > 0))`, legend: '{{variant}}' }],
        { unit: 'percentunit' },
      ),
      series('Concurrency', 'In flight against the adaptive limit and MAX_WORKERS.', [
        { expr: `sum by (variant) (zai_proxy_concurrent_requests{${V}})`, legend: 'in flight {{variant}}' },
        { expr: `sum by (variant) (zai_proxy_concurrency_limit{${V}})`, legend: 'limit {{variant}}' },
        { expr: `sum by (variant) (zai_proxy_max_workers{${V}})`, legend: 'max workers {{variant}}' },
      ]),
      {
        title: 'Worker utilization',
        description: 'In flight over MAX_WORKERS, highest replica.',
        type: 'gauge',
        targets: [{ expr: `max by (variant) (zai_proxy_worker_utilization_ratio{${V}})`, legend: '{{variant}}' }],
        unit: 'percentunit',
        max: 1,
        thresholds: [
          [0.8, 'yellow'],
          [0.9, 'red'],
        ],
        w: 6,
        h: 8,
      },
      series('Queue depth', 'Requests waiting for admission.', [{ expr: `sum by (variant) (zai_proxy_queue_depth{${V}})`, legend: '{{variant}}' }], { w: 6 }),
      series('Admission wait', 'Time requests waited for the limiter.', quantiles('zai_proxy_rate_limit_wait_seconds', 'le', [0.5, 0.9, 0.99]), { unit: 's' }),
      series(
        'Limit adjustments',
        'Controller moves per second.',
        [{ expr: `sum by (direction) (rate(zai_proxy_rate_limit_adjustments_total{${V}}[${RI}]))`, legend: '{{direction}}' }],
        { w: 6 },
      ),
      series(
        'Rejections',
        'Requests refused by admission, per second.',
        [{ expr: `sum by (reason) (rate(zai_proxy_rate_limit_rejections_total{${V}}[${RI}]))`, legend: '{{reason}}' }],
        { w: 6 },
      ),
    ],
  },
  {
    title: 'Z.AI errors and retries',
    panels: [
      series(
        'Upstream errors',
        'Failed upstream attempts per second, by type or upstream status.',
        [{ expr: `sum by (error_type) (rate(zai_proxy_upstream_errors_total{${V}}[${RI}]))`, legend: '{{error_type}}' }],
        { w: 8 },
      ),
      series(
        'Z.AI business errors',
        'By class and business code.',
        [{ expr: `sum by (class, code) (rate(zai_proxy_zai_errors_total{${V}}[${RI}]))`, legend: '{{class}} {{code}}' }],
        { w: 8 },
      ),
      series(
        'Retries',
        'Retries actually made, by reason.',
        [{ expr: `sum by (reason) (rate(zai_proxy_retry_attempts_total{${V}}[${RI}]))`, legend: '{{reason}}' }],
        { w: 8 },
      ),
    ],
  },
  {
    title: 'Quota',
    panels: [
      series(
        'Quota used',
        'Used fraction of each Coding Plan window (observe-only poller).',
        [{ expr: `max by (window, limit_type) (zai_proxy_quota_usage_ratio{${V}})`, legend: '{{window}} {{limit_type}}' }],
        { unit: 'percentunit', w: 8 },
      ),
      series(
        'Quota remaining',
        'Remaining fraction of each window.',
        [{ expr: `min by (window, limit_type) (zai_proxy_quota_remaining_ratio{${V}})`, legend: '{{window}} {{limit_type}}' }],
        { unit: 'percentunit', w: 8 },
      ),
      series(
        'Time to window reset',
        'Seconds until each window resets.',
        [{ expr: `max by (window, limit_type) (zai_proxy_quota_reset_time_seconds{${V}}) - time()`, legend: '{{window}} {{limit_type}}' }],
        { unit: 's', w: 8 },
      ),
      series(
        'Quota sample age',
        'Age of the last good quota sample; alert past 15 minutes.',
        [{ expr: `max by (variant) (zai_proxy_quota_sample_age_seconds{${V}})`, legend: '{{variant}}' }],
        { unit: 's' },
      ),
      series('Quota polls', 'Polls per second by result.', [{ expr: `sum by (result) (rate(zai_proxy_quota_poll_total{${V}}[${RI}]))`, legend: '{{result}}' }]),
    ],
  },
  {
    title: 'Cost and token accounting',
    panels: [
      stat('Estimated cost (1h)', 'Tokens times the configured prices, last hour.', `sum(increase(zai_proxy_estimated_cost_usd_total{${V}}[1h]))`, {
        unit: 'currencyUSD',
      }),
      stat('Estimated cost (24h)', 'Last 24 hours.', `sum(increase(zai_proxy_estimated_cost_usd_total{${V}}[24h]))`, { unit: 'currencyUSD' }),
      stat(
        'Peak-tier share of cost (24h)',
        'Share of the cost spent at peak prices.',
        `sum(increase(zai_proxy_estimated_cost_usd_total{${V}, pricing_tier="peak"}[24h]) or increase(zai_proxy_estimated_cost_usd_total{${V}}[24h]) * 0) / sum(increase(zai_proxy_estimated_cost_usd_total{${V}}[24h]))`,
        { unit: 'percentunit' },
      ),
      stat(
        'Tokens by estimate (1h)',
        'Share of responses whose usage came from the local tokenizer, not the upstream.',
        `sum(increase(zai_proxy_usage_source_total{${V}, source="estimated"}[1h]) or increase(zai_proxy_usage_source_total{${V}}[1h]) * 0) / sum(increase(zai_proxy_usage_source_total{${V}}[1h]))`,
        { unit: 'percentunit' },
      ),
      series(
        'Cost rate by model',
        'USD per hour.',
        [{ expr: `sum by (model) (rate(zai_proxy_estimated_cost_usd_total{${V}}[${RI}])) * 3600`, legend: '{{model}}' }],
        { unit: 'currencyUSD' },
      ),
      series('Token rate by model and direction', 'Tokens per second.', [
        { expr: `sum by (model, direction) (rate(zai_proxy_tokens_total{${V}}[${RI}]))`, legend: '{{model}} {{direction}}' },
      ]),
      series('Usage source', 'Where token usage came from, per second.', [
        { expr: `sum by (source) (rate(zai_proxy_usage_source_total{${V}}[${RI}]))`, legend: '{{source}}' },
      ]),
      series(
        'Local token count duration',
        'Time spent estimating tokens when the upstream reports none.',
        quantiles('zai_proxy_token_count_duration_seconds', 'le', [0.5, 0.99]),
        { unit: 's' },
      ),
      series('Seconds per token', 'Inverse throughput by direction.', quantiles('zai_proxy_token_rate_seconds', 'le, direction', [0.5, 0.9]), {
        unit: 's',
        w: 24,
      }),
    ],
  },
  {
    title: 'Stable vs canary',
    panels: [
      series(
        'Request rate by variant',
        'Traffic split between the builds.',
        [{ expr: 'sum by (variant) (rate(zai_proxy_requests_total[5m]))', legend: '{{variant}}' }],
        { unit: 'reqps', w: 8 },
      ),
      series(
        '5xx share by variant',
        'Rollback if the canary stays above 2x stable + 1 point.',
        [{ expr: share('status_code=~"5.."', 'variant', '5m', ''), legend: '{{variant}}' }],
        { unit: 'percentunit', w: 8 },
      ),
      series(
        'p95 duration by variant',
        'Rollback if the canary stays 1.5x slower.',
        quantiles('zai_proxy_request_duration_seconds', 'variant, le', [0.95], '', '5m'),
        { unit: 's', w: 8 },
      ),
      series(
        'Tokens per successful request by variant',
        'Should match across builds for the same traffic.',
        [
          {
            expr: 'sum by (variant) (rate(zai_proxy_tokens_total[5m])) / sum by (variant) (rate(zai_proxy_requests_total{status_code=~"2.."}[5m]))',
            legend: '{{variant}}',
          },
        ],
        { w: 8 },
      ),
      series('TTFB p95 by variant', 'Time to first byte.', quantiles('zai_proxy_time_to_first_byte_seconds', 'variant, le', [0.95], '', '5m'), {
        unit: 's',
        w: 8,
      }),
      series('Overhead p99 by variant', 'Time the proxy itself added.', quantiles('zai_proxy_overhead_seconds', 'variant, le', [0.99], '', '5m'), {
        unit: 's',
        w: 8,
      }),
      series(
        'Traffic split by arm',
        "Requests the proxy's own split (CANARY_UPSTREAM, CANARY_WEIGHT) served on each arm, and canary failovers to stable.",
        [
          { expr: `sum by (arm) (rate(zai_proxy_canary_requests_total{${V}}[${RI}]))`, legend: '{{arm}}' },
          { expr: `sum by (reason) (rate(zai_proxy_canary_failovers_total{${V}}[${RI}]))`, legend: 'failover {{reason}}' },
        ],
        { unit: 'reqps', w: 24 },
      ),
      stat(
        'Canary / stable p95',
        'Above 1.5 for 10 minutes fires ZaiProxyCanaryP95WorseThanStable.',
        'histogram_quantile(0.95, sum by (le) (rate(zai_proxy_request_duration_seconds_bucket{variant="canary"}[10m]))) / histogram_quantile(0.95, sum by (le) (rate(zai_proxy_request_duration_seconds_bucket{variant="stable"}[10m])))',
        { unit: 'none', w: 12, thresholds: [[1.5, 'red']] },
      ),
      stat(
        'Canary / stable tokens per request',
        'Outside 0.75–1.25 for 15 minutes fires ZaiProxyCanaryTokensPerRequestDiffer.',
        '(sum(rate(zai_proxy_tokens_total{variant="canary"}[30m])) / sum(rate(zai_proxy_requests_total{variant="canary", status_code=~"2.."}[30m]))) / (sum(rate(zai_proxy_tokens_total{variant="stable"}[30m])) / sum(rate(zai_proxy_requests_total{variant="stable", status_code=~"2.."}[30m])))',
        { unit: 'none', w: 12, thresholds: [[1.25, 'red']] },
      ),
    ],
  },
];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function panelJson(p: PanelSpec, id: number, x: number, y: number): { [k: string]: Json } {
  const steps: Json[] = [{ color: 'green', value: null }, ...(p.thresholds ?? []).map(([value, color]) => ({ color, value }))];
  const defaults: { [k: string]: Json } = { unit: p.unit ?? 'short', thresholds: { mode: 'absolute', steps } };
  if (p.max !== undefined) defaults.max = p.max;
  if (p.type === 'stat' || p.type === 'gauge') defaults.color = { mode: 'thresholds' };
  if (p.mappings) {
    const options: { [k: string]: Json } = {};
    for (const [index, [value, text, color]] of p.mappings.entries()) options[String(value)] = { text, color, index };
    defaults.mappings = [{ type: 'value', options }];
  }
  const options: { [k: string]: Json } =
    p.type === 'stat'
      ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'area', textMode: p.textMode ?? 'auto' }
      : p.type === 'timeseries'
        ? { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } }
        : p.type === 'gauge'
          ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, showThresholdMarkers: true }
          : p.type === 'state-timeline'
            ? {
                mergeValues: true,
                showValue: 'never',
                alignValue: 'left',
                rowHeight: 0.9,
                legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
                tooltip: { mode: 'single', sort: 'none' },
              }
            : { showHeader: true };
  return {
    id,
    type: p.type,
    title: p.title,
    description: p.description,
    datasource: { ...DS },
    gridPos: { h: p.h ?? 8, w: p.w ?? 12, x, y },
    fieldConfig: { defaults, overrides: [] },
    options,
    targets: p.targets.map((t, i) => {
      const target: { [k: string]: Json } = {
        refId: String.fromCharCode(65 + i),
        datasource: { ...DS },
        expr: t.expr,
        legendFormat: t.legend ?? '__auto',
      };
      if (t.instant) {
        target.instant = true;
        target.range = false;
        target.format = 'table';
      }
      return target;
    }),
  };
}

/** The whole importable dashboard model, laid out row by row, left to right. */
export function buildGrafanaDashboard(): { [k: string]: Json } {
  const panels: Json[] = [];
  let id = 1;
  let y = 0;
  for (const row of DASHBOARD_ROWS) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const p of row.panels) {
      const w = p.w ?? 12;
      if (x + w > 24) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      panels.push(panelJson(p, id++, x, y));
      x += w;
      lineHeight = Math.max(lineHeight, p.h ?? 8);
    }
    y += lineHeight;
  }
  return {
    __inputs: [
      {
        name: 'DS_PROMETHEUS',
        label: 'Prometheus',
        description: 'Prometheus that scrapes zai-proxy',
        type: 'datasource',
        pluginId: 'prometheus',
        pluginName: 'Prometheus',
      },
    ],
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.0.0' },
      { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
      { type: 'panel', id: 'stat', name: 'Stat', version: '' },
      { type: 'panel', id: 'timeseries', name: 'Time series', version: '' },
      { type: 'panel', id: 'gauge', name: 'Gauge', version: '' },
      { type: 'panel', id: 'table', name: 'Table', version: '' },
      { type: 'panel', id: 'state-timeline', name: 'State timeline', version: '' },
    ],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    description: 'zai-proxy: tokens, requests, latency, limits, Z.AI errors, quota, cost, stable vs canary',
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [],
    panels,
    refresh: '30s',
    schemaVersion: 39,
    tags: ['zai-proxy', 'canary', 'tokens'],
    templating: {
      list: [
        {
          name: 'variant',
          label: 'Variant',
          type: 'query',
          datasource: { ...DS },
          definition: 'label_values(zai_proxy_requests_total, variant)',
          query: { query: 'label_values(zai_proxy_requests_total, variant)', refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 },
          multi: true,
          includeAll: true,
          allValue: '.*',
          current: { selected: true, text: ['All'], value: ['$__all'] },
          refresh: 2,
          sort: 1,
          hide: 0,
          options: [],
          regex: '',
          skipUrlSync: false,
        },
      ],
    },
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: '',
    title: 'zai-proxy',
    uid: 'zai-proxy',
    version: 1,
    weekStartsOn: '',
  };
}
