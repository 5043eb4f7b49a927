/**
 * The in-flight limit: AIMD on Z.AI's 1302 ("too many concurrent requests for this key").
 * Pure; the admission shell feeds it each attempt's outcome.
 *
 * - Decrease: on 1302, limit ← max(1, min(limit − 1, ⌈limit / 2⌉)): halve from high values,
 *   step down by one near the bottom (2 → 1, 3 → 2), where halving would overshoot.
 *   A burst of 1302s answered to one generation of in-flight requests is one signal, not
 *   many: after a decrease, further 1302s are ignored until `limit` more attempts have
 *   completed at the new limit.
 * - Increase: +1 after `growAfter(limit)` consecutive clean completions (no 1302 in
 *   between), so a limit that just found the key's real concurrency climbs past it rarely
 *   (each test costs one 1302, which the proxy retries after a short pause).
 * - Bounds: [1, maxWorkers].
 */
export type ConcurrencyOutcome = 'ok' | 'concurrency' | 'other';

export class ConcurrencyLimit {
  private current: number;
  private cleanStreak = 0;
  private completionsSinceDecrease = Infinity;

  constructor(
    private readonly maxWorkers: number,
    initial = maxWorkers,
  ) {
    this.current = clampInt(initial, 1, maxWorkers);
  }

  get limit(): number {
    return this.current;
  }

  /** Completions needed at a limit before trying one more slot. */
  static growAfter(limit: number): number {
    return Math.max(8, 4 * limit);
  }

  /** Records one finished attempt; returns the direction the limit moved, if any. */
  record(outcome: ConcurrencyOutcome): 'increase' | 'decrease' | undefined {
    this.completionsSinceDecrease++;
    if (outcome === 'concurrency') {
      this.cleanStreak = 0;
      if (this.completionsSinceDecrease <= this.current || this.current === 1) return undefined;
      this.current = Math.max(1, Math.min(this.current - 1, Math.ceil(this.current / 2)));
      this.completionsSinceDecrease = 0;
      return 'decrease';
    }
    if (outcome !== 'ok') return undefined;
    this.cleanStreak++;
    if (this.cleanStreak >= ConcurrencyLimit.growAfter(this.current) && this.current < this.maxWorkers) {
      this.current++;
      this.cleanStreak = 0;
      return 'increase';
    }
    return undefined;
  }

  restore(limit: number): void {
    this.current = clampInt(limit, 1, this.maxWorkers);
    this.cleanStreak = 0;
    this.completionsSinceDecrease = Infinity;
  }

  reset(): void {
    this.restore(this.maxWorkers);
  }
}

function clampInt(v: number, lo: number, hi: number): number {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.floor(v))) : hi;
}
