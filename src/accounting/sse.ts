/**
 * Incremental Server-Sent Events parser (the WHATWG event-stream grammar) that sits beside a
 * relay: it is fed the exact chunks sent to the client, wherever the network split them.
 *
 * Lines are found on bytes, not on decoded text: CR and LF never occur inside a multi-byte
 * UTF-8 sequence, so a character split across two chunks is only decoded once its line is
 * whole. A CR at the very end of a chunk may be the first half of a CRLF, so the LF that may
 * open the next chunk is skipped.
 *
 * Bounded memory: an event whose lines add up to more than `maxEventBytes` (1 MiB by default)
 * is dropped whole, and its bytes are not kept while the rest of it streams past.
 */

export interface SseEvent {
  event?: string;
  data: string;
}

export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;

export class SseParser {
  private readonly onEvent: (event: SseEvent) => void;
  private readonly maxEventBytes: number;
  /** Pieces of the line not yet terminated (usually none or one). */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Bytes of the current line were seen (kept or, when dropping, discarded): its end is no blank line. */
  private midLine = false;
  private skipLeadingLf = false;
  private atStreamStart = true;
  private eventType: string | undefined;
  private data: string[] = [];
  private eventBytes = 0;
  private dropping = false;
  private ended = false;
  /** Events dropped because they exceeded the size bound. */
  droppedEvents = 0;

  constructor(onEvent: (event: SseEvent) => void, opts: { maxEventBytes?: number } = {}) {
    this.onEvent = onEvent;
    this.maxEventBytes = opts.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  }

  push(chunk: Buffer): void {
    if (this.ended || chunk.length === 0) return;
    let start = 0;
    if (this.skipLeadingLf) {
      this.skipLeadingLf = false;
      if (chunk[0] === LF) start = 1;
    }
    const len = chunk.length;
    // Native scans for the two terminators instead of a byte loop in JS: this runs on every
    // streamed chunk. A -1 stays valid for the rest of the chunk.
    let nextLf = chunk.indexOf(LF, start);
    let nextCr = chunk.indexOf(CR, start);
    while (nextLf !== -1 || nextCr !== -1) {
      const isCr = nextCr !== -1 && (nextLf === -1 || nextCr < nextLf);
      const i = isCr ? nextCr : nextLf;
      this.completeLine(chunk, start, i);
      start = i + 1;
      if (isCr) {
        if (start < len) {
          if (chunk[start] === LF) start++;
        } else {
          this.skipLeadingLf = true;
        }
      }
      if (nextLf !== -1 && nextLf < start) nextLf = chunk.indexOf(LF, start);
      if (nextCr !== -1 && nextCr < start) nextCr = chunk.indexOf(CR, start);
    }
    if (start < len) this.keepPartial(chunk, start, len);
  }

  /**
   * End of stream. Lines that were terminated but not followed by the blank line still form
   * an event (an upstream that ends with `data: [DONE]\n` has said all it meant to); a last
   * line without any terminator is a cut and is discarded.
   */
  end(): void {
    if (this.ended) return;
    this.partial = [];
    this.partialBytes = 0;
    this.midLine = false;
    this.dispatch();
    this.ended = true;
  }

  private keepPartial(chunk: Buffer, start: number, end: number): void {
    this.midLine = true;
    if (this.dropping) return;
    const n = end - start;
    if (this.eventBytes + this.partialBytes + n > this.maxEventBytes) {
      this.startDropping();
      return;
    }
    // Copy: the caller may reuse or mutate its chunk after push() returns.
    this.partial.push(Buffer.from(chunk.subarray(start, end)));
    this.partialBytes += n;
  }

  private startDropping(): void {
    this.dropping = true;
    this.partial = [];
    this.partialBytes = 0;
    this.data = [];
    this.eventType = undefined;
  }

  private completeLine(chunk: Buffer, start: number, end: number): void {
    const wasMidLine = this.midLine;
    this.midLine = false;
    let line: Buffer;
    let from = start;
    let to = end;
    if (this.partialBytes > 0) {
      line = Buffer.concat([...this.partial, chunk.subarray(start, end)]);
      this.partial = [];
      this.partialBytes = 0;
      from = 0;
      to = line.length;
    } else {
      line = chunk;
    }
    if (this.atStreamStart) {
      this.atStreamStart = false;
      // A UTF-8 byte order mark may open the stream; it is not part of the first field name.
      if (to - from >= 3 && line[from] === 0xef && line[from + 1] === 0xbb && line[from + 2] === 0xbf) from += 3;
    }
    if (from === to) {
      if (!wasMidLine) this.dispatch();
      return;
    }
    if (this.dropping) return;
    this.eventBytes += to - from;
    if (this.eventBytes > this.maxEventBytes) {
      this.startDropping();
      return;
    }
    if (line[from] === COLON) return; // comment (keep-alive pings)
    const colon = line.indexOf(COLON, from);
    let nameEnd = to;
    let valueStart = to;
    if (colon !== -1 && colon < to) {
      nameEnd = colon;
      valueStart = colon + 1;
      if (valueStart < to && line[valueStart] === SPACE) valueStart++;
    }
    const name = line.toString('latin1', from, nameEnd);
    if (name === 'data') this.data.push(line.toString('utf8', valueStart, to));
    else if (name === 'event') this.eventType = line.toString('utf8', valueStart, to);
    // id, retry and unknown fields carry nothing the accounting needs.
  }

  private dispatch(): void {
    if (this.dropping) {
      this.dropping = false;
      this.droppedEvents++;
    } else if (this.data.length > 0) {
      const data = this.data.length === 1 ? this.data[0]! : this.data.join('\n');
      const event: SseEvent = this.eventType === undefined ? { data } : { event: this.eventType, data };
      this.resetEvent();
      this.onEvent(event); // after the reset, so a throwing listener cannot corrupt the parser
      return;
    }
    this.resetEvent();
  }

  private resetEvent(): void {
    this.data = [];
    this.eventType = undefined;
    this.eventBytes = 0;
  }
}
