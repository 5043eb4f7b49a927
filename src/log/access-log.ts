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

/** Records held while the destination is slow; past this, new lines are dropped and counted. */
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
 * Nothing is formatted or written on the request's own turn of the event loop: `write` only
 * keeps the record; a timer formats every kept record and hands the destination one batch
 * (one write call, one syscall, for up to FLUSH_MS of traffic). A destination that reports
 * backpressure is not written again until it drains; while it is blocked records pile up to
 * MAX_PENDING and then new ones are dropped and counted (`dropped`), so a stuck log reader
 * costs lines, never latency or unbounded memory. `flush()` on shutdown writes what is kept.
 */
export class AccessLog {
  private readonly stream: Destination | undefined;
  /** The logger's bindings (e.g. a child's `part`), serialised once. */
  private readonly bindings: string;
  /** Each route label as JSON text, written once (labels are a bounded set). */
  private readonly routeJson = new Map<string, string>();
  /** The last `time` written and its text: a batch holds many lines from the same millisecond. */
  private lastTime = 0;
  private lastTimeText = '0';
  private pending: AccessRecord[] = [];
  private times: number[] = [];
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
    if (this.pending.length >= MAX_PENDING) {
      this.dropped++;
      return;
    }
    this.pending.push(r);
    this.times.push(Date.now());
    if (!this.timer && !this.blocked) this.timer = setTimeout(this.onTimer, FLUSH_MS).unref();
  }

  /** Writes every kept line now (shutdown, tests), even to a destination that is blocked. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.stream || this.pending.length === 0) return;
    const records = this.pending;
    const times = this.times;
    this.pending = [];
    this.times = [];
    let text = '';
    for (let i = 0; i < records.length; i++) text += this.format(records[i]!, times[i]!);
    try {
      if (this.stream.write(text) === false && this.stream.once) {
        this.blocked = true;
        this.stream.once('drain', this.onDrain);
      }
    } catch {
      this.dropped += records.length;
    }
  }

  private readonly onTimer = () => {
    this.timer = undefined;
    if (!this.blocked) this.flush();
  };

  private readonly onDrain = () => {
    this.blocked = false;
    if (this.pending.length > 0 && !this.timer) this.timer = setTimeout(this.onTimer, FLUSH_MS).unref();
  };

  private format(r: AccessRecord, time: number): string {
    const method = r.method !== undefined && HTTP_TOKEN.test(r.method) ? r.method : 'other';
    let route = this.routeJson.get(r.route);
    if (route === undefined) this.routeJson.set(r.route, (route = JSON.stringify(r.route)));
    if (time !== this.lastTime) {
      this.lastTime = time;
      this.lastTimeText = String(time);
    }
    let line =
      `{"level":30,"time":${this.lastTimeText},${this.bindings}"component":"access","method":"${method}","route":${route},"status":${r.status}` +
      `,"ms":${twoDecimals(r.ms)},"upstreamMs":${twoDecimals(r.upstreamMs)},"waitMs":${twoDecimals(r.waitMs)},"attempts":${r.attempts},"stream":${r.stream}` +
      `,"bytesIn":${r.bytesIn},"bytesOut":${r.bytesOut}`;
    if (r.clientGone) line += ',"clientGone":true';
    if (r.zaiError !== undefined) line += `,"zaiError":${JSON.stringify(r.zaiError)}`;
    return `${line},"msg":"request"}\n`;
  }
}
