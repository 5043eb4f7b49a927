/** @jsxRuntime automatic */
import { useEffect, useMemo, useState } from 'react';
import type { StatusResponse, VariantSnapshot } from '../../../src/dashboard/model.js';
import type { Api } from '../api/client.js';
import { RANGES, type RangeKey, defaultRange, sortVariants } from '../data/dataset.js';
import type { EventSourceLike } from '../live/feed.js';
import { BuildPanel } from '../panels/BuildPanel.js';
import { CanaryPanel } from '../panels/CanaryPanel.js';
import { CostPanel } from '../panels/CostPanel.js';
import { LatencyPanel } from '../panels/LatencyPanel.js';
import { LimitsPanel } from '../panels/LimitsPanel.js';
import { QuotaPanel } from '../panels/QuotaPanel.js';
import { RequestsPanel } from '../panels/RequestsPanel.js';
import { TokensPanel } from '../panels/TokensPanel.js';
import { buildView } from '../panels/view.js';
import { type Theme, paletteFor } from '../theme/palette.js';
import { PanelBoundary } from './PanelBoundary.js';
import { ConnectionPill, VariantStrip } from './StatusBar.js';
import { useCanary } from './useCanary.js';
import { useDashboard } from './useDashboard.js';
import { isDown } from './targets.js';

export const COMPARE = 'compare';

export interface AppProps {
  api: Api;
  openEventSource: (url: string) => EventSourceLike;
  /** null: pick from the stored history (defaultRange) when the status arrives. */
  initialRange: RangeKey | null;
  /** A variant name, `compare`, or null to choose once variants are known. */
  initialVariant: string | null;
  theme: Theme;
  onTheme(theme: Theme): void;
  /** range null: not picked by anyone, so not worth keeping in the link. */
  onSelection(range: RangeKey | null, variant: string | null): void;
}

/** The oldest point the dashboard stores; undefined when its history is Prometheus's. */
export function oldestStored(status: StatusResponse): number | null | undefined {
  if (!status.store) return undefined;
  const all = Object.values(status.store.oldest_ms).filter((t): t is number => t !== null);
  return all.length > 0 ? Math.min(...all) : null;
}

/** Which variants to draw for a selection: the chosen one, or the first two overlaid. */
export function variantsFor(selection: string | null, known: readonly string[]): string[] {
  if (known.length === 0) return [];
  if (selection === COMPARE) return known.slice(0, 2);
  if (selection && known.includes(selection)) return [selection];
  return known.length > 1 ? known.slice(0, 2) : [known[0]];
}

/** The pair the verdict judges: the compare pair, the first (stable, production) as the baseline. */
export function canaryPair(known: readonly string[]): { stable: string; canary: string } | null {
  return known.length >= 2 ? { stable: known[0], canary: known[1] } : null;
}

