import { performance } from 'node:perf_hooks';
import type { FastHistogram } from '../metrics/fast.js';
import type { Logger } from '../log/logger.js';
import { promptText } from '../accounting/estimate.js';
import type { TokenCounter } from '../accounting/token-counter.js';
import { StreamUsageReader } from '../accounting/stream-usage.js';
import { usageFromResponseBody, type TokenUsage } from '../accounting/usage.js';
import type { UsageRecorder, UsageSource } from '../accounting/recorder.js';
import type { ModelLabels } from '../metrics/labels.js';
import type { RequestState } from './request-state.js';
import type { HeaderList } from './headers.js';
import type { UpstreamRoute } from './routes.js';
import type { Dialect } from '../dialects/dialect.js';
import { FailureCounter } from '../lib/throttled-log.js';
import { isRecord, parseJson } from '../lib/json.js';

/** One request and its answer, as the accountant sees them. */
export interface Exchange {
  readonly route: UpstreamRoute;
  /** The request body as sent upstream (translated, on a translated route); parsed only to estimate its prompt. */
  readonly requestBody: Buffer;
  /** What a translated route's answer translation needs to know about the request. */
  readonly translationContext?: unknown;
  readonly st: RequestState;
  /** Usage read from a non-streaming body (cached between header building and settling). */
  usage?: TokenUsage;
  source?: UsageSource;
}

/**
 * Turns finished exchanges into token and cost metrics: upstream usage first, a local
 * estimate only when the upstream reported none (and counting is enabled). All of it runs
 * after the answer is on its way, and nothing here may throw into the request path.
 */
export class Accountant {
  private readonly failureLog = new FailureCounter();

  /** Accounting failures so far (visible in /health). */
  get failures(): number {
    return this.failureLog.count;
  }

  constructor(
    private readonly recorder: UsageRecorder,
    private readonly countDuration: FastHistogram,
    private readonly models: ModelLabels,
    /** Counts tokens for an estimate; undefined when counting is off (TOKEN_COUNTING_ENABLED). */
    private readonly tokens: TokenCounter | undefined,
    private readonly log: Logger,
  ) {}

  /** Adds the usage headers of a non-streaming answer to `into`; reads the usage once for settle() too. */
  usageHeaders(ex: Exchange, payload: Buffer, into: HeaderList): void {
    if (!ex.route.readsUsage) return;
    try {
      ex.usage = usageFromResponseBody(ex.route.dialect.usage, payload);
    } catch (err) {
      this.failed(err);
    }
    if (!ex.usage) {
      if (ex.route.consumes && this.tokens) into.push('x-zai-proxy-usage-source', 'estimated');
      return;
    }
    ex.source = 'reported';
    into.push(
      'x-zai-proxy-input-tokens',
      String(ex.usage.input + ex.usage.cacheRead + ex.usage.cacheWrite),
      'x-zai-proxy-output-tokens',
      String(ex.usage.output),
      'x-zai-proxy-usage-source',
      'reported',
    );
  }

  /** Records a non-streaming exchange. */
  settle(ex: Exchange, payload: Buffer): void {
    if (ex.st.status >= 300) return;
    if (ex.usage) return this.record(ex, ex.usage, 'reported');
    if (!ex.route.consumes) return;
    if (!this.tokens) return this.record(ex, undefined, 'none');
    void this.estimate(ex, this.tokens, () => completionText(ex.route.dialect, payload));
  }

  /** A reader that watches a stream as it is relayed, for consuming routes only. */
  streamTap(ex: Exchange): StreamUsageReader | undefined {
    if (!ex.route.readsUsage) return undefined;
    try {
      return new StreamUsageReader(ex.route.dialect.streamEvents, { collectText: this.tokens !== undefined && ex.route.consumes });
    } catch (err) {
      this.failed(err);
      return undefined;
    }
  }

  /**
   * Whether a relayed stream reached its end event (`[DONE]`, `message_stop`). A reader that
   * fails counts as complete: the proxy's bookkeeping never turns a stream into a failure.
   */
  streamComplete(tap: StreamUsageReader): boolean {
    try {
      return tap.finish().complete;
    } catch (err) {
      this.failed(err);
      return true;
    }
  }

  /**
   * Records a streamed exchange. A stream cut mid-way is counted once, with whatever usage
   * arrived; when none did, its partial output is estimated like any stream without usage.
   */
  settleStream(ex: Exchange, tap: StreamUsageReader | undefined): void {
    if (!tap) return;
    let result: ReturnType<StreamUsageReader['finish']>;
    try {
      result = tap.finish();
    } catch (err) {
      return this.failed(err);
    }
    if (result.usage) return this.record(ex, result.usage, 'reported');
    if (!ex.route.consumes) return;
    if (!this.tokens) return this.record(ex, undefined, 'none');
    void this.estimate(ex, this.tokens, () => result.outputText);
  }

  private async estimate(ex: Exchange, tokens: TokenCounter, outputText: () => string): Promise<void> {
    try {
      const started = performance.now();
      const [input, output] = await Promise.all([tokens.count(promptText(parseJson(ex.requestBody))), tokens.count(outputText())]);
      this.countDuration.observe((performance.now() - started) / 1000);
      this.record(ex, { input, output, cacheRead: 0, cacheWrite: 0 }, 'estimated');
    } catch (err) {
      this.failed(err);
    }
  }

  private record(ex: Exchange, usage: TokenUsage | undefined, source: UsageSource): void {
    const st = ex.st;
    const ok = this.recorder.record({
      model: this.models.label(st.model),
      usage,
      source,
      ttfbSeconds: st.firstByteAt > 0 ? (st.firstByteAt - st.startedAt) / 1000 : undefined,
      generationSeconds: st.stream && st.lastByteAt > st.firstByteAt ? (st.lastByteAt - st.firstByteAt) / 1000 : undefined,
    });
    if (!ok) this.failed(new Error('usage recording failed'));
  }

  private failed(err: unknown): void {
    if (this.failureLog.record()) {
      this.log.error({ err: (err as Error)?.message, failures: this.failures }, 'token accounting failed');
    }
  }
}

/** The generated text of a non-streaming answer, for estimating its output tokens. */
function completionText(dialect: Dialect, payload: Buffer): string {
  try {
    const json: unknown = JSON.parse(payload.toString('utf8'));
    return isRecord(json) ? dialect.completionText(json) : '';
  } catch {
    return '';
  }
}
