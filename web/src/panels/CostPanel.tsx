/** @jsxRuntime automatic */
import { memo } from 'react';
import { TOKEN_DIRECTIONS } from '../../../src/dashboard/model.js';
import type { SeriesDef } from '../data/series.js';
import type { WindowTotals } from '../data/window.js';
import { costByModel, projectedPerDay, projectPerDay } from '../data/window.js';
import { formatCompact, formatCurrencyUSD, formatRatioPercent } from '../format/format.js';
import { TONE } from '../theme/palette.js';
import { ViewChart } from './chart.js';
import { Empty, Panel, Stat, Stats } from './ui.js';
import type { PanelView } from './view.js';

const DIRECTION_LABELS = { input: 'Input', output: 'Output', cache_read: 'Cache read', cache_write: 'Cache write' } as const;

const PACE: SeriesDef[] = [{ key: 'ph', label: 'USD per hour', tone: TONE.green, width: 2, get: (s) => s.cost_usd.per_hour }];

export const CostPanel = memo(function CostPanel({ view }: { view: PanelView }) {
  const per = view.variants.map((v) => ({ v, t: view.totals.get(v) ?? null }));
  return (
    <Panel id="cost" title="Estimated cost" subtitle={`over ${view.rangeLabel}`}>
      <Stats>
        <Stat
          id="cost-window"
          label={`Spent (${view.rangeLabel})`}
          lowerIsBetter
          values={per.map(({ v, t }) => ({ variant: v, raw: t?.costUsd ?? null, text: formatCurrencyUSD(t?.costUsd ?? null) }))}
        />
        <Stat
          id="cost-day"
          label="Projected per day"
          hint="The range's average spending pace, over 24 hours"
          lowerIsBetter
          values={per.map(({ v, t }) => {
            const d = t ? projectedPerDay(t) : null;
            return d === null ? { variant: v, raw: null, text: 'after a minute of data', muted: true } : { variant: v, raw: d, text: formatCurrencyUSD(d) };
          })}
        />
      </Stats>
      <div className="cost-tables">
        <table className="breakdown" aria-label="Cost by direction">
          <caption>By direction</caption>
          <thead>
            <tr>
              <th scope="col">Direction</th>
              {per.map(({ v }) => (
                <th scope="col" key={v}>
                  {view.variants.length > 1 ? v : 'Spent'}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {TOKEN_DIRECTIONS.map((d) => (
              <tr key={d} data-cost-direction={d}>
                <th scope="row">{DIRECTION_LABELS[d]}</th>
                {per.map(({ v, t }) => (
                  <td key={v}>{formatCurrencyUSD(t?.costByDirection[d] ?? null)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        <CostByModel per={per} compare={view.variants.length > 1} />
      </div>
      <div className="charts charts-one">
        <ViewChart
          view={view}
          title="Spending pace"
          defs={PACE}
          format={(x) => (x === null ? '-' : `${formatCurrencyUSD(x)}/h`)}
          axisFormat={(v) => `$${formatCompact(v)}`}
          height={120}
          emptyText="No priced tokens in this range."
        />
      </div>
      <p className="footnote">Tokens × the proxy's price table (peak hours cost double). An estimate, not an invoice.</p>
    </Panel>
  );
});

type VariantTotals = { v: string; t: WindowTotals | null };

/** Spend per model over the range, with each model's pace per day: which model the money goes to. */
function CostByModel({ per, compare }: { per: readonly VariantTotals[]; compare: boolean }) {
  const rows = costByModel(per.map((p) => p.t));
  if (rows.length === 0) {
    return (
      <div className="cost-by-model">
        <h3 className="table-caption">By model</h3>
        <Empty>No priced requests in this range yet.</Empty>
      </div>
    );
  }
  // Until a minute is covered there is no pace to project; the headline stat says so once.
  const perDay = (t: WindowTotals | null, usd: number) => {
    const d = t ? projectPerDay(t, usd) : null;
    return d === null ? null : `${formatCurrencyUSD(d)}/day`;
  };
  return (
    <table className="breakdown cost-by-model" aria-label="Cost by model">
      <caption>By model</caption>
      <thead>
        <tr>
          <th scope="col">Model</th>
          {per.map(({ v }) => (
            <th scope="col" key={v}>
              {compare ? v : 'Spent'}
            </th>
          ))}
          {compare ? null : <th scope="col">Share</th>}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.model ?? '\u0000other'} data-cost-model={r.model ?? 'other'}>
            <th scope="row" className="model-name">
              {r.model ?? `Other (${r.models} models)`}
            </th>
            {per.map(({ v, t }, i) => (
              <td key={v}>
                <span className="cell-main">{formatCurrencyUSD(r.usd[i]!)}</span>
                {perDay(t, r.usd[i]!) !== null ? <span className="cell-sub">{perDay(t, r.usd[i]!)}</span> : null}
              </td>
            ))}
            {compare ? null : <td>{formatRatioPercent(per[0]?.t && per[0].t.costUsd > 0 ? r.usd[0]! / per[0].t.costUsd : null, 0)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
