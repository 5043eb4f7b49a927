/** @jsxRuntime automatic */
import { memo, useMemo } from 'react';
import type { VariantSnapshot } from '../../../src/dashboard/model.js';
import type { SeriesDef } from '../data/series.js';
import { queuedForS } from '../data/window.js';
import { formatAge, formatLatency, formatNumber, formatRate, formatUtilization } from '../format/format.js';
import { bindingParts } from '../format/limiter.js';
import { QUANTILE_TOP, quantileFormat } from '../format/quantile.js';
import { ADMISSION_WAIT_P95_STEPS, QUEUE_SUSTAINED_STEPS_S, UTILIZATION_STEPS, levelFor, levelStyle, queueLevel } from '../format/thresholds.js';
import { TONE } from '../theme/palette.js';
import { ViewChart } from './chart.js';
import { Panel, Stat, Stats } from './ui.js';
import type { PanelView } from './view.js';

const ADMITTED: SeriesDef[] = [
  { key: 'adm', label: 'admitted', tone: TONE.blue, width: 2, get: (s) => s.limiter.rate_rps },
  { key: 'ceil', label: 'inferred ceiling', tone: TONE.red, dashed: true, get: (s) => s.limiter.ceiling_rps },
  { key: 'served', label: 'served', tone: TONE.green, get: (s) => s.requests.rate },
];
const CONCURRENCY: SeriesDef[] = [
  { key: 'lim', label: 'concurrency limit', tone: TONE.red, dashed: true, get: (s) => s.limiter.concurrency_limit },
  { key: 'fly', label: 'in flight', tone: TONE.blue, width: 2, get: (s) => s.workers.in_flight },
  { key: 'q', label: 'queue depth', tone: TONE.amber, get: (s) => s.limiter.queue_depth },
];
const WAITS: SeriesDef[] = [
  { key: 'w95', label: 'wait p95', tone: TONE.violet, get: (s) => s.limiter.wait_ms.p95 },
  { key: 'w50', label: 'wait p50', tone: TONE.cyan, get: (s) => s.limiter.wait_ms.p50 },
];

const TONES = [TONE.red, TONE.amber, TONE.violet, TONE.pink, TONE.cyan, TONE.green, TONE.blue, TONE.slate];

/** One series per key seen anywhere in the range, so a class that appeared once stays on the chart. */
function keyedDefs(view: PanelView, prefix: string, pick: (s: VariantSnapshot) => Record<string, number>): SeriesDef[] {
  const keys = new Set<string>();
  for (const v of view.variants) for (const p of view.dataset.byVariant.get(v) ?? []) for (const k of Object.keys(pick(p))) keys.add(k);
  return [...keys].sort().map((k, i) => ({ key: `${prefix}${k}`, label: k.replace(/_/g, ' '), tone: TONES[i % TONES.length], get: (s) => pick(s)[k] ?? 0 }));
}

// Admission wait quantiles: at the histogram's top bound (60 s) a figure means "this or more".
const waitFmt = quantileFormat(formatLatency, QUANTILE_TOP.waitMs);
const perS = (v: number | null) => (v === null ? '-' : `${formatRate(v, v < 10 ? 2 : 1)}/s`);
const count = (v: number | null) => (v === null ? '-' : formatNumber(v, v % 1 === 0 ? 0 : 1));

const seconds = (ms: number) => `${ms / 1000}s`;
const minutes = (s: number) => `${s / 60} min`;
const g = (level: 'ok' | 'warn' | 'critical') => levelStyle(level).glyph;
/** The badge thresholds, said once in the panel and again in each figure's tooltip. */
export const WAIT_HINT = `Admission wait p95: ${g('ok')} normal under ${seconds(ADMISSION_WAIT_P95_STEPS.warn)}, ${g('warn')} elevated from ${seconds(ADMISSION_WAIT_P95_STEPS.warn)}, ${g('critical')} critical from ${seconds(ADMISSION_WAIT_P95_STEPS.high)}`;
export const QUEUE_HINT = `Queue depth: ${g('ok')} normal while empty or non-empty under ${minutes(QUEUE_SUSTAINED_STEPS_S.warn)}, ${g('warn')} elevated once non-empty for ${minutes(QUEUE_SUSTAINED_STEPS_S.warn)}, ${g('critical')} critical after ${minutes(QUEUE_SUSTAINED_STEPS_S.high)}`;

/** The variant's points in the range, with the newest snapshot if the live feed is ahead of them. */
function pointsOf(view: PanelView, variant: string): readonly VariantSnapshot[] {
  const points = view.dataset.byVariant.get(variant) ?? [];
  const newest = view.latest.get(variant);
  return newest && newest.ts > (points[points.length - 1]?.ts ?? -Infinity) ? [...points, newest] : points;
}

