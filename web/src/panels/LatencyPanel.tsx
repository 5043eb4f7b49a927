/** @jsxRuntime automatic */
import { memo } from 'react';
import type { VariantSnapshot } from '../../../src/dashboard/model.js';
import type { SeriesDef } from '../data/series.js';
import { formatLatency } from '../format/format.js';
import { QUANTILE_TOP, quantileFormat } from '../format/quantile.js';
import { OVERHEAD_STEPS, levelFor } from '../format/thresholds.js';
import { TONE } from '../theme/palette.js';
import { ViewChart } from './chart.js';
import { BUCKET_NOTE, Panel, Stat, Stats } from './ui.js';
import type { PanelView } from './view.js';

const LATENCY: SeriesDef[] = [
  { key: 'p50', label: 'p50', tone: TONE.blue, get: (s) => s.latency_ms.p50 },
  { key: 'p95', label: 'p95', tone: TONE.amber, get: (s) => s.latency_ms.p95 },
  { key: 'p99', label: 'p99', tone: TONE.red, get: (s) => s.latency_ms.p99 },
  { key: 'ttfb', label: 'first byte p50', tone: TONE.cyan, get: (s) => s.ttfb_ms.p50 },
];
const OVERHEAD: SeriesDef[] = [
  { key: 'o50', label: 'p50', tone: TONE.green, get: (s) => s.overhead_ms.p50 },
  { key: 'o99', label: 'p99', tone: TONE.violet, get: (s) => s.overhead_ms.p99 },
];

const fmt = quantileFormat(formatLatency, QUANTILE_TOP.durationMs);
const fmtOverhead = quantileFormat(formatLatency, QUANTILE_TOP.overheadMs);

/** The newest point with observations: the latest scrape may have had no finished request. */
function lastObserved(view: PanelView, v: string, pick: (s: VariantSnapshot) => number | null): number | null {
  const list = view.dataset.byVariant.get(v) ?? [];
  for (let i = list.length - 1; i >= 0 && i >= list.length - 12; i -= 1) {
    const x = pick(list[i]);
    if (x !== null) return x;
  }
  return null;
}

export const LatencyPanel = memo(function LatencyPanel({ view }: { view: PanelView }) {
  const stat = (label: string, id: string, pick: (s: VariantSnapshot) => number | null, overhead = false) => (
    <Stat
      id={id}
      label={label}
      lowerIsBetter
      bucketed
      values={view.variants.map((v) => {
        const raw = lastObserved(view, v, pick);
        return { variant: v, raw, text: (overhead ? fmtOverhead : fmt)(raw), level: overhead ? levelFor(raw, OVERHEAD_STEPS) : null };
      })}
    />
  );
  return (
    <Panel
      id="latency"
      title="Latency"
      subtitle={
        <span title={BUCKET_NOTE} data-latency-note="">
          recent, per request; quantiles estimated from histogram buckets
        </span>
      }
    >
      <Stats>
        {stat('p50', 'lat-p50', (s) => s.latency_ms.p50)}
        {stat('p95', 'lat-p95', (s) => s.latency_ms.p95)}
        {stat('p99', 'lat-p99', (s) => s.latency_ms.p99)}
        {stat('First byte p50', 'lat-ttfb', (s) => s.ttfb_ms.p50)}
        {stat('Proxy overhead p50', 'lat-overhead', (s) => s.overhead_ms.p50, true)}
      </Stats>
      <div className="charts">
        <ViewChart
          view={view}
          title="Request duration and time to first byte"
          defs={LATENCY}
          format={fmt}
          axisFormat={fmt}
          emptyText="No finished requests in this range."
        />
        <ViewChart
          view={view}
          title="Proxy overhead (budget 0.25 ms at p50)"
          defs={OVERHEAD}
          format={fmtOverhead}
          axisFormat={fmt}
          emptyText="No finished requests in this range."
        />
      </div>
    </Panel>
  );
});
