import type { ErrorFacts, Json } from '../dialect.js';
import { isRecord } from '../../lib/json.js';

/**
 * A Responses API request (`POST /v1/responses`) as a chat completion request.
 *
 * What maps: `instructions` and system/developer messages become system messages; user and
 * assistant messages keep their text (and image parts); `function_call` items become an
 * assistant message's `tool_calls`, `function_call_output` items `tool` messages; function
 * tools and `custom` (free-form) tools become chat function tools (a custom tool takes one
 * string argument, `input`); `tool_choice`, `parallel_tool_calls`, `max_output_tokens`,
 * `temperature`, `top_p`, `user`, a JSON `text.format` and a reasoning effort of none/minimal
 * (GLM's `thinking: disabled`) carry over.
 *
 * What is refused with a 400, because the proxy keeps no state and cannot pretend to:
 * `previous_response_id`, `conversation` and `background`. Reasoning items in the input are
 * dropped (GLM does not take its own reasoning back), as are built-in tools (web search, file
 * search, computer use…) that Z.AI has no counterpart for.
 */

/** What the answer's translation needs from the request. */
export interface ResponsesContext {
  model: string;
  stream: boolean;
  /** Names of `custom` tools: calls to them become `custom_tool_call` items. */
  customTools: ReadonlySet<string>;
  /** Request fields a Response object echoes back. */
  echo: Json;
}

export type Translated = { refusal: ErrorFacts } | { body: Json; context: ResponsesContext };

const refuse = (message: string, code = 'unsupported_parameter'): { refusal: ErrorFacts } => ({
  refusal: { status: 400, type: 'invalid_request_error', message, code },
});

const STATELESS =
  'zai-proxy translates the Responses API onto Z.AI chat completions and stores no responses or conversations; send the whole conversation in `input` (as Codex does with store=false).';

/** Text of a content value: a string, or parts of type input_text / output_text / text / refusal. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const p of content) {
    if (typeof p === 'string') parts.push(p);
    else if (isRecord(p) && typeof p.text === 'string') parts.push(p.text);
    else if (isRecord(p) && typeof p.refusal === 'string') parts.push(p.refusal);
  }
  return parts.join('');
}

/** User content: plain text when it is only text, chat content parts when images are in it. */
function userContent(content: unknown): unknown {
  if (!Array.isArray(content) || !content.some((p) => isRecord(p) && p.type === 'input_image')) return textOf(content);
  const parts: Json[] = [];
  for (const p of content) {
    if (!isRecord(p)) continue;
    if (p.type === 'input_image' && typeof p.image_url === 'string') parts.push({ type: 'image_url', image_url: { url: p.image_url } });
    else if (typeof p.text === 'string') parts.push({ type: 'text', text: p.text });
  }
  return parts;
}

function toolOutput(output: unknown): string {
  return typeof output === 'string' ? output : textOf(output) || JSON.stringify(output ?? '');
}

function messages(input: unknown, instructions: unknown): Json[] | { refusal: ErrorFacts } {
  const out: Json[] = [];
  if (typeof instructions === 'string' && instructions.length > 0) out.push({ role: 'system', content: instructions });
  if (typeof input === 'string') {
    out.push({ role: 'user', content: input });
    return out;
  }
  if (!Array.isArray(input)) return refuse('`input` must be a string or an array of input items.', 'invalid_value');
  /** The assistant message that consecutive calls join, so one turn's calls stay one message. */
  let assistant: Json | undefined;
  const callsOf = (m: Json) => (m.tool_calls ??= []) as Json[];
  for (const item of input) {
    if (!isRecord(item)) continue;
    const type = item.type ?? 'message';
    switch (type) {
      case 'message': {
        const role = item.role === 'developer' ? 'system' : item.role;
        if (role === 'assistant') {
          assistant = { role: 'assistant', content: textOf(item.content) };
          out.push(assistant);
          continue;
        }
        if (role !== 'user' && role !== 'system') return refuse(`Unsupported message role ${JSON.stringify(item.role)} in \`input\`.`, 'invalid_value');
        out.push({ role, content: role === 'user' ? userContent(item.content) : textOf(item.content) });
        break;
      }
      case 'function_call':
      case 'custom_tool_call': {
        if (!assistant) {
          assistant = { role: 'assistant', content: null };
          out.push(assistant);
        }
        const args = type === 'custom_tool_call' ? JSON.stringify({ input: typeof item.input === 'string' ? item.input : '' }) : item.arguments;
        callsOf(assistant).push({ id: item.call_id, type: 'function', function: { name: item.name, arguments: typeof args === 'string' ? args : '{}' } });
        continue;
      }
      case 'function_call_output':
      case 'custom_tool_call_output':
        out.push({ role: 'tool', tool_call_id: item.call_id, content: toolOutput(item.output) });
        break;
      case 'reasoning':
        continue; // the model's own reasoning: not sent back (and keeps the assistant turn open)
      case 'item_reference':
        return refuse(`Input items by reference need stored responses. ${STATELESS}`);
      default:
        return refuse(`Input items of type ${JSON.stringify(type)} cannot be sent to Z.AI chat completions.`, 'invalid_value');
    }
    assistant = undefined;
  }
  return out;
}

