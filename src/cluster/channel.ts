/**
 * Requests and answers over a node:cluster IPC link, in both directions (a worker asks the
 * primary for a token; the primary asks a worker for its metrics). Every call has a deadline:
 * an answer that does not come is a failure the caller handles, never a hang, and every
 * failure is reported to `onFailure` (which counts it) before the caller sees it.
 */

import type { IpcPurpose } from '../metrics/labels.js';

export const TAG = 'zai-proxy:cluster';

export type Op =
  | 'takeToken'
  | 'takeTokens'
  | 'drainBucket'
  | 'readShared'
  | 'writeShared'
  | 'closeWindow'
  | 'metrics'
  | 'health'
  | 'collectMetrics'
  | 'collectHealth'
  | 'drain'
  | 'fatal';

/** The bounded label a failed message is counted under. */
export function purposeOf(op: Op): IpcPurpose {
  if (op === 'metrics' || op === 'collectMetrics') return 'metrics';
  if (op === 'health' || op === 'collectHealth') return 'health';
  if (op === 'drain' || op === 'fatal') return 'drain';
  return 'budget';
}

interface Request {
  tag: typeof TAG;
  id: number;
  op: Op;
  body?: unknown;
}
interface Answer {
  tag: typeof TAG;
  re: number;
  body?: unknown;
  error?: string;
}

type Handler = (body: unknown) => unknown;

export class Channel {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout; op: Op }>();
  /** Called once per failed call or answer, with what it was for. */
  onFailure: (op: Op) => void = () => undefined;

  constructor(
    /** process.send or worker.send; the callback reports a link that is gone (never thrown). */
    private readonly send: (message: unknown, done: (err: Error | null) => void) => void,
    private readonly handlers: Partial<Record<Op, Handler>> = {},
  ) {}

  /** Asks the other side; rejects after `timeoutMs` or when the link is gone. */
  call<T>(op: Op, body: unknown, timeoutMs: number): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, new Error(`${op}: no answer in ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, op });
      this.post({ tag: TAG, id, op, body } satisfies Request, (err) => this.settle(id, err));
    });
  }

  /** Tells the other side something that needs no answer. */
  notify(op: Op, body?: unknown): void {
    this.post({ tag: TAG, id: 0, op, body } satisfies Request, () => this.onFailure(op));
  }

  /** Feeds one message from the link; messages that are not ours are ignored. */
  receive(message: unknown): void {
    if (!message || typeof message !== 'object' || (message as { tag?: unknown }).tag !== TAG) return;
    if ('re' in message) {
      const a = message as Answer;
      this.settle(a.re, a.error !== undefined ? new Error(a.error) : undefined, a.body);
      return;
    }
    const r = message as Request;
    const handler = this.handlers[r.op];
    if (!handler) return;
    if (r.id === 0) {
      try {
        handler(r.body);
      } catch {
        this.onFailure(r.op);
      }
      return;
    }
    Promise.resolve()
      .then(() => handler(r.body))
      .then(
        (body) => this.answer({ tag: TAG, re: r.id, body }, r.op),
        (err: unknown) => this.answer({ tag: TAG, re: r.id, error: (err as Error)?.message ?? String(err) }, r.op),
      );
  }

  /** The link is gone: every pending call fails now rather than at its deadline. */
  close(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, new Error('link closed'));
  }

  private answer(a: Answer, op: Op): void {
    this.post(a, () => this.onFailure(op));
  }

  private post(message: Request | Answer, failed: (err: Error) => void): void {
    try {
      this.send(message, (err) => err && failed(err));
    } catch (err) {
      failed(err as Error);
    }
  }

  private settle(id: number, err: Error | undefined, body?: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (err) {
      this.onFailure(p.op);
      p.reject(err);
    } else p.resolve(body);
  }
}

/**
 * Tells the primary why this worker cannot start (a ConfigError such as the port in use), so
 * the line is printed once by the primary rather than once per worker. Resolves when sent.
 */
export function reportFatal(message: string): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    try {
      process.send({ tag: TAG, id: 0, op: 'fatal', body: message }, undefined, undefined, () => resolve());
    } catch {
      resolve();
    }
  });
}
