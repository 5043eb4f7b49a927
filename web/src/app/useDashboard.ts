import { useCallback, useEffect, useRef, useState } from 'react';
import type { StatusEvent, StatusResponse, VariantSnapshot } from '../../../src/dashboard/model.js';
import { type Api, ApiError } from '../api/client.js';
import { type Dataset, type RangeKey, appendSnapshot, datasetFromHistory, emptyDataset } from '../data/dataset.js';
import { type ConnectionState, initialConnection } from '../live/connection.js';
import { type EventSourceLike, LiveFeed } from '../live/feed.js';

export type HistoryState = { kind: 'loading' } | { kind: 'ready'; fetchedMs: number } | { kind: 'error'; message: string };

export interface DashboardState {
  dataset: Dataset;
  history: HistoryState;
  latest: ReadonlyMap<string, VariantSnapshot>;
  connection: ConnectionState;
  status: StatusResponse | null;
  statusError: string | null;
  scrapeIntervalS: number;
  /** Targets reported stale by `status` events and not yet recovered, by URL. */
  staleTargets: ReadonlyMap<string, StatusEvent>;
  paused: boolean;
  held: number;
  setPaused(p: boolean): void;
  retryNow(): void;
}

const STATUS_REFRESH_MS = 15_000;

/**
 * The page's data: history for the range (refetched when the range changes and after every
 * reconnect, which fills whatever the outage missed), live snapshots appended on top, the
 * connection state, and /api/status for targets and builds. Pausing holds live snapshots back
 * and applies them, in order, on resume.
 */
export function useDashboard(api: Api, range: RangeKey, openEventSource: (url: string) => EventSourceLike): DashboardState {
  const [dataset, setDataset] = useState<Dataset>(() => emptyDataset(range));
  const [history, setHistory] = useState<HistoryState>({ kind: 'loading' });
  const [latest, setLatest] = useState<ReadonlyMap<string, VariantSnapshot>>(new Map());
  const [connection, setConnection] = useState<ConnectionState>(initialConnection);
  const [status, setStatus] = useState<StatusResponse | null>(null);
  const [statusError, setStatusError] = useState<string | null>(null);
  const [scrapeIntervalS, setScrapeIntervalS] = useState(5);
  const [staleTargets, setStaleTargets] = useState<ReadonlyMap<string, StatusEvent>>(new Map());
  const [paused, setPausedState] = useState(false);
  const [held, setHeld] = useState(0);
  const [refetch, setRefetch] = useState(0);
  const pausedRef = useRef(false);
  const heldRef = useRef<VariantSnapshot[]>([]);
  const feedRef = useRef<LiveFeed | null>(null);

  const apply = useCallback((snaps: readonly VariantSnapshot[]) => {
    if (snaps.length === 0) return;
    const now = Date.now();
    setDataset((ds) => snaps.reduce((acc, s) => appendSnapshot(acc, s, now), ds));
    setLatest((prev) => {
      const next = new Map(prev);
      for (const s of snaps) if ((next.get(s.variant)?.ts ?? -1) < s.ts) next.set(s.variant, s);
      return next;
    });
  }, []);

  // History for the range; a newer request aborts an older one so a slow 90d answer cannot land after a 5m one.
  // biome-ignore lint/correctness/useExhaustiveDependencies: refetch is a counter whose change alone asks for the history again
  useEffect(() => {
    const ctl = new AbortController();
    setHistory({ kind: 'loading' });
    setDataset((ds) => (ds.range === range ? ds : emptyDataset(range)));
    api.metrics(range, ctl.signal).then(
      (res) => {
        setDataset(datasetFromHistory(range, res));
        setLatest((prev) => {
          const next = new Map(prev);
          for (const p of res.points) if ((next.get(p.variant)?.ts ?? -1) < p.ts) next.set(p.variant, p);
          return next;
        });
        setHistory({ kind: 'ready', fetchedMs: Date.now() });
      },
      (err: unknown) => {
        if (ctl.signal.aborted) return;
        setHistory({ kind: 'error', message: err instanceof ApiError ? err.message : String(err) });
      },
    );
    return () => ctl.abort();
  }, [api, range, refetch]);

  // Targets, builds and the scrape interval; refreshed slowly, and at once when a target changes state.
  const loadStatus = useCallback(() => {
    api.status().then(
      (s) => {
        setStatus(s);
        setStatusError(null);
        setScrapeIntervalS(s.scrape_interval_s);
      },
      (err: unknown) => setStatusError(err instanceof Error ? err.message : String(err)),
    );
  }, [api]);
  useEffect(() => {
    loadStatus();
    const id = setInterval(loadStatus, STATUS_REFRESH_MS);
    return () => clearInterval(id);
  }, [loadStatus]);

  useEffect(() => {
    const feed = new LiveFeed(
      api.eventsUrl(),
      {
        open: openEventSource,
        now: () => Date.now(),
        setTimeout: (fn, ms) => setTimeout(fn, ms),
        clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      },
      {
        hello: (h) => setScrapeIntervalS(h.scrape_interval_s),
        snapshot: (s) => {
          if (pausedRef.current) {
            heldRef.current.push(s);
            setHeld(heldRef.current.length);
          } else apply([s]);
        },
        status: (ev) => {
          setStaleTargets((prev) => {
            const next = new Map(prev);
            if (ev.state === 'stale') next.set(ev.target, ev);
            else next.delete(ev.target);
            return next;
          });
          loadStatus();
        },
        reconnected: () => {
          setRefetch((n) => n + 1);
          loadStatus();
        },
        state: setConnection,
      },
    );
    feedRef.current = feed;
    feed.start();
    return () => feed.stop();
  }, [api, openEventSource, apply, loadStatus]);

  const setPaused = useCallback(
    (p: boolean) => {
      pausedRef.current = p;
      setPausedState(p);
      if (!p) {
        const queued = heldRef.current;
        heldRef.current = [];
        setHeld(0);
        apply(queued);
      }
    },
    [apply],
  );

  const retryNow = useCallback(() => feedRef.current?.retryNow(), []);

  return { dataset, history, latest, connection, status, statusError, scrapeIntervalS, staleTargets, paused, held, setPaused, retryNow };
}
