import { useEffect, useState } from 'react';
import type { Api } from '../api/client.js';
import type { CanaryState } from '../panels/CanaryPanel.js';

/** How often the verdict is asked again; the dashboard caches it for a few seconds. */
export const CANARY_REFRESH_MS = 15_000;

/**
 * The canary verdict for a pair of variants (stable first), refreshed while the page is live.
 * Null without a pair. A failed refresh keeps the last verdict and says why.
 */
export function useCanary(api: Api, pair: { stable: string; canary: string } | null, paused: boolean): CanaryState | null {
  const [state, setState] = useState<CanaryState | null>(null);
  const stable = pair?.stable ?? null;
  const canary = pair?.canary ?? null;
  useEffect(() => {
    if (stable === null || canary === null) {
      setState(null);
      return;
    }
    setState((prev) => (prev && prev.stable === stable && prev.canary === canary ? prev : { stable, canary, report: null, error: null }));
    if (paused) return;
    const ctrl = new AbortController();
    const load = () => {
      api.canary(stable, canary, ctrl.signal).then(
        (report) => setState({ stable, canary, report, error: null }),
        (err: unknown) => {
          if (ctrl.signal.aborted) return;
          setState((prev) => ({
            stable,
            canary,
            report: prev?.stable === stable && prev.canary === canary ? prev.report : null,
            error: (err as Error).message,
          }));
        },
      );
    };
    load();
    const timer = setInterval(load, CANARY_REFRESH_MS);
    return () => {
      ctrl.abort();
      clearInterval(timer);
    };
  }, [api, stable, canary, paused]);
  return state;
}
