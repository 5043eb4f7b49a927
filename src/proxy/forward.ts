import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import type { Logger } from '../log/logger.js';
import { AdmissionRejected, type Admission, type AttemptOutcome, type Permit } from '../limits/admission.js';
import { classifyUpstreamError, ZAI_ERROR_TABLE, type UpstreamError, type ZaiErrorClass } from '../zai/errors.js';
import { retryDelayMs } from '../zai/retry.js';
import { clientBucket } from '../metrics/labels.js';
import type { RequestMetrics } from './request-metrics.js';
import type { Accountant, Exchange } from './accountant.js';
import { BodyTooLarge, closeAfterRefusal, readRequestBody } from './body.js';
import { abortedError, UpstreamCall, type UpstreamRequest } from './upstream-call.js';
import {
  bodyBudgetExhausted,
  bodyTooLarge,
  errorBody,
  ProxyError,
  rateLimited,
  requestTimedOut,
  unauthorized,
  upstreamTimeout,
  upstreamUnavailable,
} from './errors.js';
import { DeadlineTimers } from './deadline.js';
import { SecretRedactor } from './redact.js';
import type { KeyRing } from './keys.js';
import { BodyBudgetExhausted, type BodyBudget } from './body-budget.js';
import { clientResponseHeaderList, clientResponseHeaders, presentedKey, upstreamRequestHeaders } from './headers.js';
import type { UpstreamRoute } from './routes.js';
import type { Dialect, ErrorFacts } from '../dialects/dialect.js';
import type { Translation } from '../dialects/translation.js';
import type { RequestState } from './request-state.js';
import { errorCode } from '../lib/error-code.js';
import { clientDeadline, NO_RETRY } from './client-hints.js';
import { twoDecimals } from '../lib/two-decimals.js';
import { isRecord, parseJson } from '../lib/json.js';
import { requestFacts } from './request-facts.js';

export interface Upstream {
  readonly dispatcher: Dispatcher;
  /** Path prefix of the configured base URL, e.g. `/api/paas/v4`. */
  readonly basePath: string;
}

export interface ForwarderOptions {
  upstreams: { openai: Upstream; anthropic: Upstream };
  apiKey: string | undefined;
  clientKeys: KeyRing;
  maxBodyBytes: number;
  /** Bytes of request bodies held at once across all requests (MAX_HELD_BODY_BYTES). */
  bodyBudget: BodyBudget;
  maxRetries: number;
  /** First backoff step (RETRY_BASE_DELAY); see retryDelayMs. */
  retryBaseDelayMs?: number;
  /** Total deadline of a request until its answer is committed, retries included (REQUEST_TIMEOUT). */
  requestTimeoutMs: number;
  admission: Admission | undefined;
  /** After the proxy retried, its final answer tells the client not to retry (x-should-retry: false). */
  shouldRetryFalseAfterRetries: boolean;
  /** Called with the reset time of every quota (1308/1310) answer, for opt-in pacing. */
  onQuotaExhausted?: (resetAtMs: number) => void;
}

/** Largest error body read from the upstream to classify it (and relay it unchanged). */
const ERROR_BODY_MAX = 1024 * 1024;
/** How long a broken stream's error event may wait for a slow client before the socket goes. */
const FAILED_STREAM_FLUSH_MS = 10_000;
const EMPTY = Buffer.alloc(0);
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

/**
 * What an upstream error teaches the limiter: a coded or 429 answer by its class; an uncoded
 * 5xx that the proxy retries is the platform being busy, like 1305; anything else nothing.
 */
function attemptOutcome(error: { code: string | undefined; class: ZaiErrorClass; status: number; retryable: boolean }): AttemptOutcome {
  if (error.code !== undefined || error.status === 429) return OUTCOME[error.class];
  return error.status >= 500 && error.retryable ? 'overload' : 'other_error';
}

