import { pino, type Logger } from 'pino';
import { twoDecimals } from '../lib/two-decimals.js';

export interface AccessRecord {
  method: string | undefined;
  route: string;
  status: number;
  ms: number;
  upstreamMs: number;
  waitMs: number;
  attempts: number;
  stream: boolean;
  bytesIn: number;
  bytesOut: number;
  clientGone: boolean;
  zaiError: string | undefined;
}

const HTTP_TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}$/;

/** Lines held while the destination is slow; past this, new lines are dropped and counted. */
const MAX_PENDING = 50_000;
/** How long a line may wait before its batch is written. */
const FLUSH_MS = 50;
/** The batch's first size; it doubles when full and is sized from the last batch after a flush. */
const INITIAL_BATCH_BYTES = 64 * 1024;
/** Room for one line's fields after its prefix: every field is a bounded number or word. */
const LINE_ROOM = 512;

/** A destination takes text (any stream pino writes to) and, where it can, bytes (LogDestination). */
type Destination = {
  write(text: string): unknown;
  writeBytes?(bytes: Buffer): boolean;
  once?(event: 'drain', fn: () => void): unknown;
};

const ascii = (text: string) => Buffer.from(text, 'latin1');
const UPSTREAM_MS = ascii(',"upstreamMs":');
const WAIT_MS = ascii(',"waitMs":');
const BYTES_OUT = ascii(',"bytesOut":');
const CLIENT_GONE = ascii(',"clientGone":true');
const ZAI_ERROR = ascii(',"zaiError":');
const LINE_END = ascii(',"msg":"request"}\n');
/** Distinct values a segment cache keeps (statuses and attempt counts are few); past it, segments are made each time. */
const SEGMENTS_KEPT = 64;

/**
 * One JSON access line per request, in pino's line format (level, time, bindings, fields,
 * msg), written to the logger's own destination. pino's generic serialiser costs about 5 µs
 * a line, which measured as the largest single cost of the request path; every field here is
 * a number, a boolean or a value from a bounded set, so a fixed template is enough and safe.
 *
 * Nothing is written on the request's own turn of the event loop: `write` (called once the
 * answer is out) puts the line's bytes in the batch, and a timer hands the destination the
 * whole batch (one write call, one syscall, for up to FLUSH_MS of traffic). Lines are written
 * as bytes straight into the batch, with no text in between: building each line as a string,
 * then keeping the batch as text and having the destination encode it, cost three times as
 * many instructions (callgrind), a quarter of them the young-generation collector copying the
 * waiting text. A destination that reports backpressure is not written again until it
 * drains; while it is blocked lines pile up to MAX_PENDING and then new ones are dropped and
 * counted (`dropped`), so a stuck log reader costs lines, never latency or unbounded memory.
 * `flush()` on shutdown writes what is kept.
 */
export class AccessLog {
  private readonly stream: Destination | undefined;
  /** The logger's bindings (e.g. a child's `part`), serialised once. */
  private readonly bindings: string;
  /** Per route label, per method: the line's bytes between the time and the status. */
  private readonly prefixes = new Map<string, Map<string, Buffer>>();
  /** The text between a few fields, for each value seen of the fields inside it. */
  private readonly statusSegments = new Map<number, Buffer>();
  private readonly attemptSegments = new Map<number, Buffer>();
  private startTime = -1;
  private startText = Buffer.alloc(0);
  /** The lines waiting for the next flush: their bytes, how many bytes, how many lines. */
  private batch = Buffer.allocUnsafe(INITIAL_BATCH_BYTES);
  private at = 0;
  private batchLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private blocked = false;
  /** Lines not logged because the destination stayed blocked (or threw). */
  dropped = 0;

  constructor(log: Logger) {
    const stream = (log as unknown as Record<symbol, Destination>)[pino.symbols.streamSym];
    this.stream = log.isLevelEnabled('info') ? stream : undefined;
    const bound = JSON.stringify(log.bindings());
    this.bindings = bound === '{}' ? '' : `${bound.slice(1, -1)},`;
  }

  write(r: AccessRecord): void {
    if (!this.stream) return;
    if (this.batchLines >= MAX_PENDING) {
      this.dropped++;
      return;
    }
    this.line(r, Date.now());
    this.batchLines++;
    if (!this.timer && !this.blocked) this.timer = setTimeout(this.onTimer, FLUSH_MS).unref();
  }

