import type { CanaryResponse, ConfigResponse, ErrorResponse, MetricsResponse, StatusResponse } from '../../../src/dashboard/model.js';
import type { RangeKey } from '../data/dataset.js';

/** Why a request to the dashboard API failed, in words an operator can act on. */
export class ApiError extends Error {
  constructor(
    readonly path: string,
    readonly status: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Fetcher = (input: string, init?: { signal?: AbortSignal }) => Promise<Response>;

async function getJson<T>(fetcher: Fetcher, base: string, path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetcher(`${base}${path}`, { signal });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError(path, null, `the dashboard at ${base || 'this address'} did not answer`);
  }
  if (!res.ok) {
    let detail = res.statusText;
    try {
      const body = (await res.json()) as Partial<ErrorResponse>;
      if (typeof body.error === 'string') detail = body.error;
    } catch {
      // not JSON; the status text will do
    }
    throw new ApiError(path, res.status, `${path} answered ${res.status}: ${detail}`);
  }
  return (await res.json()) as T;
}

export interface Api {
  metrics(range: RangeKey, signal?: AbortSignal): Promise<MetricsResponse>;
  status(signal?: AbortSignal): Promise<StatusResponse>;
  config(signal?: AbortSignal): Promise<ConfigResponse>;
  /** canary-report's verdict for one pair of variants, over the dashboard's source. */
  canary(stable: string, canary: string, signal?: AbortSignal): Promise<CanaryResponse>;
  eventsUrl(): string;
}

/** `base` is '' in the browser (same origin as the page); absolute in tests. */
export function createApi(fetcher: Fetcher, base = ''): Api {
  return {
    // Every variant at once: switching variant or compare mode then needs no refetch.
    metrics: (range, signal) => getJson(fetcher, base, `/api/metrics?range=${range}&resolution=auto`, signal),
    status: (signal) => getJson(fetcher, base, '/api/status', signal),
    config: (signal) => getJson(fetcher, base, '/api/config', signal),
    canary: (stable, canary, signal) => getJson(fetcher, base, `/api/canary?stable=${encodeURIComponent(stable)}&canary=${encodeURIComponent(canary)}`, signal),
    eventsUrl: () => `${base}/api/events`,
  };
}
