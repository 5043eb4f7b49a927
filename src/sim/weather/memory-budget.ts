import type { Clock } from '../../limits/clock.js';
import { addCounts, NO_COUNTS, type SharedBudget, type SharedLimits, type SharedWindowCounts } from '../../limits/redis-budget.js';
import { TokenBucket } from '../../limits/token-bucket.js';

/**
 * What Redis holds for replicas sharing a key, in memory on the harness's clock: one token
 * bucket, per-window sums, the learned state. The window protocol is Redis's: each replica adds
 * its counts, waits a quarter window for the others, and the first to ask then evaluates.
 */
export class MemoryStore {
  /** The key's one bucket, made by the first token asked for. */
  bucket: TokenBucket | undefined;
  state: SharedLimits | undefined;
  readonly windows = new Map<number, { sums: SharedWindowCounts; seconds: number; evaluated: boolean }>();
  constructor(readonly clock: Clock) {}
}

export class MemoryBudget implements SharedBudget {
  readonly status = 'redis' as const;

  constructor(
    private readonly store: MemoryStore,
    private readonly windowMs: number,
  ) {}

  async connect(): Promise<void> {}
  async close(): Promise<void> {}

  /** Admission asks with burstFor(rate), which TokenBucket applies itself. */
  async takeToken(rate: number): Promise<number> {
    const now = this.store.clock.now();
    const bucket = (this.store.bucket ??= new TokenBucket(rate, now));
    bucket.setRate(rate, now);
    if (bucket.tryTake(now)) return 0;
    const wait = bucket.msUntilToken(now);
    return Number.isFinite(wait) ? wait : 1000;
  }

  async drainBucket(): Promise<void> {
    this.store.bucket?.drain(this.store.clock.now());
  }

  async readShared(): Promise<SharedLimits | undefined> {
    return this.store.state && structuredClone(this.store.state);
  }

  async writeShared(state: SharedLimits): Promise<void> {
    this.store.state = structuredClone(state);
  }

  async closeWindow(
    windowId: number,
    counts: SharedWindowCounts & { seconds?: number },
    evaluate: (shared: SharedLimits | undefined, seconds: number) => (summed: SharedWindowCounts) => SharedLimits,
  ): Promise<SharedLimits | undefined> {
    const windows = this.store.windows;
    const w = windows.get(windowId) ?? { sums: NO_COUNTS, seconds: 0, evaluated: false };
    windows.set(windowId, w);
    w.sums = addCounts(w.sums, counts);
    w.seconds = Math.max(w.seconds, counts.seconds ?? this.windowMs / 1000);
    await this.pause(this.windowMs / 4);
    if (!w.evaluated) {
      w.evaluated = true;
      windows.delete(windowId - 10);
      this.store.state = evaluate(await this.readShared(), w.seconds)(w.sums);
      return this.readShared();
    }
    await this.pause(this.windowMs / 8);
    return this.readShared();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.store.clock.setTimeout(resolve, ms));
  }
}
