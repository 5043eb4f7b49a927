/**
 * A token bucket with an adjustable rate. Burst is one second's worth of tokens (at least 1):
 * enough to absorb arrival jitter, small enough that a refilled bucket cannot push the
 * upstream's own per-second accounting far over its ceiling.
 */
export function burstFor(rate: number): number {
  return rate > 0 ? Math.max(1, Math.floor(rate)) : 0;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  private burst: number;

  constructor(
    private rate: number,
    nowMs: number,
  ) {
    this.burst = burstFor(rate);
    this.tokens = this.burst;
    this.last = nowMs;
  }

  private refill(nowMs: number): void {
    if (nowMs > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.last) / 1000) * this.rate);
    }
    this.last = Math.max(this.last, nowMs);
  }

  /** Takes one token if there is one. */
  tryTake(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Milliseconds until one token is available (Infinity at rate 0). */
  msUntilToken(nowMs: number): number {
    this.refill(nowMs);
    if (this.tokens >= 1) return 0;
    if (this.rate <= 0) return Infinity;
    return Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  /** Changes the rate; tokens earned so far are kept (clipped to the new burst). */
  setRate(rate: number, nowMs: number): void {
    this.refill(nowMs);
    this.rate = rate;
    this.burst = burstFor(rate);
    this.tokens = Math.min(this.tokens, this.burst);
  }

  /** Forgets saved tokens: the next one is earned at the current rate. */
  drain(nowMs: number): void {
    this.refill(nowMs);
    this.tokens = Math.min(this.tokens, 0);
  }

  /** A fresh, full bucket. */
  reset(rate: number, nowMs: number): void {
    this.rate = rate;
    this.burst = burstFor(rate);
    this.tokens = this.burst;
    this.last = nowMs;
  }
}
