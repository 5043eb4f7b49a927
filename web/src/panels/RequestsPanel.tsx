/** @jsxRuntime automatic */
import { memo } from 'react';
import type { SeriesDef } from '../data/series.js';
import { ratio } from '../data/window.js';
import { formatCompact, formatCount, formatRate, formatRatioPercent } from '../format/format.js';
import { ERROR_RATIO_STEPS, THROTTLED_RATIO_STEPS, levelFor } from '../format/thresholds.js';
import { TONE } from '../theme/palette.js';
import { ViewChart } from './chart.js';
import { Panel, Stat, Stats } from './ui.js';
import type { PanelView } from './view.js';

const BY_CLASS: SeriesDef[] = [
  { key: '2xx', label: '2xx', tone: TONE.green, get: (s) => s.requests.by_class['2xx'] },
  { key: '4xx', label: '4xx', tone: TONE.amber, get: (s) => s.requests.by_class['4xx'] },
  { key: '429', label: '429', tone: TONE.pink, get: (s) => s.requests.by_code['429'] ?? 0 },
  { key: '5xx', label: '5xx', tone: TONE.red, get: (s) => s.requests.by_class['5xx'] },
];
const ERRORS: SeriesDef[] = [
  { key: 'err', label: '5xx share', tone: TONE.red, get: (s) => s.requests.error_ratio },
  { key: 'thr', label: '429 share', tone: TONE.pink, get: (s) => s.requests.throttled_ratio },
];

const reqS = (v: number | null) => (v === null ? '-' : `${formatRate(v, v < 10 ? 2 : 1)}/s`);
const pct = (v: number | null) => formatRatioPercent(v, 1);

export const RequestsPanel = memo(function RequestsPanel({ view }: { view: PanelView }) {
  const per = view.variants.map((v) => ({ v, t: view.totals.get(v), now: view.latest.get(v) ?? null }));
  return (
    <Panel id="requests" title="Requests" subtitle={`over ${view.rangeLabel}`}>
      <Stats>
        <Stat
          id="req-rate"
          label="Rate now"
          values={per.map(({ v, now }) => ({ variant: v, raw: now?.requests.rate ?? null, text: reqS(now?.requests.rate ?? null) }))}
        />
        <Stat
          id="req-count"
          label="Requests"
          values={per.map(({ v, t }) => ({ variant: v, raw: t?.requests ?? null, text: formatCount(t?.requests ?? null) }))}
        />
        <Stat
          id="req-errors"
          label="Error rate (5xx)"
          lowerIsBetter
          values={per.map(({ v, t }) => {
            const r = t ? ratio(t.errors5xx, t.requests) : null;
            return { variant: v, raw: r, text: r === null ? 'no requests' : pct(r), level: levelFor(r, ERROR_RATIO_STEPS) };
          })}
        />
        <Stat
          id="req-throttled"
          label="Throttled (429)"
          lowerIsBetter
          values={per.map(({ v, t }) => {
            const r = t ? ratio(t.throttled429, t.requests) : null;
            return { variant: v, raw: r, text: r === null ? 'no requests' : pct(r), level: levelFor(r, THROTTLED_RATIO_STEPS) };
          })}
        />
      </Stats>
      <div className="charts">
        <ViewChart
          view={view}
          title="Rate by status class"
          defs={BY_CLASS}
          format={reqS}
          emptyText="No requests in this range. Send traffic through the proxy."
        />
        <ViewChart
          view={view}
          title="Error and throttle share"
          defs={ERRORS}
          format={pct}
          axisFormat={(v) => `${formatCompact(v * 100)}%`}
          emptyText="No requests in this range."
        />
      </div>
    </Panel>
  );
});
