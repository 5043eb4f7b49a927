/**
 * The simulator's own admission rules, kept free of I/O so they can be reasoned about
 * window by window with an injected clock.
 */

/**
 * A true request-rate ceiling: at most `rps` admitted requests in any sliding window of
 * `windowMs`. Rejected requests do not count, so a client hammering past the ceiling still
 * gets exactly `rps` through per window, which is what a rate-inferring proxy must discover.
 */
export class SlidingWindowCeiling {
  private readonly admitted: number[] = [];
  private head = 0;

  tryAdmit(now: number, rps: number, windowMs: number): boolean {
    const cutoff = now - windowMs;
    while (this.head < this.admitted.length && this.admitted[this.head]! <= cutoff) this.head++;
    // Compact now and then so the array stays bounded by the ceiling.
    if (this.head > 1024 && this.head * 2 > this.admitted.length) {
      this.admitted.splice(0, this.head);
      this.head = 0;
    }
    if (this.admitted.length - this.head >= rps) return false;
    this.admitted.push(now);
    return true;
  }

  reset(): void {
    this.admitted.length = 0;
    this.head = 0;
  }
}

/**
 * Gated streams: each chunk waits for one release credit. Credits given before anyone
 * waits are kept, so a test can release first and read later without a race.
 */
export class ChunkGate {
  private credits = 0;
  private readonly waiters: Array<() => void> = [];

  release(n = 1): void {
    for (let i = 0; i < n; i++) {
      const next = this.waiters.shift();
      if (next) next();
      else this.credits++;
    }
  }

  /** Resolves when a credit is available; `abandon()` drops the wait (client went away). */
  acquire(): { ready: Promise<void>; abandon: () => void } {
    if (this.credits > 0) {
      this.credits--;
      return { ready: Promise.resolve(), abandon: () => {} };
    }
    let wake!: () => void;
    const ready = new Promise<void>((resolve) => (wake = resolve));
    this.waiters.push(wake);
    return {
      ready,
      abandon: () => {
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
        wake();
      },
    };
  }

  /** Wakes every waiter (shutdown) and forgets stored credits. */
  drain(): void {
    for (const w of this.waiters.splice(0)) w();
    this.credits = 0;
  }
}
