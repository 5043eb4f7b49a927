import { REPORTED_DIRECTIONS, type CheckStatus, type Report } from './judgement.js';

/** The human table of `zai-proxy canary-report`. */

const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(2)}%`);
const ms = (x: number | null) => (x === null ? '-' : `${x.toFixed(1)}ms`);
const num = (x: number | null) => (x === null ? '-' : x.toFixed(1));
const usd = (x: number | null) => (x === null ? '-' : `$${x.toPrecision(3)}`);
const times = (x: number | null) => (x === null ? '-' : `${x.toFixed(2)}x`);
const ratio = (c: number | null, s: number | null) => (c !== null && s !== null && s > 0 ? c / s : null);
const MARK: Record<CheckStatus, string> = { pass: '✓', hold: '~', fail: '✗', insufficient: '?' };

export function formatReport(r: Report, source: string): string {
  const s = r.stable;
  const c = r.canary;
  const rows: [string, string, string, string][] = [
    ['requests', String(Math.round(s.requests)), String(Math.round(c.requests)), ''],
    [
      'error rate (5xx)',
      pct(s.error_rate),
      pct(c.error_rate),
      r.deltas.error_rate === null ? '-' : `${(r.deltas.error_rate * 100).toFixed(2)}pp (p=${r.deltas.error_p_value.toFixed(3)})`,
    ],
    ['429 share', pct(s.throttled_share), pct(c.throttled_share), ''],
    ['  upstream quota', pct(s.throttled_by_cause.upstream_quota), pct(c.throttled_by_cause.upstream_quota), ''],
    ['  upstream rate', pct(s.throttled_by_cause.upstream_rate), pct(c.throttled_by_cause.upstream_rate), ''],
    ['  proxy queue', pct(s.throttled_by_cause.proxy_queue), pct(c.throttled_by_cause.proxy_queue), ''],
    ['latency p50', ms(s.latency_ms.p50), ms(c.latency_ms.p50), times(ratio(c.latency_ms.p50, s.latency_ms.p50))],
    ['latency p95', ms(s.latency_ms.p95), ms(c.latency_ms.p95), times(r.deltas.latency_p95_ratio)],
    ['ttfb p50', ms(s.ttfb_ms.p50), ms(c.ttfb_ms.p50), times(ratio(c.ttfb_ms.p50, s.ttfb_ms.p50))],
    ['ttfb p95', ms(s.ttfb_ms.p95), ms(c.ttfb_ms.p95), times(r.deltas.ttfb_p95_ratio)],
    ...REPORTED_DIRECTIONS.map(
      (d) =>
        [`tokens/request ${d}`, num(s.tokens_per_request[d]), num(c.tokens_per_request[d]), times(ratio(c.tokens_per_request[d], s.tokens_per_request[d]))] as [
          string,
          string,
          string,
          string,
        ],
    ),
    ['cost/request', usd(s.cost_per_request_usd), usd(c.cost_per_request_usd), times(r.deltas.cost_per_request_ratio)],
    ...r.token_agreement.map(
      (t) =>
        [
          `agreement ${t.model} ${t.direction}`,
          num(t.stable_per_request),
          num(t.canary_per_request),
          `${t.difference >= 0 ? '+' : ''}${(t.difference * 100).toFixed(2)}%`,
        ] as [string, string, string, string],
    ),
  ];
  const header: [string, string, string, string] = ['', s.variant, c.variant, 'canary vs stable'];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...[header, ...rows].map((row) => row[i]!.length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('   ')
      .trimEnd();
  const out = [
    `canary report: ${c.variant} vs ${s.variant} over the last ${r.window_s}s, from ${source}`,
    '',
    line(header),
    ...rows.map(line),
    '',
    'checks:',
    ...r.checks.map((x) => `  ${MARK[x.status]} ${x.name}: ${x.detail}`),
    '',
    `verdict: ${r.verdict.toUpperCase()}${r.enough_data ? '' : ' (not enough data to judge)'}`,
    ...r.reasons.map((x) => `  - ${x}`),
  ];
  return `${out.join('\n')}\n`;
}
