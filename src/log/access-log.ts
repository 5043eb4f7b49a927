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

type Destination = { write(text: string): unknown; once?(event: 'drain', fn: () => void): unknown };

/**
 * One JSON access line per request, in pino's line format (level, time, bindings, fields,
 * msg), written to the logger's own destination. pino's generic serialiser costs about 5 µs
 * a line, which measured as the largest single cost of the request path; every field here is
 * a number, a boolean or a value from a bounded set, so a fixed template is enough and safe.
 *
 * Nothing is written on the request's own turn of the event loop: `write` (called once the
 * answer is out) appends the line to the batch, and a timer hands the destination the whole
 * batch (one write call, one syscall, for up to FLUSH_MS of traffic). The batch is text, as
 * the destination takes it: a byte buffer in between measured no cheaper (callgrind) and
 * converted every line twice more. A destination that reports backpressure is not written
 * again until it drains; while it is blocked lines pile up to MAX_PENDING and
 * then new ones are dropped and counted (`dropped`), so a stuck log reader costs lines, never
 * latency or unbounded memory. `flush()` on shutdown writes what is kept.
 */
export class AccessLog {
  private readonly stream: Destination | undefined;
  /** The logger's bindings (e.g. a child's `part`), serialised once. */
  private readonly bindings: string;
  /** Per route label, per method: the line's text between the time and the status. */
  private readonly prefixes = new Map<string, Map<string, string>>();
  /** The last `time` written and its text: a batch holds many lines from the same millisecond. */
  private lastTime = 0;
  private lastTimeText = '0';
  /** The lines waiting for the next flush, and how many. */
  private batch = '';
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
    this.batch += this.format(r, Date.now());
    this.batchLines++;
    if (!this.timer && !this.blocked) this.timer = setTimeout(this.onTimer, FLUSH_MS).unref();
  }

  /** Writes every kept line now (shutdown, tests), even to a destination that is blocked. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.stream || this.batchLines === 0) return;
    const text = this.batch;
    const lines = this.batchLines;
    this.batch = '';
    this.batchLines = 0;
    try {
      if (this.stream.write(text) === false && this.stream.once) {
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

  private format(r: AccessRecord, time: number): string {
    if (time !== this.lastTime) {
      this.lastTime = time;
      // Two small integers instead of one past 2^31, which V8 would write as a double.
      const millions = Math.floor(time / 1e6);
      this.lastTimeText = millions > 0 ? `${millions}${String(time - millions * 1e6 + 1e6).slice(1)}` : String(time);
    }
    let line =
      `{"level":30,"time":${this.lastTimeText}${this.fieldsBeforeStatus(r.route, r.method)}${r.status}` +
      `,"ms":${twoDecimals(r.ms)},"upstreamMs":${twoDecimals(r.upstreamMs)},"waitMs":${twoDecimals(r.waitMs)},"attempts":${r.attempts},"stream":${r.stream}` +
      `,"bytesIn":${r.bytesIn},"bytesOut":${r.bytesOut}`;
    if (r.clientGone) line += ',"clientGone":true';
    if (r.zaiError !== undefined) line += `,"zaiError":${JSON.stringify(r.zaiError)}`;
    return `${line},"msg":"request"}\n`;
  }

  /** From the bindings to `"status":`, the same for every line of a route and method: made once each. */
  private fieldsBeforeStatus(route: string, rawMethod: string | undefined): string {
    let byMethod = this.prefixes.get(route);
    if (!byMethod) this.prefixes.set(route, (byMethod = new Map()));
    const key = rawMethod ?? '';
    let text = byMethod.get(key);
    if (text === undefined) {
      const method = rawMethod !== undefined && HTTP_TOKEN.test(rawMethod) ? rawMethod : 'other';
      text = `,${this.bindings}"component":"access","method":"${method}","route":${JSON.stringify(route)},"status":`;
      // Route labels are bounded; methods are a client's choice: keep only the first few.
      if (byMethod.size < 16) byMethod.set(key, text);
    }
    return text;
  }
}
