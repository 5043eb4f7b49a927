import { SseParser, type SseEvent } from './sse.js';
import type { TokenUsage } from './usage.js';
import { isRecord } from '../lib/json.js';

/**
 * Reads token usage (and, on request, the generated text for a local estimate) from a
 * streamed response while the relay passes it on. The proxy calls push() with every chunk it
 * writes to the client, so the common case must stay cheap: events that cannot carry usage
 * are not JSON-parsed unless their text is wanted. What an event means is the dialect's
 * business (src/dialects); this reader only drives it.
 *
 * The text is only needed when the stream reports no usage, which Z.AI's streams do on their
 * last event. So events that cannot carry usage are first held as they came (up to
 * `holdBytes` per stream) and parsed only if the stream ends without usage; a stream whose
 * held events outgrow that bound has them parsed then, and every later one as it comes.
 */

/** Receives pieces of generated text (answer, reasoning, tool-call arguments); ignores non-strings. */
export type TextSink = (value: unknown) => void;

/** A dialect's view of one stream's events. */
export interface StreamEvents {
  /** The event ends the stream (checked before parsing). */
  isEnd(e: SseEvent): boolean;
  /** The event may carry usage: others are not parsed unless text is collected. */
  mayCarryUsage(e: SseEvent): boolean;
  /** A parsed event; `text` is given only when text is collected. True when it ends the stream. */
  read(event: Json, text: TextSink | undefined): boolean | undefined;
  /** The usage the stream reported so far. */
  usage(): TokenUsage | undefined;
}

export interface StreamUsageResult {
  /** Undefined when the stream carried no usage, or only all-zero placeholders. */
  usage?: TokenUsage;
  /**
   * Generated text (answer, reasoning, tool-call arguments) for an estimate: empty unless
   * collectText, and also empty when the stream reported usage (no estimate is needed).
   */
  outputText: string;
  /** True once the stream said it was over: `data: [DONE]` or `message_stop`. */
  complete: boolean;
  /** Events that should have been JSON and were not (or that broke the reader), among those parsed. */
  malformedEvents: number;
  /** The collected text hit maxTextBytes and was cut there. */
  textTruncated: boolean;
}

export const DEFAULT_MAX_TEXT_BYTES = 1024 * 1024;
/** Characters of unparsed events (and text) a stream may hold while its usage is unknown. */
const DEFAULT_HOLD_BYTES = 64 * 1024;

type Json = Record<string, unknown>;
const isEmpty = (u: TokenUsage) => u.input === 0 && u.output === 0 && u.cacheRead === 0 && u.cacheWrite === 0;

export class StreamUsageReader {
  private readonly events: StreamEvents;
  private readonly collectText: boolean;
  private readonly maxTextBytes: number;
  private readonly parser: SseParser;
  private readonly holdBytes: number;
  private readonly sink: TextSink | undefined;
  /**
   * While the text may not be needed: events not yet parsed, and text pieces of events that
   * were (a usage event may carry text too), in stream order.
   */
  private held: (SseEvent | string)[] | undefined;
  private heldBytes = 0;
  private text: string[] = [];
  private textBytes = 0;
  private textTruncated = false;
  private complete = false;
  private malformed = 0;
  private finished: StreamUsageResult | undefined;

  constructor(events: StreamEvents, opts: { collectText?: boolean; maxTextBytes?: number; holdBytes?: number } = {}) {
    this.events = events;
    this.collectText = opts.collectText ?? false;
    this.maxTextBytes = opts.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES;
    this.holdBytes = opts.holdBytes ?? DEFAULT_HOLD_BYTES;
    this.sink = this.collectText ? (v) => (this.held ? this.holdText(v) : this.addText(v)) : undefined;
    if (this.collectText && this.holdBytes > 0) this.held = [];
    this.parser = new SseParser((e) => this.onEvent(e));
  }

  /** Called with every chunk relayed to the client; never throws. */
  push(chunk: Buffer): void {
    if (this.finished) return;
    try {
      this.parser.push(chunk);
    } catch {
      this.malformed++;
    }
  }

  finish(): StreamUsageResult {
    if (this.finished) return this.finished;
    try {
      this.parser.end();
    } catch {
      this.malformed++;
    }
    let usage = this.events.usage();
    if (usage && isEmpty(usage)) usage = undefined;
    if (this.held) {
      // Read before the held events are: what they say can no longer change the usage.
      if (usage) {
        this.held = undefined;
      } else {
        try {
          this.parseHeld();
        } catch {
          this.malformed++;
        }
      }
    }
    // One literal, then usage added: a spread before the other members made V8 miss its
    // store cache for each of them on every stream.
    const result: StreamUsageResult = {
      outputText: usage ? '' : this.text.join(''),
      complete: this.complete,
      malformedEvents: this.malformed + this.parser.droppedEvents,
      textTruncated: usage ? false : this.textTruncated,
    };
    if (usage) result.usage = usage;
    this.finished = result;
    this.text = [];
    return this.finished;
  }

  private onEvent(e: SseEvent): void {
    if (this.events.isEnd(e)) {
      this.complete = true;
      return;
    }
    const mayCarryUsage = this.events.mayCarryUsage(e);
    if (!this.collectText && !mayCarryUsage) return;
    if (e.event === 'ping') return;
    if (this.held && !mayCarryUsage) return this.hold(e, e.data.length);
    this.read(e.data);
  }

  private read(data: string): void {
    const event = this.parse(data);
    if (event && this.events.read(event, this.sink) === true) this.complete = true;
  }

  private hold(entry: SseEvent | string, size: number): void {
    this.held!.push(entry);
    this.heldBytes += size;
    if (this.heldBytes > this.holdBytes) this.parseHeld();
  }

  private holdText(value: unknown): void {
    if (typeof value === 'string' && value.length > 0) this.hold(value, value.length);
  }

  /** Parses what was held, in order, and reads every later event as it comes. */
  private parseHeld(): void {
    const held = this.held!;
    this.held = undefined;
    for (const entry of held) {
      if (typeof entry === 'string') {
        this.addText(entry);
        continue;
      }
      this.read(entry.data);
    }
  }

  private parse(data: string): Json | undefined {
    try {
      const v: unknown = JSON.parse(data);
      if (isRecord(v)) return v;
    } catch {
      // counted below
    }
    this.malformed++;
    return undefined;
  }

  private addText(value: unknown): void {
    if (typeof value !== 'string' || value.length === 0 || this.textTruncated) return;
    const bytes = Buffer.byteLength(value);
    if (this.textBytes + bytes <= this.maxTextBytes) {
      this.text.push(value);
      this.textBytes += bytes;
      return;
    }
    // Cut on a character boundary: decoding a byte-truncated buffer drops a split character.
    const room = this.maxTextBytes - this.textBytes;
    const cut = Buffer.from(value)
      .subarray(0, room)
      .toString('utf8')
      .replace(/\uFFFD$/, '');
    this.text.push(cut);
    this.textBytes += Buffer.byteLength(cut);
    this.textTruncated = true;
  }
}
