import { MODEL_NAMES, type SimStop, type SimToolCall } from './agent.js';

/**
 * Deterministic response bodies and stream events for both API shapes. Pure string builders:
 * the server decides when (and whether) each piece is written.
 */

export interface CompletionSpec {
  id: string;
  /** Epoch seconds. */
  created: number;
  model: string;
  promptTokens: number;
  outputTokens: number;
  cachedTokens: number;
  cacheCreationTokens: number;
  chunks: number;
  /** Reasoning first: OpenAI `reasoning_content`, Anthropic a thinking block. */
  reasoning: boolean;
  streamUsage: 'final_chunk' | 'separate_chunk' | 'none';
  /** The turn ends in this tool call instead of text. */
  toolCall?: SimToolCall;
  stop: SimStop;
}

/** One SSE event; `delta` events are the ones gated, counted and cut by resetMidStream. */
export interface StreamEvent {
  text: string;
  delta: boolean;
}

/** A tool call's arguments streamed in up to three pieces, as models do. */
export function argumentDeltas(args: string): string[] {
  const step = Math.max(1, Math.ceil(args.length / 3));
  const out: string[] = [];
  for (let i = 0; i < args.length; i += step) out.push(args.slice(i, i + step));
  return out.length > 0 ? out : [''];
}

export const THINKING_SIGNATURE = 'sim-thinking-signature';

const deltaCache = new Map<number, string[]>();

/** The content deltas of a stream: `chunk 0`, ` chunk 1`, … (concatenated: `chunk 0 chunk 1 …`). */
export function contentDeltas(chunks: number): string[] {
  let d = deltaCache.get(chunks);
  if (!d) {
    d = Array.from({ length: chunks }, (_, i) => (i === 0 ? 'chunk 0' : ` chunk ${i}`));
    if (deltaCache.size < 64) deltaCache.set(chunks, d);
  }
  return d;
}

/** The full text a client should end up with, streamed or not. */
export function simContent(chunks: number): string {
  return contentDeltas(chunks).join('');
}

export const REASONING_DELTAS: readonly string[] = ['think 0', ' think 1'];
export const REASONING_TEXT = REASONING_DELTAS.join('');

// ---------------------------------------------------------------- OpenAI-compatible

function openaiUsage(c: CompletionSpec): string {
  return `{"prompt_tokens":${c.promptTokens},"completion_tokens":${c.outputTokens},"total_tokens":${c.promptTokens + c.outputTokens},"prompt_tokens_details":{"cached_tokens":${c.cachedTokens}}}`;
}

const OPENAI_FINISH: Record<SimStop, string> = { end: 'stop', tool: 'tool_calls', max_tokens: 'length' };

export function openaiCompletionBody(c: CompletionSpec): string {
  const reasoning = c.reasoning ? `,"reasoning_content":${JSON.stringify(REASONING_TEXT)}` : '';
  const t = c.toolCall;
  const content = t ? 'null' : JSON.stringify(simContent(c.chunks));
  const calls = t
    ? `,"tool_calls":[{"id":${JSON.stringify(t.id)},"type":"function","function":{"name":${JSON.stringify(t.name)},"arguments":${JSON.stringify(t.arguments)}}}]`
    : '';
  return (
    `{"id":"${c.id}","object":"chat.completion","created":${c.created},"model":${JSON.stringify(c.model)},` +
    `"choices":[{"index":0,"message":{"role":"assistant","content":${content}${reasoning}${calls}},"finish_reason":"${OPENAI_FINISH[c.stop]}"}],` +
    `"usage":${openaiUsage(c)}}`
  );
}

export function openaiStreamEvents(c: CompletionSpec): StreamEvent[] {
  const head = `data: {"id":"${c.id}","object":"chat.completion.chunk","created":${c.created},"model":${JSON.stringify(c.model)},"choices":`;
  const events: StreamEvent[] = [];
  let first = true;
  const role = () => {
    if (!first) return '';
    first = false;
    return '"role":"assistant",';
  };
  if (c.reasoning) {
    for (const r of REASONING_DELTAS) {
      events.push({ text: `${head}[{"index":0,"delta":{${role()}"reasoning_content":${JSON.stringify(r)}},"finish_reason":null}]}\n\n`, delta: true });
    }
  }
  const t = c.toolCall;
  const deltas = t
    ? argumentDeltas(t.arguments).map((a, i) => {
        const opening = i === 0 ? `"id":${JSON.stringify(t.id)},"type":"function",` : '';
        const name = i === 0 ? `"name":${JSON.stringify(t.name)},` : '';
        return `"tool_calls":[{"index":0,${opening}"function":{${name}"arguments":${JSON.stringify(a)}}}]`;
      })
    : contentDeltas(c.chunks).map((d) => `"content":${JSON.stringify(d)}`);
  deltas.forEach((d, i) => {
    const last = i === deltas.length - 1;
    const usage = last && c.streamUsage === 'final_chunk' ? `,"usage":${openaiUsage(c)}` : '';
    const finish = last ? `"${OPENAI_FINISH[c.stop]}"` : 'null';
    events.push({ text: `${head}[{"index":0,"delta":{${role()}${d}},"finish_reason":${finish}}]${usage}}\n\n`, delta: true });
  });
  if (c.streamUsage === 'separate_chunk') events.push({ text: `${head}[],"usage":${openaiUsage(c)}}\n\n`, delta: false });
  events.push({ text: 'data: [DONE]\n\n', delta: false });
  return events;
}

