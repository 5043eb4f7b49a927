import { Worker } from 'node:worker_threads';
import { approximateTokens, QUEUE_MAX_CHARS } from './estimate.js';
import type { CountAnswer, CountRequest } from './token-thread.js';

/** How long the thread waits for another count before it stops. */
const IDLE_MS = 30_000;
/**
 * The thread's heap: the tokenizer (~40 MB), the texts it owes (at most QUEUE_MAX_CHARS) and
 * its working set. Under 1 MB prompts at c8 the proxy peaked at 406 MB of RSS with V8's
 * defaults for the thread, 274 MB with these (271 MB when the proxy counted on its own loop), with
 * the same throughput and no count failed.
 */
const THREAD_HEAP = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 160 };

/**
 * Local token estimates, counted on a thread of their own (token-thread.ts). The tokenizer
 * is tens of megabytes in some hundred thousand objects: in the proxy's heap, every full
 * garbage collection marked them and came more often, pausing every stream in flight (up to
 * 15 ms, measured with 200 streams). On its own thread it costs the proxy's heap nothing, its
 * load never stalls a request, and counting a large prompt never holds the proxy's loop.
 *
 * The thread starts on the first count and keeps the process alive only while it owes counts.
 * It stops after `idleMs` without one: an idle thread never collects its garbage, so what its
 * heap grew to under large prompts would stay for good. If it fails, the counts it owed fail
 * (the accountant counts them) and the next count starts a new one.
 */
export class TokenCounter {
  private thread: Worker | undefined;
  private nextId = 0;
  private readonly owed = new Map<number, { chars: number; resolve: (tokens: number) => void; reject: (err: Error) => void }>();
  private owedChars = 0;
  private readonly idleMs: number;
  private readonly maxOwedChars: number;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(opts: { idleMs?: number; maxOwedChars?: number } = {}) {
    this.idleMs = opts.idleMs ?? IDLE_MS;
    this.maxOwedChars = opts.maxOwedChars ?? QUEUE_MAX_CHARS;
  }

  /** A thread is up (started by a count, not yet stopped for idleness or failure). */
  get running(): boolean {
    return this.thread !== undefined;
  }

  /**
   * The text's token count. When the texts already owed would pass `maxOwedChars`
   * (QUEUE_MAX_CHARS, about a second of counting), a new one is approximated from its size
   * instead, as estimateTokens does.
   */
  count(text: string): Promise<number> {
    if (text.length === 0) return Promise.resolve(0);
    if (this.owedChars + text.length > this.maxOwedChars) return Promise.resolve(approximateTokens(text));
    const id = this.nextId++;
    const thread = this.worker();
    clearTimeout(this.idleTimer);
    if (this.owed.size === 0) thread.ref();
    this.owedChars += text.length;
    return new Promise((resolve, reject) => {
      this.owed.set(id, { chars: text.length, resolve, reject });
      thread.postMessage({ id, text } satisfies CountRequest);
    });
  }

  /** Stops the thread; counts still owed fail. */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
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
      this.owedChars -= owed.chars;
      if (this.owed.size === 0) this.idle(thread);
      if (tokens === undefined) owed.reject(new Error(error ?? 'token count failed'));
      else owed.resolve(tokens);
    });
    thread.on('error', (err) => this.lost(thread, err));
    thread.on('exit', (code) => this.lost(thread, new Error(`the token counting thread exited (code ${code})`)));
    thread.unref(); // after the listeners, which take a reference again
    this.thread = thread;
    return thread;
  }

  private idle(thread: Worker): void {
    thread.unref();
    this.idleTimer = setTimeout(() => {
      if (this.thread === thread) this.thread = undefined;
      void thread.terminate();
    }, this.idleMs).unref();
  }

  private lost(thread: Worker, err: Error): void {
    if (this.thread !== thread) return;
    this.thread = undefined;
    for (const owed of this.owed.values()) owed.reject(err);
    this.owed.clear();
    this.owedChars = 0;
  }
}

function startThread(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./token-thread.js', import.meta.url), { resourceLimits: THREAD_HEAP });
  // Tests run the TypeScript source through tsx, whose loader a thread does not inherit: the
  // thread registers it before it loads the source.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./token-thread.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, resourceLimits: THREAD_HEAP });
}
