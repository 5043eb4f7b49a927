/** @jsxRuntime automatic */
import type { StatusEvent, StatusResponse, VariantSnapshot } from '../../../src/dashboard/model.js';
import { formatRelativeTime } from '../format/format.js';
import { isStale } from '../format/thresholds.js';
import { type ConnectionState, secondsUntilRetry } from '../live/connection.js';
import { useNow } from './clock.js';
import { type TargetLike, isDown } from './targets.js';

/**
 * The page's own connection, and whether what it shows is live: a connected page whose targets
 * all fail to answer is not "Live" (it would say so in green over numbers that stopped).
 */
export function ConnectionPill(props: { state: ConnectionState; paused: boolean; held: number; onRetry(): void; targets?: readonly TargetLike[] }) {
  const now = useNow(250);
  const { state } = props;
  const total = props.targets?.length ?? 0;
  const down = props.targets?.filter(isDown).length ?? 0;
  if (state.kind === 'open' && !props.paused && total > 0 && down === total) {
    return (
      <span
        className="pill pill-down"
        data-connection="no-targets"
        role="status"
        title="The dashboard answers, but none of its scrape targets does: the numbers below stopped at the last successful scrape."
      >
        <span aria-hidden="true">{'\u2716'}</span> No target reachable
      </span>
    );
  }
  if (state.kind === 'open') {
    if (!props.paused && down > 0) {
      return (
        <span
          className="pill pill-paused"
          data-connection="live"
          data-targets-down={down}
          role="status"
          title="Some scrape targets do not answer; their variants show a stale badge."
        >
          <span className="pulse" aria-hidden="true" /> Live · {down} of {total} targets down
        </span>
      );
    }
    return props.paused ? (
      <span className="pill pill-paused" data-connection="paused" role="status">
        <span aria-hidden="true">{'\u275A\u275A'}</span> Paused{props.held > 0 ? ` \u00B7 ${props.held} update${props.held === 1 ? '' : 's'} held` : ''}
      </span>
    ) : (
      <span className="pill pill-live" data-connection="live" role="status">
        <span className="pulse" aria-hidden="true" /> Live
      </span>
    );
  }
  if (state.kind === 'waiting') {
    const s = secondsUntilRetry(state, now) ?? 0;
    return (
      <span className="pill pill-down" data-connection="reconnecting" role="status">
        <span aria-hidden="true">{'\u2716'}</span> Disconnected · reconnecting in {s}s
        <button type="button" className="link-button" onClick={props.onRetry}>
          Retry now
        </button>
      </span>
    );
  }
  return (
    <span className="pill pill-connecting" data-connection={state.kind} role="status">
      <span aria-hidden="true">{'\u21BB'}</span> {state.kind === 'closed' ? 'Closed' : 'Connecting\u2026'}
    </span>
  );
}

/** One chip per variant: its freshness, and a stale badge when its data stops arriving. */
export function VariantStrip(props: {
  variants: readonly string[];
  latest: ReadonlyMap<string, VariantSnapshot>;
  status: StatusResponse | null;
  staleTargets: ReadonlyMap<string, StatusEvent>;
  scrapeIntervalS: number;
}) {
  const now = useNow(1000);
  if (props.variants.length === 0) return null;
  return (
    <ul className="variant-strip" aria-label="Variants">
      {props.variants.map((v, i) => {
        const snap = props.latest.get(v) ?? null;
        // Either signal is enough: our own clock (works while the dashboard itself is unreachable)
        // or the backend's `status` event (arrives before three intervals have passed).
        const reported = [...props.staleTargets.values()].some((e) => e.variants.includes(v));
        const stale = reported || isStale(snap?.ts ?? null, now, props.scrapeIntervalS);
        return (
          <li
            key={v}
            className={`variant-state${stale ? ' is-stale' : ''}`}
            data-variant-state={v}
            data-stale={stale ? 'true' : 'false'}
            data-last-ts={snap?.ts ?? 0}
          >
            <span className={`variant-chip vi-${Math.min(i, 1)}`}>{v}</span>
            {snap?.build ? <span className="muted">{snap.build.version}</span> : null}
            {stale ? (
              <span className="badge badge-stale" data-stale-badge={v} title={snap ? `Last data ${formatRelativeTime(snap.ts, now)}` : 'No data yet'}>
                <span aria-hidden="true">{'\u26A0'}</span> stale{snap ? ` \u00B7 last data ${formatRelativeTime(snap.ts, now)}` : ''}
              </span>
            ) : (
              <span className="muted">{snap ? `updated ${formatRelativeTime(snap.ts, now)}` : 'waiting for data'}</span>
            )}
          </li>
        );
      })}
    </ul>
  );
}
