import { request, type Dispatcher } from 'undici';
import { parseDurationMs } from '../config/fields.js';

/** The two Prometheus HTTP API calls an operator's checks need, nothing more. */

export interface ScrapeTarget {
  readonly job: string;
  readonly instance: string;
  readonly health: string;
  readonly lastError: string;
  readonly scrapeUrl: string;
  /** Seconds; undefined when this Prometheus does not report it. */
  readonly scrapeIntervalSeconds: number | undefined;
}

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export type QueryResult = { readonly ok: true; readonly samples: readonly Sample[] } | { readonly ok: false; readonly error: string };

export interface PrometheusApi {
  /** Active scrape targets. Throws PrometheusUnreachableError when Prometheus does not answer. */
  targets(): Promise<ScrapeTarget[]>;
  /** An instant query; PromQL errors come back as `ok: false`, never thrown. */
  query(expr: string): Promise<QueryResult>;
}

export class PrometheusUnreachableError extends Error {
  override name = 'PrometheusUnreachableError';
}

interface ApiBody {
  status?: string;
  error?: string;
  errorType?: string;
  data?: unknown;
}

export function prometheusApi(baseUrl: string, { timeoutMs = 10_000 } = {}): PrometheusApi {
  const base = baseUrl.replace(/\/+$/, '');

  async function call(path: string, form?: Record<string, string>): Promise<ApiBody> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${base}${path}`, {
        method: form ? 'POST' : 'GET',
        headers: form ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
        body: form ? new URLSearchParams(form).toString() : undefined,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (err) {
      throw new PrometheusUnreachableError((err as Error).message);
    }
    const text = await res.body.text();
    try {
      return JSON.parse(text) as ApiBody;
    } catch {
      throw new PrometheusUnreachableError(`${base}${path} answered ${res.statusCode} with something that is not the Prometheus API`);
    }
  }

  return {
    async targets() {
      const body = await call('/api/v1/targets?state=active');
      const data = body.data as { activeTargets?: Record<string, unknown>[] } | undefined;
      if (body.status !== 'success' || !Array.isArray(data?.activeTargets)) {
        throw new PrometheusUnreachableError(`${base}/api/v1/targets: ${body.error ?? 'unexpected answer'}`);
      }
      return data.activeTargets.map((t) => {
        const labels = (t.labels ?? {}) as Record<string, string>;
        const interval = typeof t.scrapeInterval === 'string' ? parseDurationMs(t.scrapeInterval) : undefined;
        return {
          job: labels.job ?? '',
          instance: labels.instance ?? '',
          health: String(t.health ?? 'unknown'),
          lastError: String(t.lastError ?? ''),
          scrapeUrl: String(t.scrapeUrl ?? ''),
          scrapeIntervalSeconds: interval === undefined ? undefined : interval / 1000,
        };
      });
    },

    async query(expr) {
      const body = await call('/api/v1/query', { query: expr });
      if (body.status !== 'success') return { ok: false, error: `${body.errorType ?? 'error'}: ${body.error ?? 'unknown'}` };
      const data = body.data as { resultType?: string; result?: unknown } | undefined;
      if (data?.resultType === 'scalar' && Array.isArray(data.result)) {
        return { ok: true, samples: [{ labels: {}, value: Number(data.result[1]) }] };
      }
      if (data?.resultType !== 'vector' && data?.resultType !== 'matrix') {
        return { ok: false, error: `unexpected result type ${String(data?.resultType)}` };
      }
      const rows = (Array.isArray(data.result) ? data.result : []) as { metric?: Record<string, string>; value?: [number, string] }[];
      return { ok: true, samples: rows.map((r) => ({ labels: r.metric ?? {}, value: Number(r.value?.[1]) })) };
    },
  };
}
