import { SseParser, type SseEvent } from './sse.js';
import type { TokenUsage } from './usage.js';
import { isRecord } from '../lib/json.js';

/**
 * Reads token usage (and, on request, the generated text for a local estimate) from a
 * streamed response while the relay passes it on. The proxy calls push() with every chunk it
 * writes to the client, so the common case must stay cheap: events that cannot carry usage
 * are not JSON-parsed unless their text is wanted. What an event means is the dialect's
 * business (src/dialects); this reader only drives it.
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
  /** Generated text (answer, reasoning, tool-call arguments); empty unless collectText. */
  outputText: string;
  /** True once the stream said it was over: `data: [DONE]` or `message_stop`. */
  complete: boolean;
  /** Events that should have been JSON and were not (or that broke the reader). */
  malformedEvents: number;
  /** The collected text hit maxTextBytes and was cut there. */
  textTruncated: boolean;
}

export const DEFAULT_MAX_TEXT_BYTES = 1024 * 1024;

type Json = Record<string, unknown>;
const isEmpty = (u: TokenUsage) => u.input === 0 && u.output === 0 && u.cacheRead === 0 && u.cacheWrite === 0;

export class StreamUsageReader {
  private readonly events: StreamEvents;
  private readonly collectText: boolean;
  private readonly maxTextBytes: number;
  private readonly parser: SseParser;
  private readonly sink: TextSink | undefined;
  private text: string[] = [];
  private textBytes = 0;
  private textTruncated = false;
  private complete = false;
  private malformed = 0;
  private finished: StreamUsageResult | undefined;

  constructor(events: StreamEvents, opts: { collectText?: boolean; maxTextBytes?: number } = {}) {
    this.events = events;
    this.collectText = opts.collectText ?? false;
    this.maxTextBytes = opts.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES;
    this.sink = this.collectText ? (v) => this.addText(v) : undefined;
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
    const usage = this.events.usage();
    this.finished = {
      ...(usage && !isEmpty(usage) ? { usage } : {}),
      outputText: this.text.join(''),
      complete: this.complete,
      malformedEvents: this.malformed + this.parser.droppedEvents,
      textTruncated: this.textTruncated,
    };
    this.text = [];
    return this.finished;
  }

  private onEvent(e: SseEvent): void {
    if (this.events.isEnd(e)) {
      this.complete = true;
      return;
    }
    if (!this.collectText && !this.events.mayCarryUsage(e)) return;
    if (e.event === 'ping') return;
    const event = this.parse(e.data);
    if (event && this.events.read(event, this.sink) === true) this.complete = true;
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
