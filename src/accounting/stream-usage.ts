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
 * last event. So while it may not be needed, only events that can carry usage are parsed, and
 * the stream's bytes are copied aside (up to `holdBytes`, off the JS heap: an object kept per
 * event made every garbage collection copy it while the stream lasted). A stream that ends
 * without usage is read again from those bytes, text and all; one that outgrows the bound is
 * read again then, and every later event as it comes.
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
/** Bytes of a stream held aside while its usage is unknown. */
const DEFAULT_HOLD_BYTES = 64 * 1024;
/** The first allocation of a stream's hold; it doubles as the stream grows. */
const FIRST_HOLD_BYTES = 4 * 1024;

type Json = Record<string, unknown>;
const isEmpty = (u: TokenUsage) => u.input === 0 && u.output === 0 && u.cacheRead === 0 && u.cacheWrite === 0;

export class StreamUsageReader {
  private readonly newEvents: () => StreamEvents;
  private events: StreamEvents;
  private readonly maxTextBytes: number;
  private readonly holdBytes: number;
  private parser: SseParser;
  /** Receives text while it is read; undefined while it is not (not collected, or held). */
  private sink: TextSink | undefined;
  /** The stream's bytes are being held aside (`held`, allocated on the first chunk). */
  private holding: boolean;
  private held: Buffer | undefined;
  private heldBytes = 0;
  private text: string[] = [];
  private textBytes = 0;
  private textTruncated = false;
  private complete = false;
  private malformed = 0;
  private finished: StreamUsageResult | undefined;

  /** `events` gives a fresh view of the stream's dialect: a stream read again gets a new one. */
  constructor(events: () => StreamEvents, opts: { collectText?: boolean; maxTextBytes?: number; holdBytes?: number } = {}) {
    this.newEvents = events;
    this.events = events();
    const collectText = opts.collectText ?? false;
    this.maxTextBytes = opts.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES;
    this.holdBytes = opts.holdBytes ?? DEFAULT_HOLD_BYTES;
    this.holding = collectText && this.holdBytes > 0;
    this.sink = collectText && !this.holding ? (v) => this.addText(v) : undefined;
    this.parser = new SseParser((e) => this.onEvent(e));
  }

  /** Called with every chunk relayed to the client; never throws. */
  push(chunk: Buffer): void {
    if (this.finished) return;
    try {
      if (this.holding) this.hold(chunk);
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
    if (this.holding) {
      // The usage is taken before the stream is read again: text events cannot change it.
      if (usage) {
        this.held = undefined;
      } else {
        try {
          this.readHeld();
          this.parser.end();
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
    if (!this.sink && !this.events.mayCarryUsage(e)) return;
    if (e.event === 'ping') return;
    const event = this.parse(e.data);
    if (event && this.events.read(event, this.sink) === true) this.complete = true;
  }

  /** Copies `chunk` aside, or reads the stream again from its start when the hold is outgrown. */
  private hold(chunk: Buffer): void {
    const bytes = this.heldBytes + chunk.length;
    if (bytes > this.holdBytes) return this.readHeld();
    if (!this.held || bytes > this.held.length) {
      const size = Math.min(this.holdBytes, Math.max(bytes, FIRST_HOLD_BYTES, 2 * (this.held?.length ?? 0)));
      const bigger = Buffer.allocUnsafeSlow(size);
      this.held?.copy(bigger, 0, 0, this.heldBytes);
      this.held = bigger;
    }
    chunk.copy(this.held, this.heldBytes);
    this.heldBytes = bytes;
  }

  /**
   * Reads what was held from its start, text and all, with a fresh parser and dialect view
   * (which then read every later event as it comes). They see every event the first reading
   * parsed, so what they count replaces its counts.
   */
  private readHeld(): void {
    const held = this.held?.subarray(0, this.heldBytes);
    this.holding = false;
    this.held = undefined;
    this.events = this.newEvents();
    this.sink = (v) => this.addText(v);
    this.complete = false;
    this.malformed = 0;
    this.parser = new SseParser((e) => this.onEvent(e));
    if (held) this.parser.push(held);
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
