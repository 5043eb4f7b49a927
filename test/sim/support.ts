import { request } from 'undici';

/** A raw SSE body split into its events' `data:` payloads (the `[DONE]` sentinel kept as a string). */
export function sseData(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim().length > 0)
    .map((block) => {
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      return data === '[DONE]' ? '[DONE]' : (JSON.parse(data) as unknown);
    });
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

export async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

export const MESSAGES = [{ role: 'user', content: 'hello there, simulator' }];

/** The parts of an OpenAI stream chunk the tests read. */
export interface OpenAIChunk {
  object: string;
  model: string;
  choices: Array<{ delta: { role?: string; content?: string; reasoning_content?: string }; finish_reason: string | null }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details: { cached_tokens: number } };
}

/** The parts of an Anthropic stream event the tests read. */
export interface AnthropicEvent {
  type: string;
  message?: { usage: Record<string, number> };
  delta?: { text?: string; stop_reason?: string | null };
  usage?: Record<string, number>;
}

/** OpenAI stream: the chunks before the `[DONE]` sentinel, and whether it came last. */
export function openaiStream(text: string): { chunks: OpenAIChunk[]; done: boolean } {
  const events = sseData(text);
  const done = events.at(-1) === '[DONE]';
  return { chunks: (done ? events.slice(0, -1) : events) as OpenAIChunk[], done };
}

export function anthropicStream(text: string): AnthropicEvent[] {
  return sseData(text) as AnthropicEvent[];
}
