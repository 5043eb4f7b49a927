import type { ServerResponse } from 'node:http';

/**
 * Fan-out of server-sent events with a bounded queue per client. A client whose socket stops
 * draining accumulates events in its own queue; past the bound it is disconnected (it reconnects
 * and resumes by Last-Event-ID), so one slow reader never holds memory or slows the others.
 */

export interface SseMessage {
  event: string;
  data: unknown;
  /** `ts:variant` for snapshots. */
  id?: string;
}

export function formatSse(msg: SseMessage): string {
  const json = JSON.stringify(msg.data, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
  return `${msg.id !== undefined ? `id: ${msg.id}\n` : ''}event: ${msg.event}\ndata: ${json}\n\n`;
}

export interface SseHubOptions {
  /** Most events a client may have waiting before it is dropped. */
  maxQueue: number;
  heartbeatMs: number;
  onDrop?: () => void;
  onCount?: (n: number) => void;
}

class SseClient {
  private readonly queue: string[] = [];
  private waitingDrain = false;
  /** While replaying history, live events wait here (in order) without counting as slow. */
  private holding: string[] | null = [];
  closed = false;

  constructor(
    readonly res: ServerResponse,
    private readonly hub: SseHub,
  ) {
    res.on('drain', () => {
      this.waitingDrain = false;
      this.flush();
    });
  }

  send(chunk: string): void {
    if (this.closed) return;
    if (this.holding) {
      this.holding.push(chunk);
      if (this.holding.length > this.hub.opts.maxQueue) this.hub.drop(this);
      return;
    }
    this.queue.push(chunk);
    if (this.queue.length > this.hub.opts.maxQueue) {
      this.hub.drop(this);
      return;
    }
    this.flush();
  }

  /** Ends the replay phase: held live events follow, minus those `skip` says were replayed. */
  release(skip: (chunk: string) => boolean): void {
    const held = this.holding ?? [];
    this.holding = null;
    for (const c of held) if (!skip(c)) this.send(c);
  }

  private flush(): void {
    while (!this.waitingDrain && this.queue.length > 0 && !this.closed) {
      const ok = this.res.write(this.queue.shift()!);
      if (!ok) this.waitingDrain = true;
    }
  }
}

export class SseHub {
  private readonly clients = new Set<SseClient>();
  private readonly timer: NodeJS.Timeout;

  constructor(readonly opts: SseHubOptions) {
    this.timer = setInterval(() => this.broadcastRaw(': heartbeat\n\n'), opts.heartbeatMs);
    this.timer.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Registers a response already answered with event-stream headers; events are held until release(). */
  attach(res: ServerResponse): SseClient {
    const client = new SseClient(res, this);
    this.clients.add(client);
    this.opts.onCount?.(this.clients.size);
    const gone = () => this.remove(client);
    res.on('close', gone);
    res.on('error', gone);
    return client;
  }

  broadcast(msg: SseMessage): void {
    this.broadcastRaw(formatSse(msg));
  }

  private broadcastRaw(chunk: string): void {
    for (const c of [...this.clients]) c.send(chunk);
  }

  drop(client: SseClient): void {
    if (client.closed) return;
    this.opts.onDrop?.();
    this.remove(client);
    client.res.destroy();
  }

  private remove(client: SseClient): void {
    client.closed = true;
    if (this.clients.delete(client)) this.opts.onCount?.(this.clients.size);
  }

  close(): void {
    clearInterval(this.timer);
    for (const c of [...this.clients]) {
      this.remove(c);
      c.res.end();
    }
  }
}

export type { SseClient };
