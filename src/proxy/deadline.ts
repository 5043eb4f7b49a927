import { performance } from 'node:perf_hooks';

/** What a deadline stops when it passes. */
export interface Abortable {
  abort(): void;
}

/**
 * The proxy's own total deadline for one request (REQUEST_TIMEOUT), measured from arrival on
 * the performance.now() clock. Every attempt, and the backoff between attempts, must fit
 * inside it, so retries cannot multiply the per-attempt timeouts. It covers the time until
 * the answer is committed to the client: a whole non-streaming response, or a stream's first
 * chunk. Once a stream is flowing only the idle-between-chunks timeout applies, so a long
 * generation is never cut for being long.
 *
 * Armed through DeadlineTimers, which keeps every pending deadline behind one timer.
 */
export class AttemptDeadline {
  /** The deadline passed while this attempt was in flight, and aborted it. */
  expired = false;
  /** Expired or cleared: nothing is left to do. */
  settled = false;

  constructor(
    readonly atMs: number,
    private target: Abortable | undefined,
    private readonly owner: DeadlineTimers,
  ) {}

  /** The answer is committed (or the attempt is over): the deadline no longer applies. */
  clear(): void {
    if (this.settled) return;
    this.settled = true;
    this.target = undefined; // a cleared entry may wait in the queue: it must not hold the call
    this.owner.cleared();
  }

  /** Called by the timers once `atMs` has passed. */
  fire(): void {
    this.settled = true;
    this.expired = true;
    this.target?.abort();
    this.target = undefined;
  }
}

/** Past this many cleared entries (and half the queue), the queue is rebuilt without them. */
const COMPACT_AFTER = 64;

/**
 * Every attempt deadline of one proxy behind a single timer. A Node timer per attempt costs a
 * timer list of its own (each deadline is a distinct fractional delay) and its insertion and
 * removal on every request; here arming is an append (deadlines arrive nearly in order, since
 * each is arrival + REQUEST_TIMEOUT) and clearing sets a flag. Cleared entries are dropped
 * when the timer passes them or when they outnumber the live ones.
 */
export class DeadlineTimers {
  private queue: AttemptDeadline[] = [];
  private head = 0;
  private clearedCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  /** A deadline at `atMs` (performance.now() epoch) that aborts `target` when it passes. */
  arm(atMs: number, target: Abortable): AttemptDeadline {
    const deadline = new AttemptDeadline(atMs, target, this);
    if (atMs <= performance.now()) {
      deadline.fire();
      return deadline;
    }
    const q = this.queue;
    let i = q.length;
    q.push(deadline);
    // A retried attempt of an older request can fall due before newer ones: keep the order.
    while (i > this.head && q[i - 1]!.atMs > atMs) {
      q[i] = q[i - 1]!;
      i--;
    }
    q[i] = deadline;
    if (atMs < this.timerAt) this.schedule(atMs);
    return deadline;
  }

  /** Deadlines still pending. */
  get pending(): number {
    return this.queue.length - this.head - this.clearedCount;
  }

  /** Entries held, cleared ones not yet dropped included (bounded by compaction). */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** One deadline was cleared before it fell due. */
  cleared(): void {
    this.clearedCount++;
    const live = this.queue.length - this.head;
    if (this.clearedCount > COMPACT_AFTER && this.clearedCount * 2 > live) {
      this.queue = this.queue.slice(this.head).filter((d) => !d.settled);
      this.head = 0;
      this.clearedCount = 0;
    }
  }

  private schedule(atMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = atMs;
    this.timer = setTimeout(this.onTimer, Math.max(1, Math.ceil(atMs - performance.now())));
    this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const q = this.queue;
    while (this.head < q.length) {
      const d = q[this.head]!;
      if (!d.settled && d.atMs > now) break;
      this.head++;
      if (d.settled) this.clearedCount--;
      else d.fire();
    }
    if (this.head === q.length) {
      this.queue = [];
      this.head = 0;
    } else this.schedule(q[this.head]!.atMs);
  };
}
