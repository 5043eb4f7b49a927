/** @jsxRuntime automatic */
import { memo } from 'react';
import type { CheckStatus, Verdict } from '../../../src/canary/judgement.js';
import type { CanaryResponse } from '../../../src/dashboard/model.js';
import { formatLatency, formatRatioPercent, formatSpan } from '../format/format.js';
import { Empty, Panel } from './ui.js';

/**
 * The canary verdict: `zai-proxy canary-report`'s judgement over the dashboard's own source, with
 * the numbers behind it. Shown whenever two variants report; a verdict is a word, a glyph and a
 * colour, never colour alone.
 */

export interface CanaryState {
  stable: string;
  canary: string;
  report: CanaryResponse | null;
  error: string | null;
}

const VERDICT: Record<Verdict, { glyph: string; word: string; level: string; meaning: string }> = {
  promote: { glyph: '\u25CF', word: 'Promote', level: 'ok', meaning: 'every check passed' },
  hold: { glyph: '\u25B2', word: 'Hold', level: 'warn', meaning: 'keep the split and keep watching' },
  rollback: { glyph: '\u2716', word: 'Roll back', level: 'critical', meaning: 'the canary is worse than stable' },
};

const MARK: Record<CheckStatus, { glyph: string; word: string; level: string }> = {
  pass: { glyph: '\u2713', word: 'pass', level: 'ok' },
  hold: { glyph: '~', word: 'hold', level: 'warn' },
  fail: { glyph: '\u2716', word: 'fail', level: 'critical' },
  insufficient: { glyph: '?', word: 'not enough data', level: 'muted' },
};

const times = (x: number | null) => (x === null ? '-' : `${x.toFixed(2)}\u00D7`);
const pp = (x: number | null) => (x === null ? '-' : `${x >= 0 ? '+' : '\u2212'}${Math.abs(x * 100).toFixed(2)} pp`);
/** Per-request costs are fractions of a cent: three significant digits, as canary-report prints them. */
const usd = (x: number | null) => (x === null ? '-' : `$${x.toPrecision(3)}`);
const ratio = (c: number | null, s: number | null) => (c !== null && s !== null && s > 0 ? c / s : null);

export const CanaryPanel = memo(function CanaryPanel({ state }: { state: CanaryState }) {
  const { report: r, error } = state;
  const subtitle = `${state.canary} vs ${state.stable}`;
  if (!r) {
    return (
      <Panel id="canary" title="Canary verdict" subtitle={subtitle} wide>
        <Empty>{error ? `No verdict: ${error}` : 'Judging\u2026'}</Empty>
      </Panel>
    );
  }
  const v = VERDICT[r.verdict];
  const s = r.stable;
  const c = r.canary;
  const rows: { label: string; stable: string; canary: string; delta: string; id: string }[] = [
    { id: 'requests', label: 'Requests', stable: String(Math.round(s.requests)), canary: String(Math.round(c.requests)), delta: '' },
    {
      id: 'errors',
      label: 'Error rate (5xx)',
      stable: formatRatioPercent(s.error_rate, 2),
      canary: formatRatioPercent(c.error_rate, 2),
      delta: r.deltas.error_rate === null ? '-' : `${pp(r.deltas.error_rate)} (p=${r.deltas.error_p_value.toFixed(3)})`,
    },
    { id: 'throttled', label: '429 share', stable: formatRatioPercent(s.throttled_share, 2), canary: formatRatioPercent(c.throttled_share, 2), delta: '' },
    {
      id: 'p50',
      label: 'Latency p50',
      stable: formatLatency(s.latency_ms.p50),
      canary: formatLatency(c.latency_ms.p50),
      delta: times(ratio(c.latency_ms.p50, s.latency_ms.p50)),
    },
    {
      id: 'p95',
      label: 'Latency p95',
      stable: formatLatency(s.latency_ms.p95),
      canary: formatLatency(c.latency_ms.p95),
      delta: times(r.deltas.latency_p95_ratio),
    },
    {
      id: 'ttfb-p95',
      label: 'Time to first byte p95',
      stable: formatLatency(s.ttfb_ms.p95),
      canary: formatLatency(c.ttfb_ms.p95),
      delta: times(r.deltas.ttfb_p95_ratio),
    },
    {
      id: 'cost',
      label: 'Cost / request',
      stable: usd(s.cost_per_request_usd),
      canary: usd(c.cost_per_request_usd),
      delta: times(r.deltas.cost_per_request_ratio),
    },
    ...r.token_agreement.map((t) => ({
      id: `tokens-${t.model}-${t.direction}`,
      label: `Tokens / request, ${t.model} ${t.direction}`,
      stable: t.stable_per_request.toFixed(1),
      canary: t.canary_per_request.toFixed(1),
      delta: `${t.difference >= 0 ? '+' : '\u2212'}${Math.abs(t.difference * 100).toFixed(2)}%`,
    })),
  ];
  const window = formatSpan(r.window_s * 1000);
  return (
    <Panel id="canary" title="Canary verdict" subtitle={`${subtitle}, last ${window}`} wide>
      <div className="canary-verdict" data-verdict={r.verdict} data-enough-data={String(r.enough_data)}>
        <span className={`verdict-badge level-${v.level}`}>
          <span aria-hidden="true">{v.glyph}</span> {v.word}
        </span>
        <span className="verdict-meaning">{r.enough_data ? v.meaning : 'not enough data to judge'}</span>
      </div>
      <ul className="canary-reasons">
        {r.reasons.map((x) => (
          <li key={x}>{x}</li>
        ))}
      </ul>
      {r.checks.length > 1 ? (
        <ul className="canary-checks" aria-label="Checks">
          {r.checks.map((x) => (
            <li key={x.name} data-check={x.name} data-status={x.status}>
              <span className={`level-${MARK[x.status].level}`} title={MARK[x.status].word}>
                <span aria-hidden="true">{MARK[x.status].glyph}</span> {x.name}
              </span>
              : {x.detail}
            </li>
          ))}
        </ul>
      ) : null}
      <table className="breakdown canary-table">
        <thead>
          <tr>
            <th scope="col" />
            <th scope="col">{s.variant}</th>
            <th scope="col">{c.variant}</th>
            <th scope="col">canary vs stable</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id} data-canary-row={row.id}>
              <th scope="row">{row.label}</th>
              <td>{row.stable}</td>
              <td>{row.canary}</td>
              <td>{row.delta}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="footnote">
        From the {r.source}, with the default thresholds; the same as{' '}
        <code>
          zai-proxy canary-report --since {window} --stable {s.variant} --canary {c.variant}
        </code>{' '}
        (runbook: docs/runbooks/canary.md).
        {error ? ` Last refresh failed: ${error}.` : ''}
      </p>
    </Panel>
  );
});
