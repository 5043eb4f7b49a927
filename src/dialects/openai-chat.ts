import type { SseEvent } from '../accounting/sse.js';
import type { StreamEvents, TextSink } from '../accounting/stream-usage.js';
import { usageFromOpenAi, type TokenUsage } from '../accounting/usage.js';
import type { Dialect, Json } from './dialect.js';
import { isRecord } from '../lib/json.js';

/** OpenAI chunks carry `"usage": null` until the last one when include_usage is on. */
const USAGE_OBJECT = /"usage"\s*:\s*\{/;

/** Usage arrives on the last chunk carrying a `usage` object; `data: [DONE]` ends the stream. */
class OpenAiStreamEvents implements StreamEvents {
  private last: TokenUsage | undefined;

  isEnd(e: SseEvent): boolean {
    return e.data === '[DONE]' || e.data.trim() === '[DONE]';
  }

  mayCarryUsage(e: SseEvent): boolean {
    return USAGE_OBJECT.test(e.data);
  }

  read(chunk: Json, text: TextSink | undefined): boolean {
    if (isRecord(chunk.usage)) this.last = usageFromOpenAi(chunk.usage);
    if (!text || !Array.isArray(chunk.choices)) return false;
    for (const choice of chunk.choices) {
      if (!isRecord(choice) || !isRecord(choice.delta)) continue;
      const delta = choice.delta;
      text(delta.reasoning_content);
      text(delta.content);
      if (Array.isArray(delta.tool_calls)) {
        for (const call of delta.tool_calls) if (isRecord(call) && isRecord(call.function)) text(call.function.arguments);
      }
    }
    return false;
  }

  usage(): TokenUsage | undefined {
    return this.last;
  }
}

/** Z.AI's OpenAI-compatible API: chat completions, models and anything else under the OpenAI base. */
export const openaiChat: Dialect = {
  base: 'openai',
  upstreamPath: (pathname) => pathname.slice(3), // `/v1/x` → `{base}/x`
  injectKey: (headers, key) => {
    headers.authorization = `Bearer ${key}`;
  },
  errorBody: ({ type, message, code }) => JSON.stringify({ error: { message, type, code: code ?? type } }),
  streamError: (message) => `data: ${JSON.stringify({ error: { message, type: 'api_error', code: 'stream_interrupted' } })}\n\n`,
  usage: usageFromOpenAi,
  streamEvents: () => new OpenAiStreamEvents(),
  completionText: (answer) => {
    const parts: string[] = [];
    for (const choice of Array.isArray(answer.choices) ? answer.choices : []) {
      const m = isRecord(choice) && isRecord(choice.message) ? choice.message : {};
      for (const k of ['content', 'reasoning_content']) if (typeof m[k] === 'string') parts.push(m[k] as string);
      if (Array.isArray(m.tool_calls)) parts.push(JSON.stringify(m.tool_calls));
    }
    return parts.join('\n');
  },
};