/** A retryable failure of an attempt, before anything reached the client. */
interface AttemptFailure {
  errorType: string;
  retryReason: string;
  retryAfterMs?: number;
  cls: ZaiErrorClass | 'network' | 'truncated';
  /** Sends the final answer for this failure when no retry follows, with `extra` headers. */
  send: (extra: Readonly<Record<string, string>>) => void;
}

/** What every attempt of one client request shares. */
interface AttemptContext {
  readonly res: ServerResponse;
  readonly route: UpstreamRoute;
  readonly st: RequestState;
  readonly upstream: Upstream;
  /** The upstream request, the same for every attempt. */
  readonly request: UpstreamRequest;
  readonly exchange: Exchange;
  /** The proxy's own total deadline (REQUEST_TIMEOUT), epoch of performance.now(). */
  readonly deadlineAt: number;
  /** Sends one of the proxy's own error answers. */
  readonly reject: (e: ProxyError) => void;
}

/** How an attempt ended: what it taught the limiter, and the failure a retry may replace. */
interface Attempted {
  readonly outcome: AttemptOutcome;
  readonly failure?: AttemptFailure;
}

export class Forwarder {
  private readonly redact: SecretRedactor;
  private readonly deadlines = new DeadlineTimers();

  constructor(
    private readonly opts: ForwarderOptions,
    private readonly metrics: RequestMetrics,
    private readonly accountant: Accountant,
    private readonly log: Logger,
  ) {
    this.redact = new SecretRedactor(opts.apiKey);
  }

  /** `preRead`: the body, when something before the forwarder already read it (a canary failover). */
  async forward(req: IncomingMessage, res: ServerResponse, route: UpstreamRoute, search: string, st: RequestState, preRead?: Buffer): Promise<void> {
    const presented = presentedKey(req.headers);
    if (this.opts.clientKeys.size > 0 && (presented === undefined || !this.opts.clientKeys.has(presented))) {
      req.resume();
      return this.reject(res, route, st, unauthorized());
    }

    let body: Buffer;
    try {
      body = preRead ?? (await readRequestBody(req, res, this.opts.maxBodyBytes, this.opts.bodyBudget));
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        closeAfterRefusal(req, res);
        return this.reject(res, route, st, bodyTooLarge(this.opts.maxBodyBytes));
      }
      if (err instanceof BodyBudgetExhausted) {
        closeAfterRefusal(req, res);
        return this.reject(res, route, st, bodyBudgetExhausted());
      }
      st.markClientGone();
      return; // the client went away while sending its body
    }
    st.bytesIn = body.length;
    const json = isJsonBody(req, body);
    let translationContext: unknown;
    if (route.translation) {
      // A translated request is read whole anyway.
      const requestJson = json ? parseJson(body) : undefined;
      if (isRecord(requestJson)) {
        st.model = requestJson.model;
        st.stream = requestJson.stream === true;
      }
      const translated = route.translation.request(requestJson);
      if (translated.refusal) return this.reject(res, route, st, refusal(translated.refusal));
      body = translated.body ? Buffer.from(JSON.stringify(translated.body)) : Buffer.alloc(0);
      translationContext = translated.context;
    } else if (json) {
      const facts = requestFacts(body);
      st.model = facts.model;
      st.stream = facts.stream;
    }

