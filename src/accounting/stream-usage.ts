import { SseParser, type SseEvent } from './sse.js';
import { tokenCount, usageFromAnthropic, usageFromOpenAi, type Dialect, type TokenUsage } from './usage.js';

/**
 * Reads token usage (and, on request, the generated text for a local estimate) from a
 * streamed response while the relay passes it on. The proxy calls push() with every chunk it
 * writes to the client, so the common case must stay cheap: events that cannot carry usage
 * are not JSON-parsed unless their text is wanted.
 */

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

/** OpenAI chunks carry `"usage": null` until the last one when include_usage is on. */
const OPENAI_USAGE_OBJECT = /"usage"\s*:\s*\{/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (u: TokenUsage) => u.input === 0 && u.output === 0 && u.cacheRead === 0 && u.cacheWrite === 0;

export class StreamUsageReader {
  private readonly dialect: Dialect;
  private readonly collectText: boolean;
  private readonly maxTextBytes: number;
  private readonly parser: SseParser;
  private text: string[] = [];
  private textBytes = 0;
  private textTruncated = false;
  private complete = false;
  private malformed = 0;
  private finished: StreamUsageResult | undefined;
  /** OpenAI: the last usage object seen. */
  private openAiUsage: TokenUsage | undefined;
  /** Anthropic: usage from message_start and from the latest message_delta, merged at the end. */
  private startUsage: TokenUsage | undefined;
  private deltaUsage: Json | undefined;

  constructor(dialect: Dialect, opts: { collectText?: boolean; maxTextBytes?: number } = {}) {
    this.dialect = dialect;
    this.collectText = opts.collectText ?? false;
    this.maxTextBytes = opts.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES;
    this.parser = new SseParser(dialect === 'openai' ? (e) => this.onOpenAi(e) : (e) => this.onAnthropic(e));
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
    const usage = this.dialect === 'openai' ? this.openAiUsage : this.mergedAnthropicUsage();
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

  private parse(data: string): Json | undefined {
    try {
      const v: unknown = JSON.parse(data);
      if (isObject(v)) return v;
    } catch {
      // counted below
    }
    this.malformed++;
    return undefined;
  }

  private onOpenAi(e: SseEvent): void {
    const data = e.data;
    if (data === '[DONE]' || data.trim() === '[DONE]') {
      this.complete = true;
      return;
    }
    if (!this.collectText && !OPENAI_USAGE_OBJECT.test(data)) return;
    const chunk = this.parse(data);
    if (!chunk) return;
    if (isObject(chunk.usage)) this.openAiUsage = usageFromOpenAi(chunk.usage);
    if (!this.collectText || !Array.isArray(chunk.choices)) return;
    for (const choice of chunk.choices) {
      if (!isObject(choice) || !isObject(choice.delta)) continue;
      const delta = choice.delta;
      this.addText(delta.reasoning_content);
      this.addText(delta.content);
      if (Array.isArray(delta.tool_calls)) {
        for (const call of delta.tool_calls) {
          if (isObject(call) && isObject(call.function)) this.addText(call.function.arguments);
        }
      }
    }
  }

  private onAnthropic(e: SseEvent): void {
    const name = e.event;
    if (name === 'message_stop') {
      this.complete = true;
      return;
    }
    if (!this.collectText) {
      // Only message_start and message_delta carry usage; skip the rest unparsed.
      if (name !== undefined ? name !== 'message_start' && name !== 'message_delta' : !e.data.includes('message_')) return;
    } else if (name === 'ping') {
      return;
    }
    const ev = this.parse(e.data);
    if (!ev) return;
    switch (ev.type) {
      case 'message_start':
        if (isObject(ev.message) && isObject(ev.message.usage)) this.startUsage = usageFromAnthropic(ev.message.usage);
        break;
      case 'message_delta':
        // Cumulative on Z.AI and on Anthropic: the latest one replaces, never adds.
        if (isObject(ev.usage)) this.deltaUsage = ev.usage;
        break;
      case 'message_stop':
        this.complete = true;
        break;
      case 'content_block_delta':
        if (this.collectText && isObject(ev.delta)) {
          const d = ev.delta;
          if (d.type === 'text_delta') this.addText(d.text);
          else if (d.type === 'thinking_delta') this.addText(d.thinking);
          else if (d.type === 'input_json_delta') this.addText(d.partial_json);
        }
        break;
      default:
        break;
    }
  }

  /**
   * Z.AI sends zeros in message_start and the real totals in message_delta; Anthropic sends
   * input and cache counts in message_start and (often) only output in message_delta. So a
   * field present and non-zero in the latest message_delta wins, else message_start's value.
   */
  private mergedAnthropicUsage(): TokenUsage | undefined {
    const start = this.startUsage;
    const d = this.deltaUsage;
    if (!d) return start;
    const pick = (deltaValue: unknown, startValue: number | undefined) => tokenCount(deltaValue) || startValue || 0;
    return {
      input: pick(d.input_tokens, start?.input),
      output: pick(d.output_tokens, start?.output),
      cacheRead: pick(d.cache_read_input_tokens, start?.cacheRead),
      cacheWrite: pick(d.cache_creation_input_tokens, start?.cacheWrite),
    };
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
    const cut = Buffer.from(value).subarray(0, room).toString('utf8').replace(/\uFFFD$/, '');
    this.text.push(cut);
    this.textBytes += Buffer.byteLength(cut);
    this.textTruncated = true;
  }
}
