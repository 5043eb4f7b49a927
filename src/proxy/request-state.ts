import { performance } from 'node:perf_hooks';
import type { Abortable } from './deadline.js';

/** Per-request timings and facts, filled in as the request moves through the pipeline. */
export class RequestState {
  /** The upstream call of the attempt in flight, stopped if the client goes away. */
  upstreamCall: Abortable | undefined;
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
  /** REQUEST_TIMEOUT passed before the answer was committed. */
  deadlineHit = false;
  /** The upstream stream broke after it reached the client: the proxy cut the transfer itself. */
  streamFailed = false;
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
    this.upstreamCall?.abort();
    this.controller?.abort();
  }
}
