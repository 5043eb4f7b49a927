/** @jsxRuntime automatic */
import { memo } from 'react';
import { TOKEN_DIRECTIONS } from '../../../src/dashboard/model.js';
import type { SeriesDef } from '../data/series.js';
import { projectedPerDay } from '../data/window.js';
import { formatCompact, formatCurrencyUSD } from '../format/format.js';
import { TONE } from '../theme/palette.js';
import { ViewChart } from './chart.js';
import { Panel, Stat, Stats } from './ui.js';
import type { PanelView } from './view.js';

const DIRECTION_LABELS = { input: 'Input', output: 'Output', cache_read: 'Cache read', cache_write: 'Cache write' } as const;

const PACE: SeriesDef[] = [{ key: 'ph', label: 'USD per hour', tone: TONE.green, width: 2, get: (s) => s.cost_usd.per_hour }];

export const CostPanel = memo(function CostPanel({ view }: { view: PanelView }) {
  const per = view.variants.map((v) => ({ v, t: view.totals.get(v) ?? null }));
  return (
    <Panel id="cost" title="Estimated cost" subtitle={`over ${view.rangeLabel}`}>
      <Stats>
        <Stat id="cost-window" label={`Spent (${view.rangeLabel})`} lowerIsBetter values={per.map(({ v, t }) => ({ variant: v, raw: t?.costUsd ?? null, text: formatCurrencyUSD(t?.costUsd ?? null) }))} />
        <Stat
          id="cost-day"
          label="Projected per day"
          hint="The range's average spending pace, over 24 hours"
          lowerIsBetter
          values={per.map(({ v, t }) => {
            const d = t ? projectedPerDay(t) : null;
            return { variant: v, raw: d, text: d === null ? 'needs a minute of data' : formatCurrencyUSD(d) };
          })}
        />
      </Stats>
      <table className="breakdown" aria-label="Cost by direction">
        <thead>
          <tr>
            <th scope="col">Direction</th>
            {per.map(({ v }) => (
              <th scope="col" key={v}>
                {view.variants.length > 1 ? v : 'USD'}
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
      <div className="charts charts-one">
        <ViewChart view={view} title="Spending pace" defs={PACE} format={(x) => (x === null ? '-' : `${formatCurrencyUSD(x)}/h`)} axisFormat={(v) => `$${formatCompact(v)}`} height={120} emptyText="No priced tokens in this range." />
      </div>
      <p className="footnote">Tokens × the proxy's price table (peak hours cost double). An estimate, not an invoice.</p>
    </Panel>
  );
});
