/** @jsxRuntime automatic */
import { memo } from 'react';
import type { SeriesDef } from '../data/series.js';
import { outputInputRatio } from '../data/window.js';
import { formatCount, formatNumber, formatRate } from '../format/format.js';
import { QUANTILE_TOP, quantileFormat } from '../format/quantile.js';
import { tokenLevel } from '../format/thresholds.js';
import { TONE } from '../theme/palette.js';
import { ViewChart } from './chart.js';
import { Panel, Stat, Stats } from './ui.js';
import type { PanelView } from './view.js';

const RATE_BY_DIRECTION: SeriesDef[] = [
  { key: 'in', label: 'input', tone: TONE.cyan, get: (s) => s.tokens.rate.input },
  { key: 'out', label: 'output', tone: TONE.violet, get: (s) => s.tokens.rate.output },
  { key: 'cr', label: 'cache read', tone: TONE.amber, get: (s) => s.tokens.rate.cache_read },
  { key: 'cw', label: 'cache write', tone: TONE.green, get: (s) => s.tokens.rate.cache_write },
  {
    key: 'total',
    label: 'total',
    tone: TONE.slate,
    width: 2,
    get: (s) => s.tokens.rate.input + s.tokens.rate.output + s.tokens.rate.cache_read + s.tokens.rate.cache_write,
  },
];
const RATE_TOTAL: SeriesDef[] = [RATE_BY_DIRECTION[4]];
const THROUGHPUT: SeriesDef[] = [
  { key: 'o90', label: 'output p90', tone: TONE.violet, get: (s) => s.tokens.throughput_output.p90 },
  { key: 'o99', label: 'output p99', tone: TONE.pink, get: (s) => s.tokens.throughput_output.p99 },
  { key: 'i90', label: 'input p90', tone: TONE.cyan, get: (s) => s.tokens.throughput_input.p90 },
  { key: 'i99', label: 'input p99', tone: TONE.blue, get: (s) => s.tokens.throughput_input.p99 },
];

const tokS = (v: number | null) => (v === null ? '-' : `${formatRate(v)} tok/s`);
// Quantiles of the tokens-per-second histogram: at its top bound a figure means "this or more".
const tokSQuantile = quantileFormat(tokS, QUANTILE_TOP.tokensPerSecond);

export const TokensPanel = memo(function TokensPanel({ view }: { view: PanelView }) {
  const per = view.variants.map((v) => ({ v, t: view.totals.get(v) }));
  const stat = (label: string, id: string, pick: (t: NonNullable<(typeof per)[0]['t']>) => number, kind?: 'total' | 'input' | 'output') => (
    <Stat
      id={id}
      label={label}
      hint={kind ? `Thresholds (per hour, scaled to the range): ${kind === 'total' ? '50k / 100k' : '25k / 50k'}` : undefined}
      values={per.map(({ v, t }) => {
        const raw = t ? pick(t) : null;
        return { variant: v, raw, text: formatCount(raw), level: kind ? tokenLevel(kind, raw, view.rangeMs) : null };
      })}
    />
  );
  return (
    <Panel id="tokens" title="Tokens" subtitle={`over ${view.rangeLabel}`} wide>
      <Stats>
        {stat('Total', 'tokens-total', (t) => t.tokensTotal, 'total')}
        {stat('Input', 'tokens-input', (t) => t.tokens.input, 'input')}
        {stat('Output', 'tokens-output', (t) => t.tokens.output, 'output')}
        <Stat
          id="tokens-ratio"
          label="Output / input"
          values={per.map(({ v, t }) => {
            const r = t ? outputInputRatio(t) : null;
            return { variant: v, raw: r, text: r === null ? '-' : `${formatNumber(r, 2)}\u00D7` };
          })}
        />
        {stat('Cache read', 'tokens-cache-read', (t) => t.tokens.cache_read)}
      </Stats>
      <div className="charts">
        <ViewChart view={view} title="Token rate by direction" defs={RATE_BY_DIRECTION} format={tokS} emptyText="No tokens counted in this range yet." />
        <ViewChart view={view} title="Token rate by variant" defs={RATE_TOTAL} format={tokS} allVariants emptyText="No tokens counted in this range yet." />
        <ViewChart
          view={view}
          title="Speed within one request, tok/s (p90 / p99)"
          note="How fast a single client was served: output tokens over the time the answer took after its first byte, prompt (input) tokens over the time to first byte. p90 and p99 across the requests of each point; ≥ marks the histogram's top bound (100k tok/s), past which it cannot tell."
          defs={THROUGHPUT}
          format={tokSQuantile}
          emptyText="No completed requests with usage in this range."
        />
      </div>
    </Panel>
  );
});
