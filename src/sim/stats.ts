/** What the simulator saw, so tests can assert retries, aborts and which credential arrived. */
export interface SimStats {
  /** Every request except the control endpoint. */
  requests: number;
  /** Keyed by request path without query, e.g. `/api/paas/v4/chat/completions`. */
  byRoute: Record<string, number>;
  /** `ok`, a Z.AI code (`1302`, `1303`, `1308`, …), `401`, `404`, or `fault:<kind>`. */
  byOutcome: Record<string, number>;
  /** Admitted generation calls (chat/completions, messages) not yet finished, open streams included. */
  inFlight: number;
  maxInFlight: number;
  /** Content and reasoning delta chunks written (framing events are not counted). */
  chunksSent: number;
  /** Requests whose client went away before the response ended. */
  clientAborts: number;
  /** Test-only: the last auth header names and values seen per route path. Never log this. */
  lastAuth: Record<string, { authorization?: string; 'x-api-key'?: string }>;
  /** Headers of the last request (lower-cased, auth headers removed). */
  lastHeaders: Record<string, string>;
  /** Parsed JSON body of the last request that had one. */
  lastBody: unknown;
  /** Query string of the last request, without the `?` ('' when none). */
  lastQuery: string;
}

export function emptyStats(): SimStats {
  return {
    requests: 0,
    byRoute: {},
    byOutcome: {},
    inFlight: 0,
    maxInFlight: 0,
    chunksSent: 0,
    clientAborts: 0,
    lastAuth: {},
    lastHeaders: {},
    lastBody: undefined,
    lastQuery: '',
  };
}

export class SimTimeoutError extends Error {
  override name = 'SimTimeoutError';
}

/**
 * Holds the counters and tells waiters on every change, so tests await a condition
 * (`s.inFlight === 3`) instead of sleeping or polling on a timer.
 */
export class StatsBook {
  /** Counters; `lastHeaders` and `lastAuth` in here are filled only by `view()`. */
  current: SimStats = emptyStats();
  private readonly listeners = new Set<() => void>();
  // Raw header lists are kept as node gave them and decoded only when someone looks, so the
  // benchmark baseline does not pay for header bookkeeping on every request.
  private lastRaw: string[] = [];
  private readonly rawByPath = new Map<string, string[]>();

  changed(): void {
    if (this.listeners.size === 0) return;
    for (const l of [...this.listeners]) l();
  }

  bump(record: Record<string, number>, key: string): void {
    record[key] = (record[key] ?? 0) + 1;
  }

  outcome(key: string): void {
    this.bump(this.current.byOutcome, key);
    this.changed();
  }

  /** `rawHeaders` as node's IncomingMessage has it: name, value, name, value… */
  headers(path: string, rawHeaders: string[]): void {
    this.lastRaw = rawHeaders;
    this.rawByPath.set(path, rawHeaders);
  }

  reset(): void {
    // In-flight work is still running; keep its count so the gauge never goes negative.
    const inFlight = this.current.inFlight;
    this.current = emptyStats();
    this.current.inFlight = inFlight;
    this.current.maxInFlight = inFlight;
    this.lastRaw = [];
    this.rawByPath.clear();
    this.changed();
  }

  /** The live counters with the header fields decoded (not a copy: do not keep it). */
  view(): SimStats {
    const headers: Record<string, string> = {};
    for (let i = 0; i + 1 < this.lastRaw.length; i += 2) {
      const name = this.lastRaw[i]!.toLowerCase();
      if (name === 'authorization' || name === 'x-api-key') continue;
      headers[name] = name in headers ? `${headers[name]}, ${this.lastRaw[i + 1]}` : this.lastRaw[i + 1]!;
    }
    const auth: SimStats['lastAuth'] = {};
    for (const [path, raw] of this.rawByPath) {
      const entry: { authorization?: string; 'x-api-key'?: string } = {};
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const name = raw[i]!.toLowerCase();
        if (name === 'authorization' || name === 'x-api-key') entry[name] = raw[i + 1]!;
      }
      auth[path] = entry;
    }
    this.current.lastHeaders = headers;
    this.current.lastAuth = auth;
    return this.current;
  }

  snapshot(): SimStats {
    return structuredClone(this.view());
  }

  waitFor(predicate: (s: SimStats) => boolean, timeoutMs = 5000): Promise<SimStats> {
    return new Promise((resolve, reject) => {
      if (predicate(this.view())) return resolve(this.snapshot());
      const check = () => {
        if (!predicate(this.view())) return;
        done();
        resolve(this.snapshot());
      };
      const timer = setTimeout(() => {
        done();
        reject(new SimTimeoutError(`simulator condition not met within ${timeoutMs} ms; stats: ${JSON.stringify(this.summary())}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  /** The counters without the recorded credentials, safe for an error message. */
  private summary(): Omit<SimStats, 'lastAuth' | 'lastHeaders' | 'lastBody'> {
    const { lastAuth: _a, lastHeaders: _h, lastBody: _b, ...rest } = this.current;
    return rest;
  }
}
