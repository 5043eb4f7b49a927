import { performance } from 'node:perf_hooks';
import type { CounterChild, HistogramChild } from '../metrics/fast.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import type { UpstreamError } from '../zai/errors.js';
import type { RequestState } from './request-state.js';
import { FailureCounter } from '../lib/throttled-log.js';

/** The methods with a label of their own (index + 1); any other is `other` (0). */
const METHODS = new Map(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].map((m, i) => [m, i + 1]));

/**
 * Records the per-request metrics of the catalogue. Label children are cached so the hot path
 * does not rebuild label maps for every request, and no recording failure ever reaches the
 * request: it is counted and logged instead.
 */
export class RequestMetrics {
  /** Per route label, per (status, method) as one number: no key string is built per request. */
  private readonly children = new Map<string, Map<number, RequestChildren>>();
  private readonly failureLog = new FailureCounter();

  /** Recording failures so far (visible in /health). */
  get failures(): number {
    return this.failureLog.count;
  }

  constructor(
    private readonly m: Metrics,
    private readonly log: Logger,
  ) {}

  finish(rawMethod: string | undefined, label: string, st: RequestState): void {
    this.safely(() => {
      const methodIndex = (rawMethod !== undefined && METHODS.get(rawMethod)) || 0;
      const statusCode = st.status || 499;
      const total = (performance.now() - st.startedAt) / 1000;
      let byLabel = this.children.get(label);
      if (!byLabel) this.children.set(label, (byLabel = new Map()));
      const key = statusCode * 8 + methodIndex;
      let c = byLabel.get(key);
      if (!c) {
        const method = methodIndex === 0 ? 'other' : rawMethod!;
        const status = String(statusCode);
        c = {
          requests: this.m.zai_proxy_requests_total.labels(method, label, status),
          duration: this.m.zai_proxy_request_duration_seconds.labels(method, label, status),
          requestSize: this.m.zai_proxy_request_size_bytes.labels(method, label),
          responseSize: this.m.zai_proxy_response_size_bytes.labels(method, label, status),
          ttfb: this.m.zai_proxy_time_to_first_byte_seconds.labels(label),
          overhead: this.m.zai_proxy_overhead_seconds.labels(label),
        };
        byLabel.set(key, c);
      }
      c.requests.inc();
      c.duration.observe(total);
      c.requestSize.observe(st.bytesIn);
      c.responseSize.observe(st.bytesOut);
      if (st.firstByteAt > 0) c.ttfb.observe((st.firstByteAt - st.startedAt) / 1000);
      c.overhead.observe(Math.max(0, total * 1000 - st.upstreamMs - st.waitMs) / 1000);
    });
  }

  clientDisconnect(label: string): void {
    this.safely(() => this.m.zai_proxy_client_disconnects_total.labels(label).inc());
  }

  upstreamError(errorType: string): void {
    this.safely(() => this.m.zai_proxy_upstream_errors_total.labels(errorType).inc());
  }

  retry(reason: string): void {
    this.safely(() => this.m.zai_proxy_retry_attempts_total.labels(reason).inc());
  }

  zaiError(e: UpstreamError): void {
    if (e.code === undefined) return;
    this.safely(() => this.m.zai_proxy_zai_errors_total.labels(e.class, boundedCode(e.code!)).inc());
  }

  private safely(record: () => void): void {
    try {
      record();
    } catch (err) {
      if (this.failureLog.record()) {
        this.log.error({ err: (err as Error).message, failures: this.failures }, 'metric recording failed');
      }
    }
  }
}

interface RequestChildren {
  requests: CounterChild;
  duration: HistogramChild;
  requestSize: HistogramChild;
  responseSize: HistogramChild;
  ttfb: HistogramChild;
  overhead: HistogramChild;
}

/** Z.AI business codes are 1xxx (at most a thousand series); anything else becomes "other". */
function boundedCode(code: string): string {
  return /^1\d{3}$/.test(code) ? code : 'other';
}
