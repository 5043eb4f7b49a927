import { Agent, request } from 'undici';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import { isQuotaSample, parseQuotaResponse, type QuotaSample, type QuotaWindow } from './parse.js';
import { errorCode } from '../lib/error-code.js';

/**
 * Polls the Coding Plan quota endpoint (docs/zai.md) in the background and keeps the last good
 * sample. Observe-only: it shares nothing with the request path; pacing, when enabled,
 * listens through `onSample`.
 *
 * Secrets: the key goes into one header of one request and nowhere else; logs carry only our
 * own words, status codes and error codes; the provider's `msg` is never read out.
 */

export const QUOTA_PATH = '/api/monitor/usage/quota/limit';
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export interface QuotaPollerOptions {
  /** origin of the quota endpoint, e.g. https://api.z.ai (trailing `/` trimmed) */
  baseUrl: string;
  apiKey: string;
  intervalMs: number;
  timeoutMs: number;
  staleAfterMs: number;
  maxBodyBytes?: number;
}

export type PollResult = 'success' | 'error' | 'malformed' | 'stale';
export const POLL_RESULTS: readonly PollResult[] = ['success', 'error', 'malformed', 'stale'];

export interface QuotaViewWindow {
  window: QuotaWindow;
  limitType: string;
  usedRatio: number;
  remainingRatio: number;
  resetAt?: string;
  resetInSeconds?: number;
}

export interface QuotaView {
  enabled: true;
  level?: string;
  windows: QuotaViewWindow[];
  sampleAgeSeconds?: number;
  /** true when there is no good sample younger than the stale bound */
  stale: boolean;
  lastPoll?: { at: string; result: PollResult };
}

export class QuotaConfigError extends Error {
  override name = 'QuotaConfigError';
}

/** Why one fetch failed, in our own words (never the provider's). */
type Failure = { result: 'error' | 'malformed'; reason: string; status?: number };

type Clock = { now(): number };

