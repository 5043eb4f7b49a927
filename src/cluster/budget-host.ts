import { addCounts, NO_COUNTS, type SharedLimits, type SharedWindowCounts } from '../limits/redis-budget.js';
import { TokenBucket } from '../limits/token-bucket.js';

/** What the primary answers a worker closing a window (ipc-budget.ts). */
export type WindowVerdict =
  | { evaluate: true; shared: SharedLimits | undefined; seconds: number; sums: SharedWindowCounts }
  | { evaluate: false; shared: SharedLimits | undefined };

interface Window {
  sums: SharedWindowCounts;
  seconds: number;
  evaluated: boolean;
}

/**
 * What Redis holds for replicas (redis-budget.ts), held in the primary process for the
 * workers of PROXY_WORKERS: one token bucket for the key, the per-window sums of every
 * worker's outcomes, and the learned state one worker evaluates and all adopt. So N workers
 * together admit what one process would, under one learned ceiling.
 */
export class BudgetHost {
  private bucket: TokenBucket | undefined;
  private state: SharedLimits | undefined;
  private readonly windows = new Map<number, Window>();
  /** Told every state a worker writes (the primary saves the proven ceiling from it). */
  onWrite: (state: SharedLimits) => void = () => undefined;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts from limits learned before (the state file), which every worker adopts at start. */
  seed(state: SharedLimits): void {
    this.state = state;
  }

  /** 0 when a token is taken, else ms until one may be (RedisBudget's script, in memory). */
  takeToken(body: unknown): number {
    const { rate, burst } = body as { rate: number; burst: number };
    const now = this.now();
    const bucket = (this.bucket ??= new TokenBucket(rate, now));
    // Workers ask with the rate they hold; after a window all hold the same one.
    bucket.setRate(rate, now);
    void burst; // burstFor(rate), which the bucket applies itself
    if (bucket.tryTake(now)) return 0;
    const wait = bucket.msUntilToken(now);
    return Number.isFinite(wait) ? wait : 1000;
  }

  /**
   * Up to `want` tokens at once (at least one when one is there), for a worker's lease:
   * `{ granted }`, or `{ granted: 0, waitMs }` until the next token.
   */
  takeTokens(body: unknown): { granted: number; waitMs: number } {
    const { rate, want } = body as { rate: number; want: number };
    const now = this.now();
    const bucket = (this.bucket ??= new TokenBucket(rate, now));
    bucket.setRate(rate, now);
    let granted = 0;
    while (granted < want && bucket.tryTake(now)) granted++;
    if (granted > 0) return { granted, waitMs: 0 };
    const wait = bucket.msUntilToken(now);
    return { granted: 0, waitMs: Number.isFinite(wait) ? wait : 1000 };
  }

  drainBucket(): void {
    this.bucket?.drain(this.now());
  }

  readShared(): SharedLimits | undefined {
    return this.state;
  }

  writeShared(body: unknown): void {
    this.state = body as SharedLimits;
    this.onWrite(this.state);
  }

  /** Adds one worker's counts; answers after a quarter window (the first asker evaluates) or three eighths. */
  async closeWindow(body: unknown): Promise<WindowVerdict> {
    const { windowId, counts } = body as { windowId: number; counts: SharedWindowCounts & { seconds?: number } };
    const w = this.windows.get(windowId) ?? { sums: NO_COUNTS, seconds: 0, evaluated: false };
    this.windows.set(windowId, w);
    this.windows.delete(windowId - 10);
    w.sums = addCounts(w.sums, counts);
    w.seconds = Math.max(w.seconds, counts.seconds ?? this.windowMs / 1000);
    await pause(this.windowMs / 4);
    if (!w.evaluated) {
      w.evaluated = true;
      return { evaluate: true, shared: this.state, seconds: w.seconds, sums: w.sums };
    }
    await pause(this.windowMs / 8);
    return { evaluate: false, shared: this.state };
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
