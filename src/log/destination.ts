import { EventEmitter } from 'node:events';
import { writev, writevSync } from 'node:fs';

/** Writes to a pipe of at most this many bytes are never interleaved with another process's. */
export const PIPE_BUF = 4096;
/** Past this many bytes waiting, a write answers false and 'drain' follows once all is written. */
const HIGH_WATER_BYTES = 16 * 1024;
/** Most chunks one writev call takes (the system's IOV_MAX is 1024). */
const MAX_CHUNKS = 1024;
/** How long to wait before retrying a write the descriptor refused for now (EAGAIN). */
const RETRY_MS = 20;

/** How often a full descriptor is waited for (RETRY_MS each) when the process exits. */
const EXIT_RETRIES = 50;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Destinations still holding bytes when the process exits are written out synchronously. */
const open = new Set<LogDestination>();
let exitHookInstalled = false;

/**
 * Where the process's log lines go: a file descriptor (stdout by default), written in the
 * background, in order, from a queue of byte chunks. pino hands it text (`write`); the access
 * log hands it its batches as bytes (`writeBytes`), so they reach the descriptor without being
 * turned into text and back (what pino's own destination does with a string: it measured a
 * quarter of the access line's cost).
 *
 * Queued chunks go out in one `writev` call, at most `maxWrite` bytes and ending on a line
 * break where a chunk is cut: with several processes writing to one pipe (PROXY_WORKERS),
 * writes of at most PIPE_BUF bytes of whole lines never interleave. A partial write is
 * resumed, a descriptor that is full for now (EAGAIN) is retried shortly; any other write
 * error ends writing, and what was queued or comes later is counted in `lostBytes`.
 */
export class LogDestination extends EventEmitter {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  /** Bytes handed to the descriptor and not yet confirmed. */
  private writing = 0;
  private needDrain = false;
  private ending = false;
  private failed = false;
  private retry: NodeJS.Timeout | undefined;
  lostBytes = 0;

  constructor(
    private readonly fd = 1,
    private readonly maxWrite = 1024 * 1024,
  ) {
    super();
    open.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const d of open) d.flushSync();
      });
    }
  }

  write(text: string): boolean {
    return this.writeBytes(Buffer.from(text));
  }

  /** Queues `bytes` (the destination keeps them until written: the caller must not reuse them). */
  writeBytes(bytes: Buffer): boolean {
    if (this.failed || this.ending) {
      this.lostBytes += bytes.length;
      return true;
    }
    if (bytes.length > 0) {
      this.queue.push(bytes);
      this.queued += bytes.length;
      if (this.writing === 0 && this.retry === undefined) this.next();
    }
    if (this.queued < HIGH_WATER_BYTES) return true;
    this.needDrain = true;
    return false;
  }

  /** Writes what is queued, then says 'close'. The descriptor stays open: it is the caller's. */
  end(): void {
    if (this.ending) return;
    this.ending = true;
    if (this.writing === 0 && (this.queue.length === 0 || this.failed)) this.finish();
  }

  /** Writes everything queued now, blocking (the process is exiting). Bytes already handed to the descriptor are not written twice. */
  flushSync(): void {
    this.skip(this.writing);
    this.writing = 0;
    let refusals = 0;
    while (this.queue.length > 0 && !this.failed) {
      try {
        this.skip(writevSync(this.fd, this.take()));
      } catch (err) {
        // A reader that stopped reading must not keep the process from exiting.
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++refusals > EXIT_RETRIES) this.fail();
        else Atomics.wait(pause, 0, 0, RETRY_MS);
      }
    }
  }

  private next(): void {
    const chunks = this.take();
    if (chunks.length === 0) {
      if (this.ending) this.finish();
      else if (this.needDrain) {
        this.needDrain = false;
        this.emit('drain');
      }
      return;
    }
    for (const c of chunks) this.writing += c.length;
    writev(this.fd, chunks, this.written);
  }

  /** The queue's first chunks, at most maxWrite bytes; a chunk too long for that is cut after a line. */
  private take(): Buffer[] {
    const chunks: Buffer[] = [];
    let bytes = 0;
    for (const chunk of this.queue) {
      if (chunks.length === MAX_CHUNKS) break;
      if (bytes + chunk.length <= this.maxWrite) {
        chunks.push(chunk);
        bytes += chunk.length;
        continue;
      }
      if (bytes === 0) {
        const cut = chunk.lastIndexOf(10, this.maxWrite - 1) + 1;
        chunks.push(chunk.subarray(0, cut > 0 ? cut : this.maxWrite));
      }
      break;
    }
    return chunks;
  }

  private readonly written = (err: NodeJS.ErrnoException | null, n: number): void => {
    const sent = this.writing;
    this.writing = 0;
    if (this.failed) return; // flushSync ran meanwhile and gave up
    if (err) {
      if (err.code === 'EAGAIN') {
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.next();
        }, RETRY_MS);
        return;
      }
      this.fail();
      if (this.ending) this.finish();
      return;
    }
    // flushSync may have taken these bytes off the queue already (the process is exiting).
    if (sent > 0) this.skip(n);
    this.next();
  };

  /** Takes `n` written bytes off the front of the queue. */
  private skip(n: number): void {
    this.queued -= n;
    while (n > 0) {
      const head = this.queue[0]!;
      if (n < head.length) {
        this.queue[0] = head.subarray(n);
        return;
      }
      n -= head.length;
      this.queue.shift();
    }
  }

  private fail(): void {
    this.failed = true;
    this.lostBytes += this.queued;
    this.queue.length = 0;
    this.queued = 0;
    if (this.listenerCount('error') > 0) this.emit('error', new Error('log destination: write failed'));
    // Nothing will be written again: writers waiting for room must not wait forever.
    if (this.needDrain) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  private finish(): void {
    open.delete(this);
    process.nextTick(() => this.emit('close'));
  }
}
