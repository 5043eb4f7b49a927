import type { SseEvent } from '../accounting/sse.js';
import type { StreamEvents, TextSink } from '../accounting/stream-usage.js';
import { tokenCount, usageFromAnthropic, type TokenUsage } from '../accounting/usage.js';
import type { Dialect, Json } from './dialect.js';
import { isRecord } from '../lib/json.js';

/**
 * Usage from `message_start` and the latest `message_delta`, merged at the end;
 * `message_stop` ends the stream.
 */
class AnthropicStreamEvents implements StreamEvents {
  private startUsage: TokenUsage | undefined;
  private deltaUsage: Json | undefined;

  isEnd(e: SseEvent): boolean {
    return e.event === 'message_stop';
  }

  mayCarryUsage(e: SseEvent): boolean {
    // Only message_start and message_delta carry usage.
    const name = e.event;
    return name !== undefined ? name === 'message_start' || name === 'message_delta' : e.data.includes('message_');
  }

  read(ev: Json, text: TextSink | undefined): boolean {
    switch (ev.type) {
      case 'message_start':
        if (isRecord(ev.message) && isRecord(ev.message.usage)) this.startUsage = usageFromAnthropic(ev.message.usage);
        return false;
      case 'message_delta':
        // Cumulative on Z.AI and on Anthropic: the latest one replaces, never adds.
        if (isRecord(ev.usage)) this.deltaUsage = ev.usage;
        return false;
      case 'message_stop':
        return true;
      case 'content_block_delta':
        if (text && isRecord(ev.delta)) {
          const d = ev.delta;
          if (d.type === 'text_delta') text(d.text);
          else if (d.type === 'thinking_delta') text(d.thinking);
          else if (d.type === 'input_json_delta') text(d.partial_json);
        }
        return false;
      default:
        return false;
    }
  }

  /**
   * Z.AI sends zeros in message_start and the real totals in message_delta; Anthropic sends
   * input and cache counts in message_start and (often) only output in message_delta. So a
   * field present and non-zero in the latest message_delta wins, else message_start's value.
   */
  usage(): TokenUsage | undefined {
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
}

/** Z.AI's Anthropic-compatible API: `/v1/messages` and `/v1/messages/count_tokens`, paths kept. */
export const anthropicMessages: Dialect = {
  base: 'anthropic',
  upstreamPath: (pathname) => pathname,
  injectKey: (headers, key) => {
    headers['x-api-key'] = key;
  },
  errorBody: ({ type, message }) => JSON.stringify({ type: 'error', error: { type, message } }),
  streamError: (message) => `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'api_error', message } })}\n\n`,
  usage: usageFromAnthropic,
  streamEvents: () => new AnthropicStreamEvents(),
  completionText: (answer) => {
    const parts: string[] = [];
    for (const block of Array.isArray(answer.content) ? answer.content : []) {
      if (!isRecord(block)) continue;
      if (typeof block.text === 'string') parts.push(block.text);
      else if (typeof block.thinking === 'string') parts.push(block.thinking);
      else if (block.input !== undefined) parts.push(JSON.stringify(block.input));
    }
    return parts.join('\n');
  },
};
