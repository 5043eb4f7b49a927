/**
 * The in-flight limit: AIMD on Z.AI's 1302 ("too many concurrent requests for this key").
 * Pure; the admission shell feeds it each attempt's outcome.
 *
 * - Evidence: a 1302 answered while fewer than half the limit were in flight says another user
 *   of the key is busy, not that our limit is too high: it is ignored (outside a recovery).
 *   A burst of 1302s answered to one generation of in-flight requests is one signal, not many:
 *   after a decrease, further 1302s are ignored until `limit` more attempts have completed.
 * - Decrease: limit ← max(1, min(limit − 1, ⌈limit / 2⌉)): halve from high values, step down
 *   by one near the bottom (2 → 1, 3 → 2), where halving would overshoot.
 * - Memory: `proven` is the highest limit that ran clean for a while. After a decrease the limit
 *   climbs back to it in three steps, one per clean generation (`limit` clean completions); a
 *   1302 during that climb proves the key's limit fell, and proven follows.
 * - Increase past proven: +1 after `growAfter(limit)` consecutive clean completions, so a limit
 *   that found the key's real concurrency climbs past it rarely (each test costs one 1302,
 *   which the proxy retries after a short pause).
 * - Bounds: [1, maxWorkers].
 */
export type ConcurrencyOutcome = 'ok' | 'concurrency' | 'other';

const RECOVERY_STEPS = 3;

export class ConcurrencyLimit {
  private current: number;
  private cleanStreak = 0;
  private completionsSinceDecrease = Infinity;
  private proven = 0;
  /** Slots added per clean generation while climbing back to proven; 0 when not recovering. */
  private recoveryStep = 0;

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

  /** Records one finished attempt (`inFlight`: attempts in flight when it was answered, itself included). */
  record(outcome: ConcurrencyOutcome, inFlight = this.current): 'increase' | 'decrease' | undefined {
    this.completionsSinceDecrease++;
    if (outcome === 'concurrency') {
      this.cleanStreak = 0;
      if (this.completionsSinceDecrease <= this.current || this.current === 1) return undefined;
      const recovering = this.recoveryStep > 0;
      if (!recovering && inFlight < this.current / 2) return undefined;
      if (recovering) this.proven = this.current;
      this.current = Math.max(1, Math.min(this.current - 1, Math.ceil(this.current / 2)));
      this.recoveryStep = this.proven > this.current ? Math.ceil((this.proven - this.current) / RECOVERY_STEPS) : 0;
      this.completionsSinceDecrease = 0;
      return 'decrease';
    }
    if (outcome !== 'ok') return undefined;
    this.cleanStreak++;
    if (this.recoveryStep > 0 && this.cleanStreak >= this.current) {
      this.current = Math.min(this.proven, this.current + this.recoveryStep);
      if (this.current >= this.proven) this.recoveryStep = 0;
      this.cleanStreak = 0;
      return 'increase';
    }
    if (this.cleanStreak >= ConcurrencyLimit.growAfter(this.current)) {
      this.proven = Math.max(this.proven, this.current);
      this.cleanStreak = 0;
      if (this.current < this.maxWorkers) {
        this.current++;
        return 'increase';
      }
    }
    return undefined;
  }

  restore(limit: number): void {
    this.current = clampInt(limit, 1, this.maxWorkers);
    this.proven = this.current;
    this.recoveryStep = 0;
    this.cleanStreak = 0;
    this.completionsSinceDecrease = Infinity;
  }

  reset(): void {
    this.restore(this.maxWorkers);
    this.proven = 0;
  }
}

function clampInt(v: number, lo: number, hi: number): number {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.floor(v))) : hi;
}
