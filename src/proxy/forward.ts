import type { IncomingMessage, ServerResponse } from 'node:http';
import { EventEmitter, once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import type { Logger } from '../log/logger.js';
import { AdmissionRejected, type Admission, type AttemptOutcome, type Permit } from '../limits/admission.js';
import { classifyUpstreamError, type UpstreamError, type ZaiErrorClass } from '../zai/errors.js';
import { retryDelayMs } from '../zai/retry.js';
import { clientBucket } from '../metrics/labels.js';
import type { RequestMetrics } from './request-metrics.js';
import type { Accountant, Exchange } from './accountant.js';
import { BodyTooLarge, readAll, readRequestBody } from './body.js';
import { bodyTooLarge, errorBody, ProxyError, rateLimited, unauthorized, upstreamTimeout, upstreamUnavailable } from './errors.js';
import { clientResponseHeaders, presentedKey, upstreamRequestHeaders } from './headers.js';
import type { Route } from './routes.js';

type UpstreamRoute = Extract<Route, { kind: 'upstream' }>;

export interface Upstream {
  readonly dispatcher: Dispatcher;
  /** Path prefix of the configured base URL, e.g. `/api/paas/v4`. */
  readonly basePath: string;
}

export interface ForwarderOptions {
  upstreams: { openai: Upstream; anthropic: Upstream };
  apiKey: string | undefined;
  clientKeys: ReadonlySet<string>;
  maxBodyBytes: number;
  maxRetries: number;
  /** First backoff step (RETRY_BASE_DELAY); see retryDelayMs. */
  retryBaseDelayMs?: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  admission: Admission | undefined;
  /** Called with the reset time of every quota (1308/1310) answer, for opt-in pacing. */
  onQuotaExhausted?: (resetAtMs: number) => void;
}

/** Largest error body read from the upstream to classify it (and relay it unchanged). */
const ERROR_BODY_MAX = 1024 * 1024;
/** Largest non-streaming response the proxy will hold to read its usage. */
const RESPONSE_BODY_MAX = 256 * 1024 * 1024;

const OUTCOME: Record<ZaiErrorClass, AttemptOutcome> = {
  concurrency: 'concurrency',
  frequency: 'frequency',
  overload: 'overload',
  quota: 'other_error',
  congestion: 'other_error',
  balance: 'other_error',
  policy: 'other_error',
  unknown: 'other_error',
};

/** Per-request timings and facts, filled in as the request moves through the pipeline. */
export class RequestState {
  /** undici takes an EventEmitter as its abort signal: far cheaper than an AbortController. */
  readonly upstreamAbort = new EventEmitter();
  private controller: AbortController | undefined;
  readonly startedAt = performance.now();
  waitMs = 0;
  upstreamMs = 0;
  attempts = 0;
  status = 0;
  bytesIn = 0;
  bytesOut = 0;
  firstByteAt = 0;
  lastByteAt = 0;
  clientGone = false;
  model: unknown;
  stream = false;
  errorClass: string | undefined;

  /** An AbortSignal for waits (admission queue, backoff, backpressure), made on first need. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.clientGone) this.controller.abort();
    }
    return this.controller.signal;
  }

  /** The client went away before its answer ended: stop everything done on its behalf. */
  markClientGone(): void {
    if (this.clientGone) return;
    this.clientGone = true;
    this.upstreamAbort.emit('abort');
    this.controller?.abort();
  }
}

/** A retryable failure of an attempt, before anything reached the client. */
interface AttemptFailure {
  errorType: string;
  retryReason: string;
  retryAfterMs?: number;
  cls: ZaiErrorClass | 'network' | 'truncated';
  /** Sends the final answer for this failure when no retry follows. */
  send: () => void;
}

export class Forwarder {
  constructor(
    private readonly opts: ForwarderOptions,
    private readonly metrics: RequestMetrics,
    private readonly accountant: Accountant,
    private readonly log: Logger,
  ) {}

  async forward(req: IncomingMessage, res: ServerResponse, route: UpstreamRoute, search: string, st: RequestState): Promise<void> {
    const presented = presentedKey(req.headers);
    if (this.opts.clientKeys.size > 0 && (presented === undefined || !this.opts.clientKeys.has(presented))) {
      req.resume();
      return this.reject(res, route, st, unauthorized());
    }

    let body: Buffer;
    try {
      body = await readRequestBody(req, this.opts.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        res.setHeader('connection', 'close');
        return this.reject(res, route, st, bodyTooLarge(this.opts.maxBodyBytes));
      }
      st.markClientGone();
      return; // the client went away while sending its body
    }
    st.bytesIn = body.length;
    const requestJson = parseJsonBody(req, body);
    if (requestJson && typeof requestJson === 'object') {
      st.model = (requestJson as { model?: unknown }).model;
      st.stream = (requestJson as { stream?: unknown }).stream === true;
    }

    const upstream = this.opts.upstreams[route.base];
    const headers = upstreamRequestHeaders(req.headers, { dropCredentials: this.opts.apiKey !== undefined, contentLength: body.length });
    if (this.opts.apiKey !== undefined) route.flavour.injectKey(headers, this.opts.apiKey);
    const path = upstream.basePath + route.upstreamPath + search;
    const bucket = clientBucket(presented ?? req.socket.remoteAddress ?? '');
    const exchange: Exchange = { route, requestJson, st };
    const deadline = clientDeadline(req.headers, st.startedAt);

    for (let attempt = 0; ; attempt++) {
      st.attempts = attempt + 1;
      let permit: Permit | undefined;
      if (this.opts.admission) {
        const waitStart = performance.now();
        try {
          permit = this.opts.admission.tryAcquire(bucket) ?? (await this.opts.admission.acquire(bucket, st.signal));
        } catch (err) {
          st.waitMs += performance.now() - waitStart;
          if (err instanceof AdmissionRejected) {
            return this.reject(res, route, st, rateLimited(admissionMessage(err.reason), err.retryAfterSeconds));
          }
          return; // client disconnected while queued
        }
        st.waitMs += performance.now() - waitStart;
      }

      const failure = await this.attempt(req, res, route, path, headers, body, st, permit, exchange);
      if (failure === undefined || st.clientGone) return;

      this.metrics.upstreamError(failure.errorType);
      if (attempt >= this.opts.maxRetries) return failure.send();
      const delay = retryDelayMs(attempt + 1, { class: failure.cls, retryAfterMs: failure.retryAfterMs }, Math.random, { baseMs: this.opts.retryBaseDelayMs });
      // A retry that cannot start before the client gives up only turns a clear answer into a
      // timeout on its side: relay what the upstream said instead.
      if (performance.now() + delay > deadline) return failure.send();
      const sleptFrom = performance.now();
      try {
        await sleep(delay, undefined, { signal: st.signal });
      } catch {
        this.log.debug({ route: route.label, attempts: st.attempts }, 'client left during retry backoff; no further attempt');
        return;
      } finally {
        st.waitMs += performance.now() - sleptFrom;
      }
      // Counted here, not before the pause: the metric is retries actually made.
      this.metrics.retry(failure.retryReason);
    }
  }

  /**
   * One upstream attempt. Returns undefined when a response (success or a final upstream
   * error) was sent to the client, or the failure when nothing reached the client yet and a
   * retry may be made.
   */
  private async attempt(
    req: IncomingMessage,
    res: ServerResponse,
    route: UpstreamRoute,
    path: string,
    headers: Record<string, string>,
    body: Buffer,
    st: RequestState,
    permit: Permit | undefined,
    exchange: Exchange,
  ): Promise<AttemptFailure | undefined> {
    const upstream = this.opts.upstreams[route.base];
    const reject = (e: ProxyError) => this.reject(res, route, st, e);
    const sentAt = performance.now();
    let outcome: AttemptOutcome = 'network_error';
    let response: Dispatcher.ResponseData;
    try {
      response = await upstream.dispatcher.request({
        path,
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: body.length > 0 ? body : undefined,
        signal: st.upstreamAbort,
        headersTimeout: this.opts.headersTimeoutMs,
        bodyTimeout: this.opts.bodyTimeoutMs,
      });
    } catch (err) {
      st.upstreamMs += performance.now() - sentAt;
      permit?.release('network_error');
      return networkFailure(err, reject);
    }

    try {
      const status = response.statusCode;
      if (status >= 400) {
        const errBody = await readAll(response.body, ERROR_BODY_MAX).catch(() => Buffer.alloc(0));
        st.upstreamMs += performance.now() - sentAt;
        const error = classifyUpstreamError(status, response.headers, errBody.subarray(0, 64 * 1024), Date.now());
        outcome = error.code !== undefined || status === 429 ? OUTCOME[error.class] : 'other_error';
        this.metrics.zaiError(error);
        st.errorClass = error.code !== undefined ? error.class : undefined;
        if (error.retryable && !st.clientGone) {
          return {
            errorType: String(status),
            retryReason: error.class,
            retryAfterMs: error.retryAfterMs,
            cls: error.class,
            send: () => this.relayError(res, st, response, errBody, error),
          };
        }
        this.relayError(res, st, response, errBody, error);
        return undefined;
      }

      const streaming = isEventStream(response.headers['content-type']);
      if (!streaming) {
        let payload: Buffer;
        try {
          payload = await readAll(response.body, RESPONSE_BODY_MAX);
        } catch (err) {
          st.upstreamMs += performance.now() - sentAt;
          return truncatedFailure(err, 'truncated_response', reject);
        }
        st.upstreamMs += performance.now() - sentAt;
        if (payload.length === 0 && route.consumes && status === 200) {
          return truncatedFailure(undefined, 'truncated_response', reject);
        }
        outcome = 'ok';
        const usageHeaders = this.accountant.responseHeaders(exchange, payload);
        const outHeaders = clientResponseHeaders(response.headers);
        Object.assign(outHeaders, usageHeaders, this.timing(st));
        outHeaders['content-length'] = payload.length;
        st.status = status;
        st.firstByteAt = st.lastByteAt = performance.now();
        res.writeHead(status, outHeaders);
        res.end(payload);
        st.bytesOut = payload.length;
        this.accountant.settle(exchange, payload);
        return undefined;
      }

      // Streaming: nothing is committed until the first chunk arrives, so an empty or
      // failed stream can still be retried; after that, every chunk is relayed as it comes.
      const iterator = response.body[Symbol.asyncIterator]();
      let first: IteratorResult<Buffer>;
      try {
        first = await iterator.next();
      } catch (err) {
        st.upstreamMs += performance.now() - sentAt;
        return truncatedFailure(err, 'empty_streaming', reject);
      }
      if (first.done) {
        st.upstreamMs += performance.now() - sentAt;
        return truncatedFailure(undefined, 'empty_streaming', reject);
      }
      const tap = this.accountant.streamTap(exchange);
      const outHeaders = clientResponseHeaders(response.headers);
      outHeaders['x-accel-buffering'] = 'no';
      Object.assign(outHeaders, this.timing(st));
      st.status = status;
      res.writeHead(status, outHeaders);
      st.firstByteAt = performance.now();
      let chunk: Buffer = first.value;
      try {
        for (;;) {
          tap?.push(chunk);
          st.bytesOut += chunk.length;
          if (!res.write(chunk)) await once(res, 'drain', { signal: st.signal });
          const next = await iterator.next();
          if (next.done) break;
          chunk = next.value;
        }
        outcome = 'ok';
      } catch (err) {
        if (!st.clientGone) {
          this.metrics.upstreamError('stream_aborted');
          this.log.warn({ route: route.label, err: errorCode(err) }, 'upstream stream ended early');
        }
      }
      st.lastByteAt = performance.now();
      st.upstreamMs += st.lastByteAt - sentAt;
      if (!st.clientGone) res.end();
      this.accountant.settleStream(exchange, tap);
      return undefined;
    } finally {
      permit?.release(outcome);
    }
  }

  /** Sends an upstream error answer to the client, with the hints clients need to come back. */
  private relayError(res: ServerResponse, st: RequestState, response: Dispatcher.ResponseData, body: Buffer, error: UpstreamError): void {
    const headers = clientResponseHeaders(response.headers);
    if (error.code !== undefined) {
      headers['x-zai-error-class'] = error.class;
      headers['x-zai-error-code'] = error.code;
    }
    if (error.class === 'quota' && error.resetAtMs !== undefined) {
      const seconds = Math.max(1, Math.ceil((error.resetAtMs - Date.now()) / 1000));
      headers['retry-after'] = String(seconds);
      headers['x-zai-rate-limit-reset'] = String(Math.ceil(error.resetAtMs / 1000));
      this.opts.onQuotaExhausted?.(error.resetAtMs);
    } else if ((response.statusCode === 429 || response.statusCode === 503) && headers['retry-after'] === undefined) {
      headers['retry-after'] = String(Math.max(1, Math.ceil((error.retryAfterMs ?? 1000) / 1000)));
    }
    Object.assign(headers, this.timing(st));
    headers['content-length'] = body.length;
    st.status = response.statusCode;
    st.firstByteAt = st.lastByteAt = performance.now();
    res.writeHead(response.statusCode, headers);
    res.end(body);
    st.bytesOut = body.length;
  }

  reject(res: ServerResponse, route: UpstreamRoute | undefined, st: RequestState, e: ProxyError): void {
    if (res.headersSent || st.clientGone) {
      res.destroy();
      return;
    }
    const text = errorBody(route?.flavour, e);
    st.status = e.status;
    st.bytesOut = Buffer.byteLength(text);
    res.writeHead(e.status, { 'content-type': 'application/json', 'content-length': st.bytesOut, ...e.extraHeaders, ...this.timing(st) });
    res.end(text);
  }

  private timing(st: RequestState): Record<string, string> {
    const proxy = Math.max(0, performance.now() - st.startedAt - st.upstreamMs - st.waitMs);
    return { 'server-timing': `proxy;dur=${ms2(proxy)}, upstream;dur=${ms2(st.upstreamMs)}, queue;dur=${ms2(st.waitMs)}` };
  }
}

/** Milliseconds with two decimals (cheaper than toFixed on the request path). */
const ms2 = (ms: number) => Math.round(ms * 100) / 100;

function admissionMessage(reason: AdmissionRejected['reason']): string {
  switch (reason) {
    case 'quota':
      return 'The Z.AI usage quota for this key is exhausted until its reset; retry after the time in Retry-After.';
    case 'queue_timeout':
      return 'The request waited too long for upstream capacity; retry after the time in Retry-After.';
    default:
      return 'The proxy is at capacity (admission queue full); retry after the time in Retry-After.';
  }
}

/**
 * How long the client is willing to wait, on the performance.now() clock. The OpenAI and
 * Anthropic SDKs announce their timeout in `x-stainless-timeout` (seconds); without it there
 * is no deadline beyond the client's own disconnect.
 */
export function clientDeadline(headers: IncomingMessage['headers'], startedAt: number): number {
  const raw = headers['x-stainless-timeout'];
  const text = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (text === undefined || !/^\d+(\.\d+)?$/.test(text)) return Infinity;
  const seconds = Number(text);
  return seconds > 0 ? startedAt + seconds * 1000 : Infinity;
}

function parseJsonBody(req: IncomingMessage, body: Buffer): unknown {
  if (body.length === 0) return undefined;
  const type = req.headers['content-type'];
  if (type !== undefined && !type.includes('json')) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined; // not ours to judge: the upstream answers malformed requests
  }
}

function isEventStream(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return value !== undefined && value.includes('text/event-stream');
}

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown };
  return typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : 'unknown';
}

function networkFailure(err: unknown, reject: (e: ProxyError) => void): AttemptFailure {
  const code = errorCode(err);
  const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
  return {
    errorType: timeout ? 'timeout' : 'upstream_connection',
    retryReason: 'network_error',
    cls: 'network',
    send: () => reject(timeout ? upstreamTimeout() : upstreamUnavailable(code === 'unknown' ? 'connection failed' : code)),
  };
}

function truncatedFailure(err: unknown, kind: 'truncated_response' | 'empty_streaming', reject: (e: ProxyError) => void): AttemptFailure {
  return {
    errorType: err !== undefined && errorCode(err).includes('TIMEOUT') ? 'timeout' : kind,
    retryReason: kind,
    cls: 'truncated',
    send: () => reject(upstreamUnavailable(kind === 'empty_streaming' ? 'the upstream stream ended before any data' : 'the upstream response was cut short')),
  };
}
