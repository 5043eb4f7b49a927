import { Worker } from 'node:worker_threads';
import type { CountAnswer, CountRequest } from './token-thread.js';

/**
 * Local token estimates, counted on a thread of their own (token-thread.ts). The tokenizer
 * is tens of megabytes in some hundred thousand objects: in the proxy's heap, every full
 * garbage collection marked them and came more often, pausing every stream in flight (up to
 * 15 ms, measured with 200 streams). On its own thread it costs the proxy's heap nothing, its
 * load never stalls a request, and counting a large prompt never holds the proxy's loop.
 *
 * The thread starts on the first count and keeps the process alive only while it owes counts.
 * If it fails, the counts it owed fail (the accountant counts them) and the next count starts
 * a new one.
 */
export class TokenCounter {
  private thread: Worker | undefined;
  private nextId = 0;
  private readonly owed = new Map<number, { resolve: (tokens: number) => void; reject: (err: Error) => void }>();

  count(text: string): Promise<number> {
    if (text.length === 0) return Promise.resolve(0);
    const id = this.nextId++;
    const thread = this.worker();
    if (this.owed.size === 0) thread.ref();
    return new Promise((resolve, reject) => {
      this.owed.set(id, { resolve, reject });
      thread.postMessage({ id, text } satisfies CountRequest);
    });
  }

  /** Stops the thread; counts still owed fail. */
  async close(): Promise<void> {
    const thread = this.thread;
    if (thread) await thread.terminate();
  }

  private worker(): Worker {
    if (this.thread) return this.thread;
    const thread = startThread();
    thread.on('message', ({ id, tokens, error }: CountAnswer) => {
      const owed = this.owed.get(id);
      if (!owed) return;
      this.owed.delete(id);
      if (this.owed.size === 0) thread.unref();
      if (tokens === undefined) owed.reject(new Error(error ?? 'token count failed'));
      else owed.resolve(tokens);
    });
    thread.on('error', (err) => this.lost(thread, err));
    thread.on('exit', (code) => this.lost(thread, new Error(`the token counting thread exited (code ${code})`)));
    thread.unref(); // after the listeners, which take a reference again
    this.thread = thread;
    return thread;
  }

  private lost(thread: Worker, err: Error): void {
    if (this.thread !== thread) return;
    this.thread = undefined;
    for (const owed of this.owed.values()) owed.reject(err);
    this.owed.clear();
  }
}

function startThread(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./token-thread.js', import.meta.url));
  // Tests run the TypeScript source through tsx, whose loader a thread does not inherit: the
  // thread registers it before it loads the source.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./token-thread.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`, { eval: true });
}
