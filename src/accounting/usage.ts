/**
 * Token usage as the upstream reports it, normalised to four directions that never double
 * count: `input` is the uncached part of the prompt, `cacheRead` the cached part,
 * `cacheWrite` what was written to the prompt cache, `output` the generated tokens.
 */

export type Dialect = 'openai' | 'anthropic';

/** Four directions that never double count: `input` is the uncached prompt part. */
export interface TokenUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export const ZERO_USAGE: Readonly<TokenUsage> = Object.freeze({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 });

/** Upstreams and simulators send junk now and then: anything not a finite number ≥ 0 counts 0. */
export function tokenCount(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  return Math.floor(value);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads an OpenAI-shaped `usage` object. `prompt_tokens` includes the cached tokens, so the
 * cached part is subtracted to keep `input` and `cacheRead` disjoint.
 */
export function usageFromOpenAi(usage: unknown): TokenUsage | undefined {
  if (!isObject(usage)) return undefined;
  const prompt = tokenCount(usage.prompt_tokens);
  const details = usage.prompt_tokens_details;
  const cached = Math.min(prompt, isObject(details) ? tokenCount(details.cached_tokens) : 0);
  return { input: prompt - cached, output: tokenCount(usage.completion_tokens), cacheRead: cached, cacheWrite: 0 };
}

/** Reads an Anthropic-shaped `usage` object; there `input_tokens` already excludes cache reads and writes. */
export function usageFromAnthropic(usage: unknown): TokenUsage | undefined {
  if (!isObject(usage)) return undefined;
  return {
    input: tokenCount(usage.input_tokens),
    output: tokenCount(usage.output_tokens),
    cacheRead: tokenCount(usage.cache_read_input_tokens),
    cacheWrite: tokenCount(usage.cache_creation_input_tokens),
  };
}

export function usageFromObject(dialect: Dialect, usage: unknown): TokenUsage | undefined {
  return dialect === 'openai' ? usageFromOpenAi(usage) : usageFromAnthropic(usage);
}

export const totalTokens = (u: TokenUsage) => u.input + u.output + u.cacheRead + u.cacheWrite;

/**
 * Non-streaming JSON body: undefined when it is not JSON or carries no `usage` object. A
 * usage of all zeros is treated as absent too: Z.AI sends zero placeholders, and a reply
 * that really consumed nothing has nothing to count, so the caller may estimate instead.
 */
export function usageFromResponseBody(dialect: Dialect, body: Buffer): TokenUsage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  const usage = usageFromObject(dialect, parsed.usage);
  return usage && totalTokens(usage) > 0 ? usage : undefined;
}