/** Whole-second RFC 3339: the provider's milliseconds are noise next to a multi-hour window. */
const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export class QuotaPoller {
  private readonly url: string;
  private readonly maxBodyBytes: number;
  private readonly agent: Agent;
  private readonly clock: Clock;
  private readonly sampleListeners: Array<(s: QuotaSample) => void> = [];
  private readonly staleListeners: Array<() => void> = [];
  /** label sets currently exported, so windows that vanish from the response are removed */
  private readonly published = new Map<string, { window: QuotaWindow; limit_type: string; reset: boolean }>();
  private sample: QuotaSample | undefined;
  private lastPoll: { atMs: number; result: PollResult } | undefined;
  private staleAnnounced = false;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private readonly stopController = new AbortController();

  constructor(
    private readonly opts: QuotaPollerOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    clock?: Clock,
  ) {
    if (typeof opts.apiKey !== 'string' || opts.apiKey.trim() === '') throw new QuotaConfigError('quota polling needs an API key');
    for (const [name, v] of [
      ['intervalMs', opts.intervalMs],
      ['timeoutMs', opts.timeoutMs],
      ['staleAfterMs', opts.staleAfterMs],
    ] as const) {
      if (!(v > 0) || !Number.isFinite(v)) throw new QuotaConfigError(`quota polling ${name} must be a positive number of milliseconds`);
    }
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (!(this.maxBodyBytes > 0)) throw new QuotaConfigError('quota polling maxBodyBytes must be positive');
    let base: URL;
    try {
      base = new URL(opts.baseUrl.replace(/\/+$/, '') + QUOTA_PATH);
    } catch {
      throw new QuotaConfigError('quota polling base URL is not a URL');
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new QuotaConfigError('quota polling base URL must be http(s)');
    this.url = base.toString();
    this.clock = clock ?? Date;
    // Its own small pool: a slow quota endpoint never holds a connection the proxy path needs.
    this.agent = new Agent({ connections: 1, connect: { timeout: opts.timeoutMs }, keepAliveTimeout: Math.min(opts.intervalMs * 2, 120_000) });
    // Every outcome series exists from the start, so `increase()` sees the first one.
    for (const result of POLL_RESULTS) this.metrics.zai_proxy_quota_poll_total.inc({ result }, 0);
    clearQuotaSampleAge(metrics);
  }

  /** First poll at once, then every intervalMs after the previous one ended (never overlapping). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    const loop = async () => {
      await this.pollOnce();
      if (this.stopped) return;
      this.timer = setTimeout(loop, this.opts.intervalMs);
      this.timer.unref();
    };
    void loop();
  }

  /** Ends polling: aborts a poll in flight and closes the connection pool. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      if (this.timer) clearTimeout(this.timer);
      this.stopController.abort();
      await this.inFlight;
      await this.agent.close();
    })();
    return this.stopping;
  }

  onSample(listener: (s: QuotaSample) => void): void {
    this.sampleListeners.push(listener);
  }

  /** Called once each time the last good sample crosses the stale bound (pacing falls back then). */
  onStale(listener: () => void): void {
    this.staleListeners.push(listener);
  }

  /** One poll; a call while one is running joins it. Never throws. */
  pollOnce(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.inFlight ??= this.poll()
      .catch((err: unknown) => this.log.error({ reason: errorCode(err) }, 'quota poll crashed'))
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  view(): QuotaView {
    const now = this.clock.now();
    const view: QuotaView = { enabled: true, windows: [], stale: !this.isFresh(now) };
    const s = this.sample;
    if (s) {
      if (s.level !== undefined) view.level = s.level;
      view.sampleAgeSeconds = this.ageSeconds(now);
      for (const l of s.limits) {
        const w: QuotaViewWindow = { window: l.window, limitType: l.limitType, usedRatio: l.usedRatio, remainingRatio: l.remainingRatio };
        if (l.resetAtMs !== undefined) {
          w.resetAt = isoSeconds(l.resetAtMs);
          w.resetInSeconds = Math.max(0, Math.ceil((l.resetAtMs - now) / 1000));
        }
        view.windows.push(w);
      }
      // /metrics shows the same age as the last /health or /quota read, not only the last poll's
      this.metrics.zai_proxy_quota_sample_age_seconds.set(view.sampleAgeSeconds);
    }
    if (this.lastPoll) view.lastPoll = { at: new Date(this.lastPoll.atMs).toISOString(), result: this.lastPoll.result };
    return view;
  }

  private async poll(): Promise<void> {
    const outcome = await this.fetchSample();
    if (this.stopped && !isSampleOutcome(outcome)) return; // shutting down: an aborted poll is no outcome
    const now = this.clock.now();
    let result: PollResult;
    if (isSampleOutcome(outcome)) {
      result = 'success';
      const recovered = this.staleAnnounced;
      this.sample = outcome;
      this.staleAnnounced = false;
      this.publish(outcome);
      this.log.debug({ windows: outcome.limits.length }, 'quota poll ok');
      if (recovered) this.log.info('quota sample fresh again');
    } else {
      // A failure keeps the last good sample; once that is past the bound the poll counts as stale.
      const stale = this.sample !== undefined && !this.isFresh(now);
      result = stale ? 'stale' : outcome.result;
      this.log.warn({ result: outcome.result, reason: outcome.reason, status: outcome.status, stale }, 'quota poll failed');
      if (stale && !this.staleAnnounced) {
        this.staleAnnounced = true;
        this.log.warn({ staleAfterMs: this.opts.staleAfterMs }, 'quota sample is stale');
        for (const listener of this.staleListeners) this.safely(listener);
      }
    }
    this.lastPoll = { atMs: now, result };
    this.metrics.zai_proxy_quota_poll_total.inc({ result });
    if (this.sample) this.metrics.zai_proxy_quota_sample_age_seconds.set(this.ageSeconds(now));
    if (result === 'success') for (const listener of this.sampleListeners) this.safely(() => listener(this.sample!));
  }

  private async fetchSample(): Promise<QuotaSample | Failure> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.opts.timeoutMs), this.stopController.signal]);
    let text: string;
    try {
      const res = await request(this.url, {
        method: 'GET',
        dispatcher: this.agent,
        signal,
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
        headers: { authorization: this.opts.apiKey, accept: 'application/json', 'accept-language': 'en-US,en;q=0.9' },
      });
      // Destroying a body before its end makes undici emit an abort error: expected here.
      res.body.on('error', () => {});
      if (res.statusCode !== 200) {
        // The body of an error answer may echo account details: it is discarded unread.
        await res.body.dump({ limit: this.maxBodyBytes }).catch(() => {});
        return { result: 'error', reason: 'unexpected status', status: res.statusCode };
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > this.maxBodyBytes) {
        res.body.destroy();
        return { result: 'malformed', reason: 'response exceeds the size bound' };
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > this.maxBodyBytes) {
          res.body.destroy();
          return { result: 'malformed', reason: 'response exceeds the size bound' };
        }
        chunks.push(chunk as Buffer);
      }
      text = Buffer.concat(chunks).toString('utf8');
    } catch (err) {
      return { result: 'error', reason: errorCode(err) };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { result: 'malformed', reason: 'body is not JSON' };
    }
    const parsed = parseQuotaResponse(body, this.clock.now());
    if (isQuotaSample(parsed)) return parsed;
    return parsed.error === 'rejected' ? { result: 'error', reason: parsed.detail } : { result: 'malformed', reason: parsed.detail };
  }

  /** Gauges for each window of a good sample; series of windows that vanished are removed. */
  private publish(s: QuotaSample): void {
    const m = this.metrics;
    const next = new Map<string, { window: QuotaWindow; limit_type: string; reset: boolean }>();
    for (const l of s.limits) {
      const labels = { window: l.window, limit_type: l.limitType };
      const key = `${l.window}/${l.limitType}`;
      if (!Number.isFinite(l.usedRatio) || !Number.isFinite(l.remainingRatio)) continue;
      m.zai_proxy_quota_usage_ratio.set(labels, l.usedRatio);
      m.zai_proxy_quota_remaining_ratio.set(labels, l.remainingRatio);
      const reset = l.resetAtMs !== undefined && Number.isFinite(l.resetAtMs);
      if (reset) m.zai_proxy_quota_reset_time_seconds.set(labels, Math.floor(l.resetAtMs! / 1000));
      else if (this.published.get(key)?.reset) m.zai_proxy_quota_reset_time_seconds.remove(labels);
      next.set(key, { ...labels, reset });
    }
    for (const [key, old] of this.published) {
      if (next.has(key)) continue;
      const labels = { window: old.window, limit_type: old.limit_type };
      m.zai_proxy_quota_usage_ratio.remove(labels);
      m.zai_proxy_quota_remaining_ratio.remove(labels);
      if (old.reset) m.zai_proxy_quota_reset_time_seconds.remove(labels);
    }
    this.published.clear();
    for (const [k, v] of next) this.published.set(k, v);
  }

  /** Fresh up to and including the bound. */
  private isFresh(now: number): boolean {
    return this.sample !== undefined && now - this.sample.fetchedAtMs <= this.opts.staleAfterMs;
  }

  private ageSeconds(now: number): number {
    return Math.max(0, Math.round(now - this.sample!.fetchedAtMs)) / 1000;
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ reason: errorCode(err) }, 'quota listener threw');
    }
  }
}

/**
 * A label-less gauge starts at 0, which would read as "sampled just now". Until there is a
 * sample (or when polling is off) the age series must be absent instead.
 */
export function clearQuotaSampleAge(metrics: Metrics): void {
  metrics.zai_proxy_quota_sample_age_seconds.remove({});
}

const isSampleOutcome = (o: QuotaSample | Failure): o is QuotaSample => !('result' in o);
