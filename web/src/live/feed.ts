import type { HelloEvent, StatusEvent, VariantSnapshot } from '../../../src/dashboard/model.js';
import { type ConnectionEvent, type ConnectionState, initialConnection, nextConnection } from './connection.js';

/** The parts of EventSource the feed uses, so tests can hand in a fake. */
export interface EventSourceLike {
  onopen: ((ev: Event) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  addEventListener(type: string, listener: (ev: MessageEvent) => void): void;
  close(): void;
}

export interface FeedIo {
  open(url: string): EventSourceLike;
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface FeedHandlers {
  hello(ev: HelloEvent): void;
  snapshot(ev: VariantSnapshot): void;
  status(ev: StatusEvent): void;
  /** Called on every (re)connection after the first, so the caller can backfill the gap from history. */
  reconnected(): void;
  state(state: ConnectionState): void;
}

const parse = <T>(ev: MessageEvent): T | null => {
  try {
    return JSON.parse(String(ev.data)) as T;
  } catch {
    return null; // a malformed event is dropped; the next scrape brings a whole snapshot anyway
  }
};

/**
 * Owns one EventSource at a time. On error it closes it (so the browser's own fixed-interval
 * retry does not run alongside ours) and reconnects on the backoff schedule. The id of the last
 * snapshot seen is sent as `lastEventId` on reconnect, since a new EventSource cannot set the
 * Last-Event-ID header itself; history backfill covers anything the server cannot replay.
 */
export class LiveFeed {
  private source: EventSourceLike | null = null;
  private timer: unknown = null;
  private state: ConnectionState = initialConnection;
  private lastEventId: string | null = null;
  private everOpened = false;

  constructor(
    private readonly url: string,
    private readonly io: FeedIo,
    private readonly on: FeedHandlers,
  ) {}

  start(): void {
    this.connect();
  }

  stop(): void {
    this.clearTimer();
    this.source?.close();
    this.source = null;
    this.dispatch({ type: 'close' });
  }

  retryNow(): void {
    if (this.state.kind === 'open' || this.state.kind === 'closed') return;
    this.clearTimer();
    this.source?.close();
    this.dispatch({ type: 'retry-now' });
    this.connect();
  }

  current(): ConnectionState {
    return this.state;
  }

  private dispatch(ev: ConnectionEvent): void {
    const next = nextConnection(this.state, ev);
    if (next !== this.state) {
      this.state = next;
      this.on.state(next);
    }
  }

  private connect(): void {
    const url = this.lastEventId ? `${this.url}${this.url.includes('?') ? '&' : '?'}lastEventId=${encodeURIComponent(this.lastEventId)}` : this.url;
    const es = this.io.open(url);
    this.source = es;
    es.onopen = () => {
      if (this.source !== es) return;
      this.dispatch({ type: 'open', nowMs: this.io.now() });
      if (this.everOpened) this.on.reconnected();
      this.everOpened = true;
    };
    es.onerror = () => {
      if (this.source !== es) return;
      es.close();
      this.source = null;
      this.dispatch({ type: 'error', nowMs: this.io.now(), reason: 'connection lost' });
      if (this.state.kind === 'waiting') {
        this.timer = this.io.setTimeout(
          () => {
            this.timer = null;
            this.dispatch({ type: 'retry-due' });
            this.connect();
          },
          Math.max(0, this.state.retryAtMs - this.io.now()),
        );
      }
    };
    es.addEventListener('hello', (ev) => {
      const hello = parse<HelloEvent>(ev);
      if (hello) this.on.hello(hello);
    });
    es.addEventListener('snapshot', (ev) => {
      const snap = parse<VariantSnapshot>(ev);
      if (!snap) return;
      if (ev.lastEventId) this.lastEventId = ev.lastEventId;
      this.on.snapshot(snap);
    });
    es.addEventListener('status', (ev) => {
      const status = parse<StatusEvent>(ev);
      if (status) this.on.status(status);
    });
  }

  private clearTimer(): void {
    if (this.timer !== null) this.io.clearTimeout(this.timer);
    this.timer = null;
  }
}
