import type { IncomingHttpHeaders } from 'node:http';
import { type Dispatcher, util } from 'undici';
import { BodyTooLarge } from './body.js';

/** What an attempt sends upstream. */
export interface UpstreamRequest {
  path: string;
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

type Waiter = { ready: () => boolean; resolve: () => void; reject: (err: Error) => void };

/** The error an aborted call fails with (undici's own code for an aborted request). */
export function abortedError(): Error {
  return Object.assign(new Error('Request aborted'), { code: 'UND_ERR_ABORTED' });
}

/**
 * One upstream request, driven through undici's dispatch API with this object as its handler.
 * `request()` would wrap every answer in a Readable stream and listen to an abort signal,
 * which together cost more than the rest of the proxy's request path; here the answer's
 * chunks go straight to whoever consumes them:
 *
 * - `head()` waits for the status and headers;
 * - `readAll(max)` gathers a whole body (error bodies, non-streaming answers);
 * - `bodyStarted()` waits for the first chunk of a stream (nothing is committed to the client
 *   before it), then `flow(sink, done)` hands every chunk to `sink` as it arrives, pausing the
 *   upstream socket while `sink` says the client is not keeping up, until `resume()`, and
 *   calls `done` when the body ends or fails. A callback, not a promise: a stream can last
 *   minutes, and whoever awaited it would keep its suspended frame alive all that time.
 *
 * `abort()` stops the call at any point (client gone, deadline passed); whatever waits then
 * fails with the abort error, as it does with any network failure.
 *
 * It implements undici's first handler callbacks (onConnect, onHeaders, onData, onComplete,
 * onError; marked deprecated in its types, served by its dispatchers unchanged). A handler of
 * the newer ones is wrapped in two adapter objects per request that keep every raw header
 * buffer of the answer for as long as it lasts: with 200 streams in flight that was two
 * thirds of what each call kept alive, copied by every young collection and then promoted.
 */
export class UpstreamCall implements Dispatcher.DispatchHandler {
  statusCode = 0;
  headers: IncomingHttpHeaders = {};
  /** undici's way to stop this request; undefined once it ended. */
  private abortUpstream: ((err?: Error) => void) | undefined;
  /** undici's way to read again after onData said to pause. */
  private resumeUpstream: (() => void) | undefined;
  private paused = false;
  private started = false;
  private ended = false;
  private failure: Error | undefined;
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  /** Past this many buffered bytes the call fails with BodyTooLarge (readAll). */
  private limit = Number.POSITIVE_INFINITY;
  private sink: ((chunk: Buffer) => boolean) | undefined;
  /** Told when a flowing body ends (no argument) or fails. */
  private done: ((err?: Error) => void) | undefined;
  private waiter: Waiter | undefined;

  /** Sends `request` on `dispatcher`. */
  constructor(dispatcher: Dispatcher, request: UpstreamRequest) {
    dispatcher.dispatch(request, this);
  }

  /** Resolves once the status and headers are in. */
  head(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.started) return Promise.resolve();
    return this.waitFor(() => this.started);
  }

  /** The whole body, failing with BodyTooLarge past `max` bytes. */
  readAll(max: number): Promise<Buffer> {
    this.limit = max;
    if (this.bytes > max) this.abort(new BodyTooLarge());
    const gather = (): Buffer => (this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes));
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(gather());
    return this.waitFor(() => this.ended).then(gather);
  }

  /**
   * True once the body's first chunk is in (it stays buffered for `flow`), false if the body
   * ended empty; fails if the call failed before then, even with chunks buffered.
   */
  async bodyStarted(): Promise<boolean> {
    if (this.chunks.length === 0 && !this.failure && !this.ended) await this.waitFor(() => this.chunks.length > 0 || this.ended);
    if (this.failure) throw this.failure;
    return this.chunks.length > 0;
  }

  /**
   * Hands every chunk to `sink` (buffered ones first), then calls `done` once: with
   * nothing when the body ended, with the error when it failed (at once if it already did).
   * A sink that returns false pauses the upstream until `resume()`. Neither may throw into
   * undici: a sink that throws aborts the call; `done` must catch what it raises.
   */
  flow(sink: (chunk: Buffer) => boolean, done: (err?: Error) => void): void {
    while (this.chunks.length > 0 && !this.failure) if (!this.deliver(sink, this.take())) this.pause();
    this.sink = sink;
    if (this.failure) done(this.failure);
    else if (this.ended) done();
    else this.done = done;
  }

  /** Stops reading from the upstream until `resume()` (the client is not keeping up). */
  pause(): void {
    this.paused = true;
  }

  /** Reads from the upstream again after a pause. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.resumeUpstream?.();
  }

  /** Stops the call; what waits on it fails with `reason`. */
  abort(reason: Error = abortedError()): void {
    if (this.ended || this.failure) return;
    this.fail(reason);
    const abort = this.abortUpstream;
    this.abortUpstream = undefined;
    abort?.(reason);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.failure) abort(this.failure);
  }

  /** Returns false to pause reading, as onData does. */
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    this.resumeUpstream = resume;
    this.statusCode = statusCode;
    this.headers = util.parseHeaders(rawHeaders) as IncomingHttpHeaders;
    this.started = true;
    this.wakeUp();
    return !this.paused;
  }

  /** Returns false while the consumer is not keeping up: undici pauses until resume(). */
  onData(chunk: Buffer): boolean {
    if (this.failure) return true;
    if (this.sink) {
      if (!this.deliver(this.sink, chunk)) this.paused = true;
      return !this.paused;
    }
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes > this.limit) this.abort(new BodyTooLarge());
    else this.wakeUp();
    return !this.paused;
  }

  onComplete(): void {
    this.abortUpstream = undefined;
    this.resumeUpstream = undefined;
    if (this.failure) return;
    this.ended = true;
    this.tellDone();
    this.wakeUp();
  }

  onError(err: Error): void {
    this.abortUpstream = undefined;
    this.resumeUpstream = undefined;
    if (this.ended || this.failure) return;
    this.fail(err);
  }

  /** The oldest buffered chunk (there is one). */
  private take(): Buffer {
    const chunk = this.chunks.shift()!;
    this.bytes -= chunk.length;
    return chunk;
  }

  private deliver(sink: (chunk: Buffer) => boolean, chunk: Buffer): boolean {
    try {
      return sink(chunk);
    } catch (err) {
      // A body already in whole is not aborted, but it failed all the same.
      if (this.ended) this.fail(err as Error);
      else this.abort(err as Error);
      return true;
    }
  }

  private fail(err: Error): void {
    this.failure = err;
    this.tellDone(err);
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }

  /** Calls the flow's `done`, once. */
  private tellDone(err?: Error): void {
    const done = this.done;
    this.done = undefined;
    done?.(err);
  }

  private wakeUp(): void {
    const w = this.waiter;
    if (!w?.ready()) return;
    this.waiter = undefined;
    w.resolve();
  }

  /** One consumer waits at a time: head, then a body reader. */
  private waitFor(ready: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiter = { ready, resolve, reject };
    });
  }
}
