import type { SharedBudget, SharedLimits, SharedStatus, SharedWindowCounts } from '../limits/redis-budget.js';
import type { Channel } from './channel.js';
import type { WindowVerdict } from './budget-host.js';

/** A token is asked for on the request path: the primary answers in well under a millisecond. */
const TOKEN_TIMEOUT_MS = 1000;
/** After a failure the budget is local for this long, then one call tries the primary again. */
const RETRY_AFTER_MS = 1000;

/**
 * The limiter's shared budget in a worker of PROXY_WORKERS without REDIS_URL: the same
 * protocol as RedisBudget, held by the primary process (budget-host.ts) and reached over the
 * cluster IPC link. A call that fails or times out makes the budget local for a second (the
 * caller falls back to its own bucket, as with Redis down) and is counted by the channel.
 */
export class IpcBudget implements SharedBudget {
  private downUntil = 0;

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
    return this.ask<number>('takeToken', { rate, burst }, TOKEN_TIMEOUT_MS);
  }

  async drainBucket(): Promise<void> {
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

  private async ask<T>(op: 'takeToken' | 'drainBucket' | 'readShared' | 'writeShared' | 'closeWindow', body: unknown, timeoutMs: number): Promise<T | undefined> {
    try {
      return await this.channel.call<T>(op, body, timeoutMs);
    } catch {
      this.downUntil = Date.now() + RETRY_AFTER_MS;
      return undefined;
    }
  }
}