    const upstream = this.opts.upstreams[route.dialect.base];
    const headers = upstreamRequestHeaders(req.headers, { dropCredentials: this.opts.apiKey !== undefined, contentLength: body.length });
    if (route.translation && body.length > 0) headers['content-type'] = 'application/json';
    if (this.opts.apiKey !== undefined) route.dialect.injectKey(headers, this.opts.apiKey);
    const bucket = clientBucket(presented ?? req.socket.remoteAddress ?? '');
    const ownDeadline = st.startedAt + this.opts.requestTimeoutMs;
    const deadline = Math.min(clientDeadline(req.headers, st.startedAt), ownDeadline);
    const context: AttemptContext = {
      res,
      route,
      st,
      upstream,
      request: {
        path: upstream.basePath + route.upstreamPath + search,
        method: (route.translation?.method ?? req.method) as Dispatcher.HttpMethod,
        headers,
        body: body.length > 0 ? body : undefined,
      },
      exchange: { route, requestBody: body, st, translationContext },
      deadlineAt: ownDeadline,
      reject: (e) => this.reject(res, route, st, e),
    };

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
            const answer = rateLimited(admissionMessage(err.reason), err.retryAfterSeconds);
            if (err.reason === 'quota') Object.assign(answer.extraHeaders, NO_RETRY);
            return this.reject(res, route, st, answer);
          }
          return; // client disconnected while queued
        }
        st.waitMs += performance.now() - waitStart;
      }

      const failure = await this.attempt(context, permit);
      if (failure === undefined || st.clientGone) return;
      if (st.deadlineHit) {
        this.metrics.upstreamError('timeout');
        return this.reject(res, route, st, requestTimedOut(this.opts.requestTimeoutMs));
      }

      this.metrics.upstreamError(failure.errorType);
      const final = attempt > 0 && this.opts.shouldRetryFalseAfterRetries ? NO_RETRY : {};
      if (attempt >= this.opts.maxRetries) return failure.send(final);
      const delay = retryDelayMs(attempt + 1, { class: failure.cls, retryAfterMs: failure.retryAfterMs }, Math.random, { baseMs: this.opts.retryBaseDelayMs });
      // A retry that cannot start before the client gives up only turns a clear answer into a
      // timeout on its side: relay what the upstream said instead.
      if (performance.now() + delay > deadline) return failure.send(final);
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
   * error) was sent to the client, or a stream to it began, or the failure when nothing
   * reached the client yet and a retry may be made. The permit is released with what the
   * attempt taught the limiter: a stream's when it ends.
   */
  private async attempt(a: AttemptContext, permit: Permit | undefined): Promise<AttemptFailure | undefined> {
    const { st } = a;
    const sentAt = performance.now();
    if (sentAt >= a.deadlineAt) {
      permit?.release('network_error');
      st.deadlineHit = true;
      return networkFailure(abortedError(), a.reject);
    }
    // The headers and body timeouts are the pool's (UpstreamPools): the same for every request.
    const call = new UpstreamCall(a.upstream.dispatcher, a.request);
    const deadline = this.deadlines.arm(a.deadlineAt, call);
    st.upstreamCall = call;
    if (st.clientGone) call.abort();
    const end = (outcome: AttemptOutcome) => {
      st.upstreamCall = undefined;
      st.deadlineHit = deadline.expired;
      deadline.clear();
      permit?.release(outcome);
    };
    let outcome: AttemptOutcome = 'network_error';
    let streaming = false;
    try {
      try {
        await call.head();
      } catch (err) {
        st.upstreamMs += performance.now() - sentAt;
        return networkFailure(err, a.reject);
      }
      if (call.statusCode < 400 && isEventStream(call.headers['content-type'])) {
        const failure = await this.streamStart(a, call, sentAt);
        if (failure) return failure;
        deadline.clear();
        // From here the stream ends the attempt itself, from undici's callbacks.
        this.relayStream(a, call, sentAt, end);
        streaming = true;
        return undefined;
      }
      const done = call.statusCode >= 400 ? await this.upstreamFailed(a, call, sentAt) : await this.relayWhole(a, call, sentAt);
      outcome = done.outcome;
      return done.failure;
    } finally {
      if (!streaming) end(outcome);
    }
  }

  /** An upstream error answer: relayed at once, or held as a failure that a retry may replace. */
  private async upstreamFailed(a: AttemptContext, call: UpstreamCall, sentAt: number): Promise<Attempted> {
    const { res, route, st } = a;
    const status = call.statusCode;
    const errBody = await call.readAll(ERROR_BODY_MAX).catch(() => Buffer.alloc(0));
    st.upstreamMs += performance.now() - sentAt;
    const error = classifyUpstreamError(status, call.headers, errBody.subarray(0, 64 * 1024), Date.now());
    const outcome = attemptOutcome(error);
    this.metrics.zaiError(error);
    st.errorClass = error.code !== undefined ? error.class : undefined;
    if (error.retryable && !st.clientGone) {
      const failure: AttemptFailure = {
        errorType: String(status),
        retryReason: error.class,
        retryAfterMs: error.retryAfterMs,
        cls: error.class,
        send: (extra) => this.relayError(res, route, st, call, errBody, error, extra),
      };
      return { outcome, failure };
    }
    this.relayError(res, route, st, call, errBody, error, {});
    return { outcome };
  }

  /** A whole (non-streaming) answer: read, accounted, translated if the route asks, sent. */
  private async relayWhole(a: AttemptContext, call: UpstreamCall, sentAt: number): Promise<Attempted> {
    const { res, route, st, exchange } = a;
    const status = call.statusCode;
    let payload: Buffer;
    try {
      payload = await call.readAll(RESPONSE_BODY_MAX);
    } catch (err) {
      st.upstreamMs += performance.now() - sentAt;
      return { outcome: 'network_error', failure: truncatedFailure(err, 'truncated_response', a.reject) };
    }
    const answeredAt = performance.now();
    st.upstreamMs += answeredAt - sentAt;
    if (payload.length === 0 && route.consumes && status === 200) {
      return { outcome: 'network_error', failure: truncatedFailure(undefined, 'truncated_response', a.reject) };
    }
    const outHeaders = clientResponseHeaderList(call.headers);
    this.redact.headerList(outHeaders);
    this.accountant.usageHeaders(exchange, payload, outHeaders);
    const answer = route.translation ? translateAnswer(route.translation, payload, exchange.translationContext) : payload;
    // Header values as strings: Node validates a number through a slower path.
    outHeaders.push('server-timing', this.serverTiming(st, answeredAt), 'content-length', String(answer.length));
    st.status = status;
    st.firstByteAt = st.lastByteAt = answeredAt;
    res.writeHead(status, outHeaders);
    res.end(answer);
    st.bytesOut = answer.length;
    this.accountant.settle(exchange, payload);
    return { outcome: 'ok' };
  }

  /**
   * Waits for a stream's first chunk. Nothing is committed to the client before it, so an
   * empty or failed stream can still be retried: its failure is returned.
   */
  private async streamStart(a: AttemptContext, call: UpstreamCall, sentAt: number): Promise<AttemptFailure | undefined> {
    let error: unknown;
    try {
      if (await call.bodyStarted()) return undefined;
    } catch (err) {
      error = err;
    }
    a.st.upstreamMs += performance.now() - sentAt;
    return truncatedFailure(error, 'empty_streaming', a.reject);
  }

  /**
   * A streamed answer from its first chunk on: every chunk is relayed as it comes, and a
   * stream that breaks ends in a visible failure, never as if complete. It runs on undici's
   * callbacks, with no request-path frame waiting on it (each would stay alive as long as the
   * stream, for every young collection to copy), and calls `end` with its outcome once.
   */
  private relayStream(a: AttemptContext, call: UpstreamCall, sentAt: number, end: (outcome: AttemptOutcome) => void): void {
    const { res, route, st, exchange } = a;
    const tap = this.accountant.streamTap(exchange);
    const translator = route.translation?.stream?.(exchange.translationContext);
    const outHeaders = clientResponseHeaderList(call.headers);
    this.redact.headerList(outHeaders);
    outHeaders.push('x-accel-buffering', 'no', 'server-timing', this.serverTiming(st));
    st.status = call.statusCode;
    res.writeHead(call.statusCode, outHeaders);
    st.firstByteAt = performance.now();
    let last: Buffer = EMPTY;
    // Relays one chunk; false when the client is not keeping up (the upstream pauses until it drains).
    const relay = (chunk: Buffer): boolean => {
      last = chunk;
      tap?.push(chunk);
      const out = translator ? translator.push(chunk) : chunk;
      st.bytesOut += out.length;
      return out.length === 0 || st.clientGone || res.write(out);
    };
    const onDrain = () => call.resume();
    res.on('drain', onDrain);
    call.flow(relay, (err) => {
      let outcome: AttemptOutcome = 'network_error';
      try {
        res.off('drain', onDrain);
        // Closed cleanly but before its end event (`[DONE]`, `message_stop`): as cut as a reset.
        const ended = err === undefined && (translator !== undefined || tap === undefined || this.accountant.streamComplete(tap));
        if (!ended && !st.clientGone) {
          this.metrics.upstreamError('stream_aborted');
          this.log.warn({ route: route.label, err: err ? errorCode(err) : 'INCOMPLETE_STREAM' }, 'upstream stream ended early');
          st.streamFailed = true;
        }
        st.lastByteAt = performance.now();
        st.upstreamMs += st.lastByteAt - sentAt;
        // A translated stream closes in its own API (a failed response); a relayed one gets its dialect's error event.
        if (st.streamFailed) failStream(res, translator ? translator.end(false) : streamErrorAfter(last, route.dialect));
        else if (!st.clientGone) res.end(translator?.end(ended));
        this.accountant.settleStream(exchange, tap);
        if (ended) outcome = 'ok';
      } catch (thrown) {
        // No request-path frame is left to catch this: what it would have done.
        this.log.error({ err: (thrown as Error).message, route: route.label }, 'request failed inside the proxy');
        res.destroy();
      } finally {
        end(outcome);
      }
    });
  }

  /** Sends an upstream error answer to the client, with the hints clients need to come back. */
  private relayError(
    res: ServerResponse,
    route: UpstreamRoute,
    st: RequestState,
    call: UpstreamCall,
    upstreamBody: Buffer,
    error: UpstreamError,
    extra: Readonly<Record<string, string>>,
  ): void {
    const headers = clientResponseHeaders(call.headers);
    this.redact.headers(headers);
    let body = this.redact.body(upstreamBody);
    if (error.code !== undefined) {
      headers['x-zai-error-class'] = error.class;
      headers['x-zai-error-code'] = error.code;
      // Quota, balance and policy answers: no retry can change them, whatever the status says.
      if (ZAI_ERROR_TABLE[error.code]?.retry === false) Object.assign(headers, NO_RETRY);
    }
    Object.assign(headers, extra);
    if (route.translation) {
      body = Buffer.from(route.translation.error(call.statusCode, body));
      headers['content-type'] = 'application/json';
    }
    if (error.class === 'quota' && error.resetAtMs !== undefined) {
      const seconds = Math.max(1, Math.ceil((error.resetAtMs - Date.now()) / 1000));
      headers['retry-after'] = String(seconds);
      headers['x-zai-rate-limit-reset'] = String(Math.ceil(error.resetAtMs / 1000));
      this.opts.onQuotaExhausted?.(error.resetAtMs);
    } else if ((call.statusCode === 429 || call.statusCode === 503) && headers['retry-after'] === undefined) {
      headers['retry-after'] = String(Math.max(1, Math.ceil((error.retryAfterMs ?? 1000) / 1000)));
    }
    Object.assign(headers, this.timing(st));
    headers['content-length'] = String(body.length);
    st.status = call.statusCode;
    st.firstByteAt = st.lastByteAt = performance.now();
    res.writeHead(call.statusCode, headers);
    res.end(body);
    st.bytesOut = body.length;
  }

  reject(res: ServerResponse, route: UpstreamRoute | undefined, st: RequestState, e: ProxyError): void {
    if (res.headersSent || st.clientGone) {
      res.destroy();
      return;
    }
    const text = errorBody(route?.translation ?? route?.dialect, e);
    st.status = e.status;
    st.bytesOut = Buffer.byteLength(text);
    res.writeHead(e.status, { 'content-type': 'application/json', 'content-length': String(st.bytesOut), ...e.extraHeaders, ...this.timing(st) });
    res.end(text);
  }

  private timing(st: RequestState): Record<string, string> {
    return { 'server-timing': this.serverTiming(st) };
  }

  private serverTiming(st: RequestState, now = performance.now()): string {
    const proxy = Math.max(0, now - st.startedAt - st.upstreamMs - st.waitMs);
    return `proxy;dur=${twoDecimals(proxy)}, upstream;dur=${twoDecimals(st.upstreamMs)}, queue;dur=${twoDecimals(st.waitMs)}`;
  }
}

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
 * The error event that tells a client of `dialect` its stream broke; `last` is the last chunk
 * relayed: if it stopped inside an event, a blank line closes that event first.
 */
