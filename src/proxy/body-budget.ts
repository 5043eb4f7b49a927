/**
 * A global bound on the request bodies the proxy holds in memory at once (MAX_HELD_BODY_BYTES).
 * Every body is kept whole until its request ends, because retries resend it; without a bound,
 * many large requests waiting in the admission queue add up to unbounded memory. A request
 * whose body does not fit is refused (503 with Retry-After) before more of it is read: the
 * budget frees itself as requests finish, so the client can come back shortly.
 */
export class BodyBudget {
  private heldBytes = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes held right now by requests in flight. */
  get held(): number {
    return this.heldBytes;
  }

  /** Takes `n` bytes if they fit; false (nothing taken) otherwise. */
  take(n: number): boolean {
    if (this.heldBytes + n > this.maxBytes) return false;
    this.heldBytes += n;
    return true;
  }

  give(n: number): void {
    this.heldBytes -= n;
  }
}

export class BodyBudgetExhausted extends Error {}