export const LimitsPanel = memo(function LimitsPanel({ view }: { view: PanelView }) {
  const vs = view.variants;
  const latest = (v: string) => view.latest.get(v) ?? null;
  const zaiDefs = useMemo(() => keyedDefs(view, 'zai:', (s) => s.errors.zai_by_class), [view]);
  const rejectDefs = useMemo(() => keyedDefs(view, 'rej:', (s) => s.limiter.rejections_by_reason), [view]);
  const retryDefs = useMemo(
    () => [
      { key: 'up', label: 'upstream errors', tone: TONE.red, get: (s: VariantSnapshot) => s.errors.upstream_rate },
      ...keyedDefs(view, 'retry:', (s) => s.errors.retries_by_reason).map((d) => ({ ...d, label: `retry: ${d.label}` })),
    ],
    [view],
  );
  return (
    <Panel id="limits" title="Limits" subtitle="adaptive rate and concurrency" wide>
      <ul className="limiter-binding" aria-label="Binding limit">
        {vs.map((v, i) => {
          const s = latest(v);
          const b = s ? bindingParts(s) : null;
          return (
            <li key={v} data-binding={s?.limiter.binding ?? 'unknown'} data-binding-variant={v}>
              {vs.length > 1 ? <span className={`variant-chip vi-${i}`}>{v}</span> : null}
              {vs.length > 1 ? ' ' : null}
              {b === null ? (
                'binding: no data yet'
              ) : (
                <>
                  binding: {b.limit === null ? <span className="muted">not reported by this proxy</span> : <strong>{b.limit}</strong>}
                  {b.where ? ` (${b.where})` : null}
                  {b.detail ? ` — ${b.detail}` : null}
                </>
              )}
            </li>
          );
        })}
      </ul>
      <Stats>
        <Stat
          id="lim-rate"
          label="Admitted / ceiling"
          values={vs.map((v) => {
            const s = latest(v);
            return {
              variant: v,
              raw: s?.limiter.rate_rps ?? null,
              text: `${formatRate(s?.limiter.rate_rps ?? null)} / ${formatRate(s?.limiter.ceiling_rps ?? null)} req/s`,
            };
          })}
        />
        <Stat
          id="lim-concurrency"
          label="In flight / limit"
          lowerIsBetter
          values={vs.map((v) => {
            const s = latest(v);
            const inFlight = s?.workers.in_flight ?? null;
            const limit = s?.limiter.concurrency_limit ?? s?.workers.max_workers ?? null;
            const util = inFlight !== null && limit ? inFlight / limit : null;
            return {
              variant: v,
              raw: util,
              text: `${count(inFlight)} / ${count(limit)} (${formatUtilization(util)})`,
              level: levelFor(util, UTILIZATION_STEPS),
            };
          })}
        />
        <Stat
          id="lim-queue"
          label="Queue depth"
          hint={QUEUE_HINT}
          lowerIsBetter
          values={vs.map((v) => {
            const depth = latest(v)?.limiter.queue_depth ?? null;
            const forS = queuedForS(pointsOf(view, v), view.dataset.stepMs);
            return {
              variant: v,
              raw: depth,
              text: depth !== null && depth > 0 && forS >= 1 ? `${count(depth)} for ${formatAge(forS)}` : count(depth),
              level: queueLevel(depth, forS),
            };
          })}
        />
        <Stat
          id="lim-rejections"
          label="Rejections"
          lowerIsBetter
          values={vs.map((v) => ({ variant: v, raw: latest(v)?.limiter.rejection_rate ?? null, text: perS(latest(v)?.limiter.rejection_rate ?? null) }))}
        />
        <Stat
          id="lim-wait"
          label="Admission wait p95"
          hint={WAIT_HINT}
          lowerIsBetter
          bucketed
          values={vs.map((v) => {
            const p95 = latest(v)?.limiter.wait_ms.p95 ?? null;
            return { variant: v, raw: p95, text: waitFmt(p95), level: levelFor(p95, ADMISSION_WAIT_P95_STEPS) };
          })}
        />
        <Stat
          id="lim-retries"
          label="Retries"
          lowerIsBetter
          values={vs.map((v) => ({ variant: v, raw: latest(v)?.errors.retry_rate ?? null, text: perS(latest(v)?.errors.retry_rate ?? null) }))}
        />
      </Stats>
      <p className="threshold-note" data-thresholds="limits">
        {WAIT_HINT}. {QUEUE_HINT}.
      </p>
      <div className="charts">
        <ViewChart view={view} title="Admitted rate vs inferred ceiling" defs={ADMITTED} format={perS} emptyText="This proxy exports no rate limiter gauges." />
        <ViewChart
          view={view}
          title="Concurrency: limit, in flight, queue"
          defs={CONCURRENCY}
          format={count}
          emptyText="This proxy exports no concurrency gauges."
        />
        <ViewChart
          view={view}
          title="Admission waits"
          defs={WAITS}
          format={waitFmt}
          axisFormat={(v) => formatLatency(v)}
          emptyText="No request has waited for admission in this range."
        />
        <ViewChart view={view} title="Rejections by reason" defs={rejectDefs} format={perS} emptyText="No rejections in this range." />
        <ViewChart view={view} title="Z.AI errors by class" defs={zaiDefs} format={perS} emptyText="No Z.AI business errors in this range." />
        <ViewChart view={view} title="Upstream errors and retries" defs={retryDefs} format={perS} emptyText="No upstream errors or retries in this range." />
      </div>
    </Panel>
  );
});
