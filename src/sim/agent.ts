import { estimateTokensSync, promptText } from '../accounting/estimate.js';
import { isRecord } from '../lib/json.js';

/**
 * How the simulator plays the model in an agent's loop, decided from the request alone so a
 * direct call and a proxied one get the same answer:
 *
 * - tools offered, tool choice not `none`, and the last message is not a tool result → call
 *   a tool: the next call the scenario scripted, else the first tool offered with arguments
 *   made from its JSON schema;
 * - otherwise answer text; `max_tokens` below the scenario's output tokens stops there;
 * - thinking first when the request asks for it (Anthropic `thinking`), or the scenario does.
 *
 * Prompt tokens are counted over everything a request sends as prompt (system, tools,
 * messages) with the proxy's own tokenizer, so counts are of a realistic size.
 */

export interface SimToolCall {
  id: string;
  name: string;
  /** JSON text of the arguments. */
  arguments: string;
}

export type SimStop = 'end' | 'tool' | 'max_tokens';

export interface ScriptedCall {
  name: string;
  arguments: Record<string, unknown>;
}

type Json = Record<string, unknown>;

/** Model names Z.AI lists today; any other `glm-*` name is accepted too, since names change often. */
export const MODEL_NAMES: readonly string[] = ['glm-4.5', 'glm-4.5-air', 'glm-4.6', 'glm-4.7', 'glm-5', 'glm-5.1', 'glm-5.2', 'glm-4.5v', 'glm-4.6v'];

/** Whether Z.AI would know this model; others get its 1211 answer. */
export function knownModel(model: unknown): boolean {
  return typeof model === 'string' && (MODEL_NAMES.includes(model) || /^glm-[a-z0-9.-]+$/i.test(model));
}

/** Prompt tokens of a request: system, tools and messages, with the proxy's tokenizer. */
export function promptTokensFor(body: unknown): number {
  return Math.max(1, estimateTokensSync(promptText(body)));
}

/** The last message is a tool's answer: OpenAI `role: tool`, Anthropic a `tool_result` block. */
function lastIsToolResult(messages: unknown): boolean {
  if (!Array.isArray(messages) || messages.length === 0) return false;
  const last = messages[messages.length - 1];
  if (!isRecord(last)) return false;
  if (last.role === 'tool') return true;
  return Array.isArray(last.content) && last.content.some((b) => isRecord(b) && b.type === 'tool_result');
}

/** Tool names and schemas offered, in either shape. */
function offeredTools(tools: unknown): { name: string; schema: unknown }[] {
  if (!Array.isArray(tools)) return [];
  const out: { name: string; schema: unknown }[] = [];
  for (const t of tools) {
    if (!isRecord(t)) continue;
    const def = isRecord(t.function) ? t.function : t;
    if (typeof def.name === 'string') out.push({ name: def.name, schema: def.parameters ?? def.input_schema });
  }
  return out;
}

function wantsNoTool(choice: unknown): boolean {
  return choice === 'none' || (isRecord(choice) && choice.type === 'none');
}

/** Arguments that satisfy a JSON schema's required properties, simply. */
export function argumentsFor(schema: unknown): Json {
  const args: Json = {};
  if (!isRecord(schema) || !isRecord(schema.properties)) return args;
  const required = Array.isArray(schema.required) ? schema.required : [];
  for (const name of required) {
    const prop = typeof name === 'string' ? schema.properties[name] : undefined;
    if (typeof name !== 'string') continue;
    const type = isRecord(prop) ? prop.type : undefined;
    args[name] = type === 'number' || type === 'integer' ? 1 : type === 'boolean' ? true : type === 'array' ? ['sim'] : type === 'object' ? {} : 'sim';
  }
  return args;
}

export interface AgentTurn {
  toolCall?: SimToolCall;
  thinking: boolean;
  outputTokens: number;
  stop: SimStop;
}

export function agentTurn(
  request: Json,
  opts: { outputTokens: number; reasoning: boolean; toolUse: 'auto' | 'none'; nextScripted: () => ScriptedCall | undefined; callId: () => string },
): AgentTurn {
  const thinking = opts.reasoning || (isRecord(request.thinking) && (request.thinking.type === 'enabled' || request.thinking.type === 'adaptive'));
  const tools = offeredTools(request.tools);
  if (tools.length > 0 && opts.toolUse === 'auto' && !wantsNoTool(request.tool_choice) && !lastIsToolResult(request.messages)) {
    const scripted = opts.nextScripted();
    const name = scripted?.name ?? tools[0]!.name;
    const args = scripted?.arguments ?? argumentsFor(tools.find((t) => t.name === name)?.schema);
    return { toolCall: { id: opts.callId(), name, arguments: JSON.stringify(args) }, thinking, outputTokens: opts.outputTokens, stop: 'tool' };
  }
  const max = [request.max_tokens, request.max_completion_tokens].find((v): v is number => typeof v === 'number' && v > 0);
  if (max !== undefined && max < opts.outputTokens) return { thinking, outputTokens: max, stop: 'max_tokens' };
  return { thinking, outputTokens: opts.outputTokens, stop: 'end' };
}
