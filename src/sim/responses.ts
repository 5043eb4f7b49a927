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
  reasoning: boolean;
  streamUsage: 'final_chunk' | 'separate_chunk' | 'none';
}

/** One SSE event; `delta` events are the ones gated, counted and cut by resetMidStream. */
export interface StreamEvent {
  text: string;
  delta: boolean;
}

/** Prompt tokens derived from the request alone, so direct and proxied calls agree. */
export function promptTokensFor(body: unknown): number {
  const messages = body !== null && typeof body === 'object' ? (body as { messages?: unknown }).messages : undefined;
  const json = JSON.stringify(messages ?? []) ?? '';
  return Math.max(1, Math.ceil(json.length / 4));
}

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

export function openaiCompletionBody(c: CompletionSpec): string {
  const reasoning = c.reasoning ? `,"reasoning_content":${JSON.stringify(REASONING_TEXT)}` : '';
  return (
    `{"id":"${c.id}","object":"chat.completion","created":${c.created},"model":${JSON.stringify(c.model)},` +
    `"choices":[{"index":0,"message":{"role":"assistant","content":${JSON.stringify(simContent(c.chunks))}${reasoning}},"finish_reason":"stop"}],` +
    `"usage":${openaiUsage(c)}}`
  );
}

export function openaiStreamEvents(c: CompletionSpec): StreamEvent[] {
  const head = `data: {"id":"${c.id}","object":"chat.completion.chunk","created":${c.created},"model":${JSON.stringify(c.model)},"choices":`;
  const events: StreamEvent[] = [];
  let first = true;
  const role = () => (first ? ((first = false), '"role":"assistant",') : '');
  if (c.reasoning) {
    for (const r of REASONING_DELTAS) {
      events.push({ text: `${head}[{"index":0,"delta":{${role()}"reasoning_content":${JSON.stringify(r)}},"finish_reason":null}]}\n\n`, delta: true });
    }
  }
  const deltas = contentDeltas(c.chunks);
  deltas.forEach((d, i) => {
    const last = i === deltas.length - 1;
    const usage = last && c.streamUsage === 'final_chunk' ? `,"usage":${openaiUsage(c)}` : '';
    const finish = last ? '"stop"' : 'null';
    events.push({ text: `${head}[{"index":0,"delta":{${role()}"content":${JSON.stringify(d)}},"finish_reason":${finish}}]${usage}}\n\n`, delta: true });
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
export function anthropicMessageBody(c: CompletionSpec): string {
  return (
    `{"id":"${c.id}","type":"message","role":"assistant","model":${JSON.stringify(c.model)},` +
    `"content":[{"type":"text","text":${JSON.stringify(simContent(c.chunks))}}],"stop_reason":"end_turn","stop_sequence":null,` +
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
    { text: sse('content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}'), delta: false },
    { text: sse('ping', '{"type":"ping"}'), delta: false },
  ];
  for (const d of contentDeltas(c.chunks)) {
    events.push({ text: sse('content_block_delta', `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${JSON.stringify(d)}}}`), delta: true });
  }
  events.push({ text: sse('content_block_stop', '{"type":"content_block_stop","index":0}'), delta: false });
  if (c.chunks > 2) {
    const partial = Math.floor(c.outputTokens / 2);
    events.push({ text: sse('message_delta', `{"type":"message_delta","delta":{"stop_reason":null,"stop_sequence":null},"usage":${anthropicUsage(c, partial)}}`), delta: false });
  }
  events.push({
    text: sse('message_delta', `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":${anthropicUsage(c, c.outputTokens)}}`),
    delta: false,
  });
  events.push({ text: sse('message_stop', '{"type":"message_stop"}'), delta: false });
  return events;
}

export const MODEL_NAMES: readonly string[] = ['glm-4.5', 'glm-4.5-air', 'glm-4.6', 'glm-4.7', 'glm-5', 'glm-5.1', 'glm-5.2', 'glm-4.5v', 'glm-4.6v'];

export const MODELS_BODY = JSON.stringify({
  object: 'list',
  data: MODEL_NAMES.map((id) => ({ id, object: 'model', created: 1_750_000_000, owned_by: 'z-ai' })),
});
