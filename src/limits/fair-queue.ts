/**
 * Waiters for admission, fair across a fixed number of client buckets: one FIFO per bucket,
 * served round-robin, so one busy client cannot starve the others. Every waiter is also on a
 * global arrival list, whose head is always the oldest waiter (for queue timeouts). Removal of
 * any waiter (client gone, timed out) is O(1): the lists are intrusive and doubly linked.
 */
export interface QueueNode<T> {
  readonly value: T;
  readonly bucket: number;
  readonly enqueuedAt: number;
  /** @internal */ bPrev: QueueNode<T> | undefined;
  /** @internal */ bNext: QueueNode<T> | undefined;
  /** @internal */ aPrev: QueueNode<T> | undefined;
  /** @internal */ aNext: QueueNode<T> | undefined;
  /** @internal */ queued: boolean;
}

export class FairQueue<T> {
  private readonly heads: (QueueNode<T> | undefined)[];
  private readonly tails: (QueueNode<T> | undefined)[];
  private oldest: QueueNode<T> | undefined;
  private newest: QueueNode<T> | undefined;
  private cursor = 0;
  private count = 0;

  constructor(readonly buckets: number) {
    this.heads = new Array<QueueNode<T> | undefined>(buckets).fill(undefined);
    this.tails = new Array<QueueNode<T> | undefined>(buckets).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  /** The longest-waiting entry, whatever its bucket. */
  peekOldest(): QueueNode<T> | undefined {
    return this.oldest;
  }

  push(value: T, bucket: number, nowMs: number): QueueNode<T> {
    const b = ((bucket % this.buckets) + this.buckets) % this.buckets;
    const node: QueueNode<T> = {
      value,
      bucket: b,
      enqueuedAt: nowMs,
      bPrev: this.tails[b],
      bNext: undefined,
      aPrev: this.newest,
      aNext: undefined,
      queued: true,
    };
    if (this.tails[b]) this.tails[b]!.bNext = node;
    else this.heads[b] = node;
    this.tails[b] = node;
    if (this.newest) this.newest.aNext = node;
    else this.oldest = node;
    this.newest = node;
    this.count++;
    return node;
  }

  /** Takes the head of the next non-empty bucket at or after the cursor, then moves past it. */
  shift(): QueueNode<T> | undefined {
    if (this.count === 0) return undefined;
    for (let i = 0; i < this.buckets; i++) {
      const b = (this.cursor + i) % this.buckets;
      const node = this.heads[b];
      if (node) {
        this.remove(node);
        this.cursor = (b + 1) % this.buckets;
        return node;
      }
    }
    return undefined;
  }

  /** Removes a waiter wherever it is; false when it had already left. */
  remove(node: QueueNode<T>): boolean {
    if (!node.queued) return false;
    node.queued = false;
    const b = node.bucket;
    if (node.bPrev) node.bPrev.bNext = node.bNext;
    else this.heads[b] = node.bNext;
    if (node.bNext) node.bNext.bPrev = node.bPrev;
    else this.tails[b] = node.bPrev;
    if (node.aPrev) node.aPrev.aNext = node.aNext;
    else this.oldest = node.aNext;
    if (node.aNext) node.aNext.aPrev = node.aPrev;
    else this.newest = node.aPrev;
    node.bPrev = node.bNext = node.aPrev = node.aNext = undefined;
    this.count--;
    return true;
  }
}