function streamErrorAfter(last: Buffer, dialect: Dialect): string {
  const boundary = last.length >= 2 && last[last.length - 1] === 0x0a && last[last.length - 2] === 0x0a;
  const event = dialect.streamError('The upstream stream was interrupted before it finished; the response is incomplete.');
  return boundary ? event : `\n\n${event}`;
}

/**
 * Tells a client that its stream broke: the closing error text (so SDKs raise), then the socket
 * is destroyed instead of ending the body, so no terminating chunk is sent and plain HTTP
 * clients see an aborted transfer rather than a complete response.
 */
function failStream(res: ServerResponse, closing: string): void {
  res.write(closing, () => res.destroy());
  if (res.writableNeedDrain) {
    // A client that stopped reading must not hold the socket open forever.
    const timer = setTimeout(() => res.destroy(), FAILED_STREAM_FLUSH_MS);
    res.once('close', () => clearTimeout(timer));
  }
}

/** A translation's refusal (a request it cannot carry honestly) as the proxy's own answer. */
function refusal(e: ErrorFacts): ProxyError {
  return new ProxyError(e.status, e.type, e.message, {}, e.code);
}

/** A whole upstream answer in the client's API; a body that is not JSON translates as empty. */
function translateAnswer(translation: Translation, payload: Buffer, context: unknown): Buffer {
  return Buffer.from(JSON.stringify(translation.response(parseJson(payload), context)));
}

