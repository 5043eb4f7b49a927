import type { WindowCounts } from './ceiling-estimator.js';

/** What one upstream attempt ended as, for the limiter. */
export type AttemptOutcome = 'ok' | 'frequency' | 'concurrency' | 'overload' | 'other_error' | 'network_error';

/** A closed window's counts, every field present (what replicas sum in Redis, plus its length). */
export type ClosedWindow = Required<WindowCounts>;

/**
 * One limiter window's accounting: outcomes counted as they arrive, and the time traffic
 * actually flowed. Pure: time is passed in, nothing is scheduled here.
 *
 * Rates are measured over the time traffic flowed: a window that began idle counts from its
 * first admission, or a burst arriving late in a window would read as a low accepted rate. A
 * window touched for less than half its length is too short to judge: close() returns nothing
 * and its counts carry into the next window.
 */
export class WindowAccount {
  private ok = 0;
  private limited = 0;
  private overloaded = 0;
  private busy = 0;
  /** Someone waited for a rate token (not a concurrency slot) in this window. */
  private queued = false;
  /** When this window's traffic began; undefined while idle. */
  private activeFrom: number | undefined;

  /** An attempt was admitted at `now`. */
  admitted(now: number): void {
    this.activeFrom ??= now;
  }

  /** A client had to wait for a rate token. */
  waitedForToken(): void {
    this.queued = true;
  }

  record(outcome: AttemptOutcome): void {
    if (outcome === 'ok') this.ok++;
    else if (outcome === 'frequency') this.limited++;
    else if (outcome === 'overload') this.overloaded++;
    else if (outcome === 'concurrency') this.busy++;
  }

  /**
   * Ends the window at `now`: its counts, or undefined when it was too short to judge (they
   * carry on). `busy`: work is in flight or waiting, so the next window is active from `now`.
   */
  close(now: number, windowMs: number, busy: boolean): ClosedWindow | undefined {
    const activeFrom = this.activeFrom ?? now;
    const answers = this.ok + this.limited + this.overloaded;
    if (now - activeFrom < windowMs / 2 && answers > 0) return undefined;
    const counts: ClosedWindow = {
      ok: this.ok,
      limited: this.limited,
      overloaded: this.overloaded,
      busy: this.busy,
      seconds: (now - activeFrom) / 1000,
      queued: this.queued,
    };
    this.clear(now, busy);
    return counts;
  }

  /** Forgets the current window's counts (a reset). */
  clear(now: number, busy: boolean): void {
    this.ok = this.limited = this.overloaded = this.busy = 0;
    this.queued = false;
    this.activeFrom = busy ? now : undefined;
  }
}

/** More than half of the window's rate-relevant answers were refusals. */
export function mostlyRefused(c: { ok: number; limited: number }): boolean {
  return c.limited > c.ok;
}

/** More than 5 % of the window's answers were refusals of any kind: the upstream is pushing back. */
export function upstreamRefusing(c: ClosedWindow): boolean {
  const refused = c.limited + c.overloaded + c.busy;
  return refused > 0.05 * (c.ok + refused);
}