// ---------------------------------------------------------------- Anthropic-compatible

function anthropicUsage(c: CompletionSpec, outputTokens: number): string {
  if (c.streamUsage === 'none') return '{"input_tokens":0,"output_tokens":0}';
  return `{"input_tokens":${c.promptTokens},"output_tokens":${outputTokens},"cache_read_input_tokens":${c.cachedTokens},"cache_creation_input_tokens":${c.cacheCreationTokens}}`;
}

/**
 * `usage.input_tokens` is the request-derived prompt count; cache reads and writes are
 * reported beside it, not subtracted from it.
 */
const ANTHROPIC_STOP: Record<SimStop, string> = { end: 'end_turn', tool: 'tool_use', max_tokens: 'max_tokens' };

export function anthropicMessageBody(c: CompletionSpec): string {
  const blocks: string[] = [];
  if (c.reasoning) blocks.push(`{"type":"thinking","thinking":${JSON.stringify(REASONING_TEXT)},"signature":"${THINKING_SIGNATURE}"}`);
  const t = c.toolCall;
  if (t) blocks.push(`{"type":"tool_use","id":${JSON.stringify(t.id)},"name":${JSON.stringify(t.name)},"input":${t.arguments}}`);
  else blocks.push(`{"type":"text","text":${JSON.stringify(simContent(c.chunks))}}`);
  return (
    `{"id":"${c.id}","type":"message","role":"assistant","model":${JSON.stringify(c.model)},` +
    `"content":[${blocks.join(',')}],"stop_reason":"${ANTHROPIC_STOP[c.stop]}","stop_sequence":null,` +
    `"usage":${anthropicUsage({ ...c, streamUsage: 'final_chunk' }, c.outputTokens)}}`
  );
}

const sse = (type: string, data: string): string => `event: ${type}\ndata: ${data}\n\n`;

/**
 * Z.AI's dialect: `message_start` with all-zero usage, then cumulative usage in
 * `message_delta` — sent twice when there are more than two chunks (a partial count, then
 * the total), so a reader that sums them is wrong.
 */
export function anthropicStreamEvents(c: CompletionSpec): StreamEvent[] {
  const events: StreamEvent[] = [
    {
      text: sse(
        'message_start',
        `{"type":"message_start","message":{"id":"${c.id}","type":"message","role":"assistant","model":${JSON.stringify(c.model)},"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}`,
      ),
      delta: false,
    },
  ];
  let index = 0;
  const block = (start: string, deltas: string[], after: string[] = []) => {
    events.push({ text: sse('content_block_start', `{"type":"content_block_start","index":${index},"content_block":${start}}`), delta: false });
    if (index === 0) events.push({ text: sse('ping', '{"type":"ping"}'), delta: false });
    for (const d of deltas) events.push({ text: sse('content_block_delta', `{"type":"content_block_delta","index":${index},"delta":${d}}`), delta: true });
    for (const d of after) events.push({ text: sse('content_block_delta', `{"type":"content_block_delta","index":${index},"delta":${d}}`), delta: false });
    events.push({ text: sse('content_block_stop', `{"type":"content_block_stop","index":${index}}`), delta: false });
    index++;
  };
  if (c.reasoning) {
    block(
      '{"type":"thinking","thinking":"","signature":""}',
      REASONING_DELTAS.map((r) => `{"type":"thinking_delta","thinking":${JSON.stringify(r)}}`),
      [`{"type":"signature_delta","signature":"${THINKING_SIGNATURE}"}`],
    );
  }
  const t = c.toolCall;
  if (t) {
    block(
      `{"type":"tool_use","id":${JSON.stringify(t.id)},"name":${JSON.stringify(t.name)},"input":{}}`,
      argumentDeltas(t.arguments).map((a) => `{"type":"input_json_delta","partial_json":${JSON.stringify(a)}}`),
    );
  } else {
    block(
      '{"type":"text","text":""}',
      contentDeltas(c.chunks).map((d) => `{"type":"text_delta","text":${JSON.stringify(d)}}`),
    );
  }
  if (c.chunks > 2) {
    const partial = Math.floor(c.outputTokens / 2);
    events.push({
      text: sse('message_delta', `{"type":"message_delta","delta":{"stop_reason":null,"stop_sequence":null},"usage":${anthropicUsage(c, partial)}}`),
      delta: false,
    });
  }
  events.push({
    text: sse(
      'message_delta',
      `{"type":"message_delta","delta":{"stop_reason":"${ANTHROPIC_STOP[c.stop]}","stop_sequence":null},"usage":${anthropicUsage(c, c.outputTokens)}}`,
    ),
    delta: false,
  });
  events.push({ text: sse('message_stop', '{"type":"message_stop"}'), delta: false });
  return events;
}

export const MODELS_BODY = JSON.stringify({
  object: 'list',
  data: MODEL_NAMES.map((id) => ({ id, object: 'model', created: 1_750_000_000, owned_by: 'z-ai' })),
});
