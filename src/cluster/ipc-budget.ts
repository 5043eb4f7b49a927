import type { SharedBudget, SharedLimits, SharedStatus, SharedWindowCounts } from '../limits/redis-budget.js';
import type { Channel } from './channel.js';
import type { WindowVerdict } from './budget-host.js';

/** A token is asked for on the request path: the primary answers in well under a millisecond. */
const TOKEN_TIMEOUT_MS = 1000;
/** After a failure the budget is local for this long, then one call tries the primary again. */
const RETRY_AFTER_MS = 1000;
/**
 * At high rates a worker takes this much of the rate's time in tokens at once (a lease) and
 * spends them without a round trip; a lease not spent within LEASE_TTL_MS is dropped. Under
 * LEASE_MIN tokens (about 40 req/s) every token is asked for: a round trip per request costs
 * nothing at such rates and leaves no token idle in a worker.
 */
const LEASE_SECONDS = 0.05;
const LEASE_TTL_MS = 100;
const LEASE_MIN = 2;

/**
 * The limiter's shared budget in a worker of PROXY_WORKERS without REDIS_URL: the same
 * protocol as RedisBudget, held by the primary process (budget-host.ts) and reached over the
 * cluster IPC link. A call that fails or times out makes the budget local for a second (the
 * caller falls back to its own bucket, as with Redis down) and is counted by the channel.
 */
export class IpcBudget implements SharedBudget {
  private downUntil = 0;
  private leased = 0;
  private leaseExpires = 0;
  private refilling = false;

  constructor(
    private readonly channel: Channel,
    private readonly windowMs: number,
  ) {}

  get status(): SharedStatus {
    return Date.now() < this.downUntil ? 'cluster_unavailable' : 'cluster';
  }

  async connect(): Promise<void> {}
  async close(): Promise<void> {}

  async takeToken(rate: number, burst: number): Promise<number | undefined> {
    const want = Math.floor(rate * LEASE_SECONDS);
    if (want < LEASE_MIN) return this.ask<number>('takeToken', { rate, burst }, TOKEN_TIMEOUT_MS);
    if (this.takeLeased(rate)) return 0;
    const lease = await this.refill(rate, want);
    if (lease === undefined) return undefined;
    return this.takeLeased(rate) ? 0 : lease.waitMs;
  }

  /**
   * Tokens already taken from the primary's bucket, spent here without a round trip. The
   * lease is refilled ahead when half spent, so a busy worker rarely waits for it. Every token
   * still comes from the one bucket: together the workers never admit more than it gives (a
   * lease only moves a token at most LEASE_TTL_MS earlier than it would have been asked for).
   */
  takeLeased(rate: number): boolean {
    const want = Math.floor(rate * LEASE_SECONDS);
    if (want < LEASE_MIN) return false;
    const now = Date.now();
    if (now >= this.leaseExpires) this.leased = 0;
    if (this.leased >= 1) {
      this.leased--;
      if (this.leased < want / 2 && !this.refilling) void this.refill(rate, want);
      return true;
    }
    return false;
  }

  private async refill(rate: number, want: number): Promise<{ granted: number; waitMs: number } | undefined> {
    this.refilling = true;
    try {
      const lease = await this.ask<{ granted: number; waitMs: number }>(
        'takeTokens',
        { rate, want: Math.max(1, want - Math.floor(this.leased)) },
        TOKEN_TIMEOUT_MS,
      );
      if (lease && lease.granted > 0) {
        if (Date.now() >= this.leaseExpires) this.leased = 0;
        this.leased += lease.granted;
        this.leaseExpires = Date.now() + LEASE_TTL_MS;
      }
      return lease;
    } finally {
      this.refilling = false;
    }
  }

  async drainBucket(): Promise<void> {
    this.leased = 0;
    await this.ask('drainBucket', undefined, TOKEN_TIMEOUT_MS);
  }

  async readShared(): Promise<SharedLimits | undefined> {
    return this.ask<SharedLimits | undefined>('readShared', undefined, TOKEN_TIMEOUT_MS);
  }

  async writeShared(state: SharedLimits): Promise<void> {
    await this.ask('writeShared', state, TOKEN_TIMEOUT_MS);
  }

  /**
   * Hands this worker's counts to the primary, which sums every worker's for the window and,
   * a quarter window later, names the first to have asked as the one that evaluates the sum;
   * that worker runs the control law and writes the result, which the others read an eighth of
   * a window after that (RedisBudget's timing).
   */
  async closeWindow(
    windowId: number,
    counts: SharedWindowCounts & { seconds?: number },
    evaluate: (shared: SharedLimits | undefined, seconds: number) => (summed: SharedWindowCounts) => SharedLimits,
  ): Promise<SharedLimits | undefined> {
    const verdict = await this.ask<WindowVerdict>('closeWindow', { windowId, counts }, this.windowMs / 2 + TOKEN_TIMEOUT_MS);
    if (!verdict) return undefined;
    if (verdict.evaluate) {
      const next = evaluate(verdict.shared, verdict.seconds)(verdict.sums);
      await this.writeShared(next);
      return next;
    }
    return verdict.shared;
  }

  private async ask<T>(
    op: 'takeToken' | 'takeTokens' | 'drainBucket' | 'readShared' | 'writeShared' | 'closeWindow',
    body: unknown,
    timeoutMs: number,
  ): Promise<T | undefined> {
    try {
      return await this.channel.call<T>(op, body, timeoutMs);
    } catch {
      this.downUntil = Date.now() + RETRY_AFTER_MS;
      return undefined;
    }
  }
}
