import { randomBytes } from 'node:crypto';
import type { Json } from '../dialect.js';
import type { ResponsesContext } from './request.js';
import { isRecord } from '../../lib/json.js';

/**
 * Chat completion answers as Response objects: the pieces shared by the whole-body and the
 * streamed translation (ids, output items, status, usage), and the whole-body translation.
 */

export const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

/** Why a chat completion stopped, as a Response's status. */
export function statusFor(finishReason: unknown): { status: 'completed' | 'incomplete'; incomplete_details: Json | null } {
  if (finishReason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finishReason === 'sensitive' || finishReason === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/** Chat usage in the Responses shape (cached and reasoning counts are parts of the totals). */
export function responsesUsage(usage: unknown): Json | null {
  if (!isRecord(usage)) return null;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);
  const input = n(usage.prompt_tokens);
  const output = n(usage.completion_tokens);
  const cached = isRecord(usage.prompt_tokens_details) ? n(usage.prompt_tokens_details.cached_tokens) : 0;
  const reasoning = isRecord(usage.completion_tokens_details) ? n(usage.completion_tokens_details.reasoning_tokens) : 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: n(usage.total_tokens) || input + output,
  };
}

/** A Response object around `output`; `status` as it stands now. */
export function responseObject(id: string, createdAt: number, ctx: ResponsesContext, fields: Json): Json {
  const e = ctx.echo;
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: e.instructions ?? null,
    max_output_tokens: e.max_output_tokens ?? null,
    metadata: e.metadata ?? {},
    model: ctx.model,
    output: [],
    parallel_tool_calls: e.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: e.reasoning ?? { effort: null, summary: null },
    store: false,
    temperature: e.temperature ?? null,
    text: e.text ?? { format: { type: 'text' } },
    tool_choice: e.tool_choice ?? 'auto',
    tools: e.tools ?? [],
    top_p: e.top_p ?? null,
    truncation: 'disabled',
    usage: null,
    user: e.user ?? null,
    ...fields,
  };
}

export const reasoningItem = (id: string, text: string): Json => ({
  type: 'reasoning',
  id,
  summary: [],
  content: [{ type: 'reasoning_text', text }],
});

export const messageItem = (id: string, text: string, status: string): Json => ({
  type: 'message',
  id,
  status,
  role: 'assistant',
  content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
});

/** A tool call item: `custom_tool_call` for custom tools (its `input` unwrapped), else `function_call`. */
export function callItem(id: string, callId: string, name: string, args: string, status: string, ctx: ResponsesContext): Json {
  if (ctx.customTools.has(name)) return { type: 'custom_tool_call', id, call_id: callId, name, input: customInput(args), status };
  return { type: 'function_call', id, call_id: callId, name, arguments: args, status };
}

/** The `input` string a custom tool call carries inside its JSON arguments (or the raw text). */
export function customInput(args: string): string {
  try {
    const parsed: unknown = JSON.parse(args);
    if (isRecord(parsed) && typeof parsed.input === 'string') return parsed.input;
  } catch {
    // not JSON: the model wrote the input directly
  }
  return args;
}

/** A whole chat completion as a Response. */
export function responseFromChat(chat: unknown, ctx: ResponsesContext): Json {
  const c = isRecord(chat) ? chat : {};
  const choice = Array.isArray(c.choices) && isRecord(c.choices[0]) ? c.choices[0] : {};
  const message = isRecord(choice.message) ? choice.message : {};
  const output: Json[] = [];
  if (typeof message.reasoning_content === 'string' && message.reasoning_content.length > 0) output.push(reasoningItem(newId('rs'), message.reasoning_content));
  if (typeof message.content === 'string' && message.content.length > 0) output.push(messageItem(newId('msg'), message.content, 'completed'));
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
    if (!isRecord(call) || !isRecord(call.function)) continue;
    const f = call.function;
    const args = typeof f.arguments === 'string' ? f.arguments : JSON.stringify(f.arguments ?? {});
    output.push(callItem(newId('fc'), typeof call.id === 'string' ? call.id : newId('call'), String(f.name ?? ''), args, 'completed', ctx));
  }
  const created = typeof c.created === 'number' ? c.created : Math.floor(Date.now() / 1000);
  return responseObject(newId('resp'), created, ctx, { ...statusFor(choice.finish_reason), output, usage: responsesUsage(c.usage) });
}
