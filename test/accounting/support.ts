/**
 * Recorded-shape streams for both dialects, as Z.AI and Anthropic send them. Kept as text so
 * a test can re-encode them with other line endings and split them at every byte offset.
 */

/** Z.AI OpenAI-compatible stream with reasoning, a multi-byte character and a final usage chunk. */
export const OPENAI_STREAM = [
  ': keep-alive',
  '',
  'data: {"id":"c1","object":"chat.completion.chunk","model":"glm-4.7","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Thinking é"}}]}',
  '',
  'data: {"id":"c1","object":"chat.completion.chunk","model":"glm-4.7","choices":[{"index":0,"delta":{"content":"Hello 世界 🌍"}}]}',
  '',
  'data:{"id":"c1","object":"chat.completion.chunk","model":"glm-4.7","choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}]}',
  '',
  'data: {"id":"c1","object":"chat.completion.chunk","model":"glm-4.7","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":42,"total_tokens":162,"prompt_tokens_details":{"cached_tokens":100}}}',
  '',
  'data: [DONE]',
  '',
  '',
].join('\n');

/** Z.AI Anthropic-compatible stream: zeros in message_start, cumulative usage in two message_deltas. */
export const ZAI_ANTHROPIC_STREAM = [
  'event: message_start',
  'data: {"type":"message_start","message":{"id":"m1","type":"message","role":"assistant","model":"glm-4.7","content":[],"usage":{"input_tokens":0,"output_tokens":0}}}',
  '',
  'event: ping',
  'data: {"type":"ping"}',
  '',
  'event: content_block_start',
  'data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}',
  '',
  'event: content_block_delta',
  'data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think: ü"}}',
  '',
  'event: content_block_delta',
  'data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Bonjour 世界"}}',
  '',
  'event: message_delta',
  'data: {"type":"message_delta","delta":{"stop_reason":null},"usage":{"input_tokens":300,"output_tokens":10,"cache_read_input_tokens":50}}',
  '',
  'event: message_delta',
  'data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":300,"output_tokens":25,"cache_read_input_tokens":50}}',
  '',
  'event: message_stop',
  'data: {"type":"message_stop"}',
  '',
  '',
].join('\n');

/** Real Anthropic: input and cache counts in message_start, only output in message_delta. */
export const REAL_ANTHROPIC_STREAM = [
  'event: message_start',
  'data: {"type":"message_start","message":{"id":"m2","type":"message","role":"assistant","model":"claude","content":[],"usage":{"input_tokens":25,"output_tokens":1,"cache_read_input_tokens":400,"cache_creation_input_tokens":30}}}',
  '',
  'event: content_block_delta',
  'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}',
  '',
  'event: message_delta',
  'data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}',
  '',
  'event: message_stop',
  'data: {"type":"message_stop"}',
  '',
  '',
].join('\n');

export const withLineEnding = (text: string, eol: '\n' | '\r\n' | '\r') => text.replace(/\n/g, eol);
