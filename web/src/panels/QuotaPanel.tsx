/** @jsxRuntime automatic */
import { memo, useMemo } from 'react';
import type { QuotaWindow, VariantSnapshot } from '../../../src/dashboard/model.js';
import { useNow } from '../app/clock.js';
import type { SeriesDef } from '../data/series.js';
import { formatAge, formatCountdown, formatUtilization } from '../format/format.js';
import { QUOTA_STALE_AFTER_S, UTILIZATION_STEPS, levelFor } from '../format/thresholds.js';
import { TONE } from '../theme/palette.js';
import { ViewChart } from './chart.js';
import { Empty, LevelTag, Panel } from './ui.js';
import type { PanelView } from './view.js';

const WINDOW_LABELS: Record<string, string> = { five_hour: '5-hour', weekly: 'Weekly', monthly: 'Monthly', unknown: 'Other' };
const WINDOW_ORDER = ['five_hour', 'weekly', 'monthly', 'unknown'];
const windowLabel = (w: string) => WINDOW_LABELS[w] ?? w.replace(/_/g, ' ');

/** What a quota entry counts, in words: Z.AI's entry type alone ("credit limit") explained nothing. */
const LIMIT_TYPES: Record<string, string> = { credit_limit: 'credits', tokens_limit: 'tokens', time_limit: 'time' };
export function limitTypeLabel(type: string): string {
  const unit = LIMIT_TYPES[type];
  return unit ? `counted in ${unit}` : type.replace(/_/g, ' ');
}
export function limitTypeHint(type: string): string {
  return `Z.AI reports this window as a ${type.toUpperCase()} entry of the Coding Plan. The share used and the reset time are Z.AI's own figures from its quota endpoint; the proxy only relays them.`;
}

/** The newest snapshot of a variant that carries quota telemetry (the poller runs slower than scrapes). */
function latestQuota(view: PanelView, v: string): VariantSnapshot | null {
  const now = view.latest.get(v);
  if (now?.quota) return now;
  const list = view.dataset.byVariant.get(v) ?? [];
  for (let i = list.length - 1; i >= 0; i -= 1) if (list[i].quota) return list[i];
  return null;
}

function WindowRow({ variant, name, w, nowMs }: { variant: string; name: string; w: QuotaWindow; nowMs: number }) {
  const used = w.usage_ratio ?? (w.remaining_ratio !== null ? 1 - w.remaining_ratio : null);
  const level = levelFor(used, UTILIZATION_STEPS);
  return (
    <div className="quota-row" data-quota={`${variant}-${name}`}>
      <span className="quota-name">{windowLabel(name)}</span>
      <meter
        className={`quota-meter level-bg-${level ?? 'none'}`}
        min={0}
        max={1}
        low={0.7}
        high={0.9}
        optimum={0}
        value={used ?? 0}
        aria-label={`${windowLabel(name)} quota used`}
      />
      <span className="quota-used">{used === null ? 'usage unknown' : `${formatUtilization(used)} used`}</span>
      <LevelTag level={level} />
      <span className="quota-reset" title="Time until the provider resets this window">
        {w.reset_ms === null ? 'no reset advertised' : `resets in ${formatCountdown(w.reset_ms - nowMs)}`}
      </span>
      <span className="quota-type" data-quota-type={w.limit_type} title={limitTypeHint(w.limit_type)}>
        {limitTypeLabel(w.limit_type)}
      </span>
    </div>
  );
}

export const QuotaPanel = memo(function QuotaPanel({ view }: { view: PanelView }) {
  const nowMs = useNow(1000);
  const usageDefs = useMemo(() => {
    const names = new Set<string>();
    for (const v of view.variants) for (const p of view.dataset.byVariant.get(v) ?? []) for (const k of Object.keys(p.quota?.windows ?? {})) names.add(k);
    return WINDOW_ORDER.filter((n) => names.has(n))
      .concat([...names].filter((n) => !WINDOW_ORDER.includes(n)))
      .map(
        (n, i): SeriesDef => ({
          key: `q:${n}`,
          label: windowLabel(n),
          tone: [TONE.violet, TONE.cyan, TONE.amber, TONE.slate][i % 4],
          get: (s) => s.quota?.windows[n]?.usage_ratio ?? null,
        }),
      );
  }, [view]);
  return (
    <Panel id="quota" title="Quota" subtitle="Coding Plan windows (observed)">
      {view.variants.map((v) => {
        const snap = latestQuota(view, v);
        const q = snap?.quota ?? null;
        if (!q) {
          return (
            <Empty key={v}>
              <strong>{v}</strong>: no quota telemetry. The proxy polls quota only when its quota poller is enabled and it has an API key.
            </Empty>
          );
        }
        const age = q.sample_age_s;
        const stale = age !== null && age > QUOTA_STALE_AFTER_S;
        const names = Object.keys(q.windows).sort((a, b) => WINDOW_ORDER.indexOf(a) - WINDOW_ORDER.indexOf(b));
        return (
          <div className="quota-variant" key={v} data-quota-variant={v}>
            <div className="quota-head">
              {view.variants.length > 1 ? <span className={`variant-chip vi-${view.variants.indexOf(v)}`}>{v}</span> : null}
              <span className={`quota-age${stale ? ' is-stale' : ''}`} data-quota-age={v}>
                {age === null ? 'no sample yet' : `sample ${formatAge(age)} old`}
                {stale ? (
                  <>
                    {' '}
                    <span aria-hidden="true">{'\u26A0'}</span> stale
                  </>
                ) : null}
              </span>
            </div>
            {names.length === 0 ? <Empty>The quota endpoint answered without any windows.</Empty> : null}
            {names.map((n) => (
              <WindowRow key={n} variant={v} name={n} w={q.windows[n]} nowMs={nowMs} />
            ))}
          </div>
        );
      })}
      <div className="charts charts-one">
        <ViewChart
          view={view}
          title="Quota used over time"
          defs={usageDefs}
          format={(x) => formatUtilization(x)}
          ratioAxis
          height={120}
          emptyText="No quota samples in this range."
        />
      </div>
    </Panel>
  );
});