function tools(list: unknown): { tools: Json[]; custom: Set<string> } {
  const custom = new Set<string>();
  const out: Json[] = [];
  for (const t of Array.isArray(list) ? list : []) {
    if (!isRecord(t) || typeof t.name !== 'string') continue;
    if (t.type === 'function') {
      out.push({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters ?? { type: 'object', properties: {} } } });
    } else if (t.type === 'custom') {
      custom.add(t.name);
      const grammar =
        isRecord(t.format) && typeof t.format.definition === 'string' ? ` Format (${String(t.format.syntax ?? 'grammar')}): ${t.format.definition}` : '';
      out.push({
        type: 'function',
        function: {
          name: t.name,
          description: `${typeof t.description === 'string' ? t.description : ''}${grammar}`,
          parameters: { type: 'object', properties: { input: { type: 'string', description: 'The raw input for this tool.' } }, required: ['input'] },
        },
      });
    }
    // Built-in tools (web_search, file_search, computer_use, mcp, local_shell…) have no Z.AI counterpart.
  }
  return { tools: out, custom };
}

function toolChoice(choice: unknown): unknown {
  if (typeof choice === 'string') return choice;
  if (isRecord(choice) && (choice.type === 'function' || choice.type === 'custom') && typeof choice.name === 'string') {
    return { type: 'function', function: { name: choice.name } };
  }
  return undefined;
}

function responseFormat(text: unknown): unknown {
  const format = isRecord(text) && isRecord(text.format) ? text.format : undefined;
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') return { type: 'json_schema', json_schema: { name: format.name, schema: format.schema, strict: format.strict } };
  return undefined;
}

const ECHOED = [
  'instructions',
  'max_output_tokens',
  'metadata',
  'parallel_tool_calls',
  'temperature',
  'tool_choice',
  'tools',
  'top_p',
  'user',
  'reasoning',
  'text',
] as const;

export function chatRequestFromResponses(request: unknown): Translated {
  if (!isRecord(request)) return refuse('The request body must be a JSON object.', 'invalid_json');
  if (request.previous_response_id !== undefined && request.previous_response_id !== null) {
    return refuse(`\`previous_response_id\` is not supported. ${STATELESS}`);
  }
  if (request.conversation !== undefined && request.conversation !== null) return refuse(`\`conversation\` is not supported. ${STATELESS}`);
  if (request.background === true) return refuse('`background` responses are not supported: zai-proxy answers every request in the foreground.');
  if (typeof request.model !== 'string' || request.model === '') return refuse('`model` is required.', 'missing_required_parameter');

  const msgs = messages(request.input, request.instructions);
  if (!Array.isArray(msgs)) return msgs;
  const { tools: chatTools, custom } = tools(request.tools);
  const stream = request.stream === true;
  const body: Json = { model: request.model, messages: msgs };
  if (chatTools.length > 0) {
    body.tools = chatTools;
    const choice = toolChoice(request.tool_choice);
    if (choice !== undefined) body.tool_choice = choice;
    if (typeof request.parallel_tool_calls === 'boolean') body.parallel_tool_calls = request.parallel_tool_calls;
  }
  if (typeof request.max_output_tokens === 'number') body.max_tokens = request.max_output_tokens;
  for (const k of ['temperature', 'top_p', 'user'] as const) if (request[k] !== undefined && request[k] !== null) body[k] = request[k];
  const format = responseFormat(request.text);
  if (format !== undefined) body.response_format = format;
  const effort = isRecord(request.reasoning) ? request.reasoning.effort : undefined;
  if (effort === 'none' || effort === 'minimal') body.thinking = { type: 'disabled' };
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  const echo: Json = {};
  for (const k of ECHOED) echo[k] = request[k] ?? null;
  return { body, context: { model: request.model, stream, customTools: custom, echo } };
}