  /** Writes every kept line now (shutdown, tests), even to a destination that is blocked. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.stream || this.batchLines === 0) return;
    const bytes = this.batch.subarray(0, this.at);
    const lines = this.batchLines;
    this.batch = Buffer.allocUnsafe(Math.max(INITIAL_BATCH_BYTES, Math.min(this.batch.length, this.at * 2)));
    this.at = 0;
    this.batchLines = 0;
    try {
      const ok = this.stream.writeBytes ? this.stream.writeBytes(bytes) : this.stream.write(bytes.toString('utf8'));
      if (ok === false && this.stream.once) {
        this.blocked = true;
        this.stream.once('drain', this.onDrain);
      }
    } catch {
      this.dropped += lines;
    }
  }

  private readonly onTimer = () => {
    this.timer = undefined;
    if (!this.blocked) this.flush();
  };

  private readonly onDrain = () => {
    this.blocked = false;
    if (this.batchLines > 0 && !this.timer) this.timer = setTimeout(this.onTimer, FLUSH_MS).unref();
  };

  private line(r: AccessRecord, time: number): void {
    const prefix = this.fieldsBeforeStatus(r.route, r.method);
    const zaiError = r.zaiError === undefined ? undefined : JSON.stringify(r.zaiError);
    this.room(prefix.length + LINE_ROOM + (zaiError === undefined ? 0 : 3 * zaiError.length));
    this.put(this.lineStart(time));
    this.put(prefix);
    this.put(this.statusSegment(r.status));
    this.hundredths(r.ms);
    this.put(UPSTREAM_MS);
    this.hundredths(r.upstreamMs);
    this.put(WAIT_MS);
    this.hundredths(r.waitMs);
    this.put(this.attemptsSegment(r.attempts, r.stream));
    this.integer(r.bytesIn);
    this.put(BYTES_OUT);
    this.integer(r.bytesOut);
    if (r.clientGone) this.put(CLIENT_GONE);
    if (zaiError !== undefined) {
      this.put(ZAI_ERROR);
      this.at += this.batch.write(zaiError, this.at);
    }
    this.put(LINE_END);
  }

  /** From the status to `"ms":`, made once per status. */
  private statusSegment(status: number): Buffer {
    let bytes = this.statusSegments.get(status);
    if (bytes === undefined) {
      bytes = ascii(`${status},"ms":`);
      if (this.statusSegments.size < SEGMENTS_KEPT) this.statusSegments.set(status, bytes);
    }
    return bytes;
  }

  /** From `,"attempts":` to `"bytesIn":`, made once per attempt count and stream flag. */
  private attemptsSegment(attempts: number, stream: boolean): Buffer {
    const key = attempts * 2 + (stream ? 1 : 0);
    let bytes = this.attemptSegments.get(key);
    if (bytes === undefined) {
      bytes = ascii(`,"attempts":${attempts},"stream":${stream},"bytesIn":`);
      if (this.attemptSegments.size < SEGMENTS_KEPT) this.attemptSegments.set(key, bytes);
    }
    return bytes;
  }

  /** The line up to its time, included: a batch holds many lines from the same millisecond. */
  private lineStart(time: number): Buffer {
    if (time !== this.startTime) {
      this.startTime = time;
      this.startText = ascii(`{"level":30,"time":${time}`);
    }
    return this.startText;
  }

  /** Makes room for `bytes` more in the batch. */
  private room(bytes: number): void {
    if (this.at + bytes <= this.batch.length) return;
    const larger = Buffer.allocUnsafe(Math.max(this.batch.length * 2, this.at + bytes));
    this.batch.copy(larger, 0, 0, this.at);
    this.batch = larger;
  }

  private put(bytes: Buffer): void {
    this.batch.set(bytes, this.at);
    this.at += bytes.length;
  }

  /** A non-negative integer's digits; anything else as JavaScript writes it. */
  private integer(n: number): void {
    if (!(n >= 0 && Number.isSafeInteger(n))) {
      this.at += this.batch.write(String(n), this.at);
      return;
    }
    let digits = 1;
    for (let limit = 10; limit <= n; limit *= 10) digits++;
    const batch = this.batch;
    for (let i = this.at + digits - 1; i >= this.at; i--) {
      const rest = Math.floor(n / 10);
      batch[i] = 48 + n - rest * 10;
      n = rest;
    }
    this.at += digits;
  }

  /** `n` rounded to two decimals, as twoDecimals() writes it. */
  private hundredths(n: number): void {
    const h = Math.round(n * 100);
    if (!(h >= 0 && Number.isSafeInteger(h))) {
      this.at += this.batch.write(twoDecimals(n), this.at);
      return;
    }
    const whole = Math.floor(h / 100);
    const frac = h - whole * 100;
    this.integer(whole);
    if (frac === 0) return;
    const batch = this.batch;
    batch[this.at++] = 46; // '.'
    const tens = Math.floor(frac / 10);
    batch[this.at++] = 48 + tens;
    if (frac !== tens * 10) batch[this.at++] = 48 + frac - tens * 10;
  }

  /** From the bindings to `"status":`, the same for every line of a route and method: made once each. */
  private fieldsBeforeStatus(route: string, rawMethod: string | undefined): Buffer {
    let byMethod = this.prefixes.get(route);
    if (!byMethod) this.prefixes.set(route, (byMethod = new Map()));
    const key = rawMethod ?? '';
    let bytes = byMethod.get(key);
    if (bytes === undefined) {
      const method = rawMethod !== undefined && HTTP_TOKEN.test(rawMethod) ? rawMethod : 'other';
      bytes = Buffer.from(`,${this.bindings}"component":"access","method":"${method}","route":${JSON.stringify(route)},"status":`);
      // Route labels are bounded; methods are a client's choice: keep only the first few.
      if (byMethod.size < 16) byMethod.set(key, bytes);
    }
    return bytes;
  }
}