export function App(props: AppProps) {
  const [range, setRangeState] = useState<RangeKey>(props.initialRange ?? '1h');
  // Until someone picks a range (the link or a click), the first status decides it.
  const [rangeChosen, setRangeChosen] = useState(props.initialRange !== null);
  // Only a range someone picked goes into the link: a default follows the history on reload.
  const [rangeAsked, setRangeAsked] = useState(props.initialRange !== null);
  const setRange = (r: RangeKey) => {
    setRangeChosen(true);
    setRangeAsked(true);
    setRangeState(r);
  };
  const [selection, setSelection] = useState<string | null>(props.initialVariant);
  const d = useDashboard(props.api, range, props.openEventSource);

  useEffect(() => {
    if (rangeChosen || !d.status) return;
    setRangeChosen(true);
    setRangeState(defaultRange(oldestStored(d.status), d.status.now_ms));
  }, [rangeChosen, d.status]);

  const { onSelection } = props;
  useEffect(() => onSelection(rangeAsked ? range : null, selection), [range, rangeAsked, selection, onSelection]);

  const known = useMemo(() => {
    const names = new Set<string>([...d.dataset.byVariant.keys(), ...d.latest.keys()]);
    for (const v of Object.keys(d.status?.variants ?? {})) names.add(v);
    return sortVariants(names);
  }, [d.dataset, d.latest, d.status]);
  const shown = variantsFor(selection, known);
  const effectiveSelection = shown.length > 1 ? COMPARE : (shown[0] ?? null);
  const palette = paletteFor(props.theme);
  const pair = canaryPair(known);
  const canary = useCanary(props.api, pair, d.paused);

  const latestMerged = useMemo(() => {
    const m = new Map<string, VariantSnapshot>(d.latest);
    for (const [v, s] of Object.entries(d.status?.variants ?? {})) if ((m.get(v)?.ts ?? -1) < s.latest.ts) m.set(v, s.latest);
    return m;
  }, [d.latest, d.status]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed on joined variant lists so the memo survives renders that rebuild equal arrays
  const view = useMemo(
    () =>
      buildView({
        dataset: d.dataset,
        variants: shown,
        overlaid: shown.length > 1,
        allVariants: known,
        latest: latestMerged,
        palette,
        nowMs: Date.now(),
        rangeMs: d.dataset.rangeMs,
        rangeLabel: `the last ${d.dataset.range}`,
      }),
    // shown/known are derived from the same inputs; joining keeps the memo stable across renders
    [d.dataset, shown.join(','), known.join(','), latestMerged, palette],
  );

  const hasData = known.length > 0 && [...d.dataset.byVariant.values()].some((l) => l.length > 0);

  return (
    <div className="app" data-theme={props.theme}>
      <header className="topbar">
        <div className="brand">
          <h1>zai-proxy</h1>
          <ConnectionPill state={d.connection} paused={d.paused} held={d.held} onRetry={d.retryNow} targets={d.status?.targets} />
        </div>
        <nav className="controls" aria-label="Dashboard controls">
          <fieldset className="segmented" aria-label="Variant">
            <legend className="sr-only">Variant</legend>
            {known.map((v, i) => (
              <button
                key={v}
                type="button"
                className={`seg vi-btn-${Math.min(i, 1)}`}
                aria-pressed={effectiveSelection === v}
                data-variant-option={v}
                onClick={() => setSelection(v)}
              >
                {v}
              </button>
            ))}
            <button
              type="button"
              className="seg"
              aria-pressed={effectiveSelection === COMPARE}
              disabled={known.length < 2}
              title={known.length < 2 ? 'Needs two variants' : 'Overlay the first two variants'}
              data-variant-option={COMPARE}
              onClick={() => setSelection(COMPARE)}
            >
              {known.length >= 2 ? `${known[0]} vs ${known[1]}` : 'compare'}
            </button>
          </fieldset>
          <fieldset className="segmented ranges" aria-label="Time range">
            <legend className="sr-only">Time range</legend>
            {RANGES.map((r) => (
              <button key={r} type="button" className="seg" aria-pressed={range === r} data-range-option={r} onClick={() => setRange(r)}>
                {r}
              </button>
            ))}
          </fieldset>
          <button type="button" className="icon-button" aria-pressed={d.paused} data-action="pause" onClick={() => d.setPaused(!d.paused)}>
            <span aria-hidden="true">{d.paused ? '\u25B6' : '\u275A\u275A'}</span> {d.paused ? 'Resume' : 'Pause'}
          </button>
          <button
            type="button"
            className="icon-button"
            data-action="theme"
            aria-label={props.theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'}
            onClick={() => props.onTheme(props.theme === 'dark' ? 'light' : 'dark')}
          >
            <span aria-hidden="true">{props.theme === 'dark' ? '\u2600' : '\u263E'}</span> {props.theme === 'dark' ? 'Light' : 'Dark'}
          </button>
        </nav>
      </header>
      <VariantStrip variants={known} latest={latestMerged} status={d.status} staleTargets={d.staleTargets} scrapeIntervalS={d.scrapeIntervalS} />
      <Notices d={d} hasData={hasData} />
      {hasData ? (
        <main className="grid" aria-busy={d.history.kind === 'loading'} data-range={d.dataset.range} data-history={d.history.kind}>
          {canary ? (
            <PanelBoundary name="Canary verdict">
              <CanaryPanel state={canary} />
            </PanelBoundary>
          ) : null}
          <PanelBoundary name="Tokens">
            <TokensPanel view={view} />
          </PanelBoundary>
          <PanelBoundary name="Requests">
            <RequestsPanel view={view} />
          </PanelBoundary>
          <PanelBoundary name="Latency">
            <LatencyPanel view={view} />
          </PanelBoundary>
          <PanelBoundary name="Limits">
            <LimitsPanel view={view} />
          </PanelBoundary>
          <PanelBoundary name="Quota">
            <QuotaPanel view={view} />
          </PanelBoundary>
          <PanelBoundary name="Cost">
            <CostPanel view={view} />
          </PanelBoundary>
          <PanelBoundary name="Build">
            <BuildPanel view={view} />
          </PanelBoundary>
        </main>
      ) : d.history.kind === 'loading' ? (
        <main className="grid" aria-busy="true" data-history="loading">
          {['Tokens', 'Requests', 'Latency', 'Limits'].map((n) => (
            <section key={n} className="panel skeleton" aria-label={`${n} loading`}>
              <div className="panel-header">
                <h2>{n}</h2>
              </div>
              <div className="shimmer" />
            </section>
          ))}
        </main>
      ) : null}
    </div>
  );
}

/** Says what is wrong and what to do about it, instead of an empty page. */
function Notices({ d, hasData }: { d: ReturnType<typeof useDashboard>; hasData: boolean }) {
  const notes: { key: string; tone: 'error' | 'info'; text: string }[] = [];
  if (d.history.kind === 'error') {
    notes.push({
      key: 'history',
      tone: 'error',
      text: `Could not load history: ${d.history.message}. Is \`zai-proxy dashboard\` running? The page retries when the live feed reconnects.`,
    });
  }
  if (d.statusError && d.connection.kind !== 'open') {
    notes.push({
      key: 'status',
      tone: 'error',
      text: `Dashboard API unreachable (${d.statusError}). Start it with \`zai-proxy dashboard\` or check the address.`,
    });
  }
  const down = d.status?.targets.filter(isDown) ?? [];
  for (const t of down) {
    notes.push({
      key: `t:${t.url}`,
      tone: hasData ? 'info' : 'error',
      text: `No target reachable at ${t.url}${t.name ? ` (${t.name})` : ''}${t.last_error ? `: ${t.last_error}` : ''}. Start the proxy there, or fix SCRAPE_TARGETS.`,
    });
  }
  if (!hasData && d.history.kind === 'ready' && down.length === 0) {
    notes.push({
      key: 'empty',
      tone: 'info',
      text:
        d.status && d.status.targets.length === 0
          ? 'No scrape targets are configured. Set SCRAPE_TARGETS (e.g. stable=http://127.0.0.1:8080/metrics) and restart the dashboard.'
          : 'No data in this range yet. The first snapshot appears one scrape interval after a target answers; send some traffic through the proxy.',
    });
  }
  if (notes.length === 0) return null;
  return (
    <div className="notices" role="status">
      {notes.map((n) => (
        <p key={n.key} className={`notice notice-${n.tone}`} data-notice={n.key}>
          <span aria-hidden="true">{n.tone === 'error' ? '\u2716 ' : '\u2139 '}</span>
          {n.text}
        </p>
      ))}
    </div>
  );
}
