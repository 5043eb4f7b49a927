import { isRecord, parseJson } from '../lib/json.js';

/**
 * Token usage as the upstream reports it, normalised to four directions that never double
 * count: `input` is the uncached part of the prompt, `cacheRead` the cached part,
 * `cacheWrite` what was written to the prompt cache, `output` the generated tokens.
 */

/** Four directions that never double count: `input` is the uncached prompt part. */
export interface TokenUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** Upstreams and simulators send junk now and then: anything not a finite number ≥ 0 counts 0. */
export function tokenCount(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  return Math.floor(value);
}

/**
 * Reads an OpenAI-shaped `usage` object. `prompt_tokens` includes the cached tokens, so the
 * cached part is subtracted to keep `input` and `cacheRead` disjoint.
 */
export function usageFromOpenAi(usage: unknown): TokenUsage | undefined {
  if (!isRecord(usage)) return undefined;
  const prompt = tokenCount(usage.prompt_tokens);
  const details = usage.prompt_tokens_details;
  const cached = Math.min(prompt, isRecord(details) ? tokenCount(details.cached_tokens) : 0);
  return { input: prompt - cached, output: tokenCount(usage.completion_tokens), cacheRead: cached, cacheWrite: 0 };
}

/** Reads an Anthropic-shaped `usage` object; there `input_tokens` already excludes cache reads and writes. */
export function usageFromAnthropic(usage: unknown): TokenUsage | undefined {
  if (!isRecord(usage)) return undefined;
  return {
    input: tokenCount(usage.input_tokens),
    output: tokenCount(usage.output_tokens),
    cacheRead: tokenCount(usage.cache_read_input_tokens),
    cacheWrite: tokenCount(usage.cache_creation_input_tokens),
  };
}

export const totalTokens = (u: TokenUsage) => u.input + u.output + u.cacheRead + u.cacheWrite;

/**
 * Non-streaming JSON body, its `usage` read by the dialect's reader: undefined when it is not JSON or carries no `usage` object. A
 * usage of all zeros is treated as absent too: Z.AI sends zero placeholders, and a reply
 * that really consumed nothing has nothing to count, so the caller may estimate instead.
 */
export function usageFromResponseBody(readUsage: (usage: unknown) => TokenUsage | undefined, body: Buffer): TokenUsage | undefined {
  // The proxy reads every non-streaming answer: parse only the `usage` object when it can be
  // found cheaply (it is the last top-level key in both APIs), the whole body otherwise.
  const at = body.lastIndexOf(USAGE_KEY);
  if (at < 0) return undefined;
  let start = 0;
  while (isSpace(body[start])) start++;
  if (body[start] !== 0x7b) return undefined; // not a JSON object
  let usageJson: unknown;
  const slice = objectAfterKey(body, at + 7);
  try {
    usageJson = slice !== undefined ? JSON.parse(slice) : undefined;
  } catch {
    usageJson = undefined;
  }
  if (usageJson === undefined) {
    const parsed = parseJson(body);
    usageJson = isRecord(parsed) ? parsed.usage : undefined;
  }
  const usage = readUsage(usageJson);
  return usage && totalTokens(usage) > 0 ? usage : undefined;
}

const USAGE_KEY = Buffer.from('"usage"');
const isSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * The text of the object that follows `:` at `from`, when it is the body's last member: it
 * then ends at the last `}` before the body's own. Anything else (a member after it) gives a
 * text that is not one JSON value, so the parse fails and the caller reads the whole body.
 */
function objectAfterKey(body: Buffer, from: number): string | undefined {
  let i = from;
  while (isSpace(body[i])) i++;
  if (body[i++] !== 0x3a) return undefined;
  while (isSpace(body[i])) i++;
  if (body[i] !== 0x7b) return undefined;
  let end = body.length - 1;
  while (end > i && isSpace(body[end])) end--;
  if (body[end--] !== 0x7d) return undefined;
  while (end > i && isSpace(body[end])) end--;
  return body[end] === 0x7d ? body.toString('utf8', i, end + 1) : undefined;
}