/** Whether the request body is read as JSON: not empty, and not declared as something else. */
function isJsonBody(req: IncomingMessage, body: Buffer): boolean {
  const type = req.headers['content-type'];
  return body.length > 0 && (type === undefined || type.includes('json'));
}

function isEventStream(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return value?.includes('text/event-stream') === true;
}

function networkFailure(err: unknown, reject: (e: ProxyError) => void): AttemptFailure {
  const code = errorCode(err);
  const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
  return {
    errorType: timeout ? 'timeout' : 'upstream_connection',
    retryReason: 'network_error',
    cls: 'network',
    send: (extra) => reject(withHeaders(timeout ? upstreamTimeout() : upstreamUnavailable(code === 'unknown' ? 'connection failed' : code), extra)),
  };
}

function truncatedFailure(err: unknown, kind: 'truncated_response' | 'empty_streaming', reject: (e: ProxyError) => void): AttemptFailure {
  return {
    errorType: err !== undefined && errorCode(err).includes('TIMEOUT') ? 'timeout' : kind,
    retryReason: kind,
    cls: 'truncated',
    send: (extra) =>
      reject(
        withHeaders(
          upstreamUnavailable(kind === 'empty_streaming' ? 'the upstream stream ended before any data' : 'the upstream response was cut short'),
          extra,
        ),
      ),
  };
}

function withHeaders(e: ProxyError, extra: Readonly<Record<string, string>>): ProxyError {
  Object.assign(e.extraHeaders, extra);
  return e;
}
