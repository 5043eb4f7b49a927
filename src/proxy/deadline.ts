import type { EventEmitter } from 'node:events';

/**
 * The proxy's own total deadline for one request (REQUEST_TIMEOUT), measured from arrival on
 * the performance.now() clock. Every attempt, and the backoff between attempts, must fit
 * inside it, so retries cannot multiply the per-attempt timeouts. It covers the time until
 * the answer is committed to the client: a whole non-streaming response, or a stream's first
 * chunk. Once a stream is flowing only the idle-between-chunks timeout applies, so a long
 * generation is never cut for being long.
 */
export class AttemptDeadline {
  private timer: NodeJS.Timeout | undefined;
  /** The deadline passed while this attempt was in flight, and aborted it. */
  expired = false;

  /** Arms the timer for one attempt; `abort` is the emitter the upstream request listens to. */
  constructor(atMs: number, abort: EventEmitter) {
    const left = atMs - performance.now();
    if (left <= 0) {
      this.expired = true;
      return;
    }
    this.timer = setTimeout(() => {
      this.expired = true;
      abort.emit('abort');
    }, left);
  }

  /** The answer is committed (or the attempt is over): the deadline no longer applies. */
  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
