import { z } from 'zod';
import type { ScriptedCall } from './agent.js';

/**
 * What the simulator does for new requests. Every field is optional and JSON-serialisable so
 * the same object can be set from a test, from `--scenario '<json>'`, or over the control
 * endpoint while traffic flows.
 */
export interface SimScenario {
  /** When set, model, count_tokens, models and quota calls without this key get 401. */
  requiredKey?: string;
  /** Completion tokens reported per call (default 20). */
  outputTokens?: number;
  /** Reported as `prompt_tokens_details.cached_tokens` / `cache_read_input_tokens` (default 0). */
  cachedTokens?: number;
  /** Reported as `cache_creation_input_tokens` on the Anthropic shape (default 0). */
  cacheCreationTokens?: number;
  /** Content delta chunks per stream (default 5). */
  streamChunks?: number;
  /** Pause between stream chunks (default 0). */
  chunkIntervalMs?: number;
  /** Reasoning before the content: two `reasoning_content` deltas (OpenAI) or a thinking block (Anthropic, also when the request asks for thinking). */
  reasoning?: boolean;
  /** Where a stream reports usage (default 'final_chunk', as Z.AI does). */
  streamUsage?: 'final_chunk' | 'separate_chunk' | 'none';
  /** Each content/reasoning delta waits for releaseChunk() before it is written. */
  gateChunks?: boolean;
  /** A true request-rate ceiling over a sliding window: the excess gets 429 / 1303. */
  rateLimit?: { rps: number; windowMs?: number };
  /** In-flight generation calls (open streams included) beyond this get 429 / 1302. */
  concurrencyLimit?: number;
  /** Body shape of every error the simulator sends (default 'nested'). */
  errorShape?: 'nested' | 'flat';
  /** Exhausted quota: every generation call gets 429 with 1308/1310 and a Beijing-time reset. */
  quota?: { exhausted?: boolean; code?: 1308 | 1310; resetAt?: number };
  /** A consuming 5-hour window: calls add their total tokens; at the budget they get 1308. */
  quotaWindow?: { budgetTokens: number; usedTokens?: number; resetAt: number; level?: string };
  /** Overrides the quota endpoint's answer (parser tests). */
  quotaResponse?: { status?: number; body?: string; legacy?: boolean };
  /** Applied to generation calls in order; the first with times left fires and is consumed. */
  faults?: SimFault[];
  /** `auto` (default): a request offering tools whose last message is not a tool result gets a tool call. */
  toolUse?: 'auto' | 'none';
  /** Tool calls to make, in order, one per tool-calling answer; when they run out, the first tool offered is called. */
  toolCalls?: ScriptedCall[];
}

export type SimFault =
  | { kind: 'status'; status: number; code?: number; times?: number }
  | { kind: 'zaiError'; code: number; status?: number; times?: number; retryAfter?: string }
  | { kind: 'resetBeforeHeaders'; times?: number }
  | { kind: 'resetMidStream'; afterChunks: number; times?: number }
  | { kind: 'slowFirstByte'; delayMs: number; times?: number }
  | { kind: 'malformedJson'; times?: number }
  | { kind: 'malformedSse'; times?: number }
  | { kind: 'emptyBody'; times?: number }
  | { kind: 'truncated'; times?: number }
  /** After `afterChunks` deltas the stream goes silent (no reset) until the client leaves. */
  | { kind: 'stallMidStream'; afterChunks: number; times?: number }
  /** 200 and headers, then nothing at all until the client leaves. */
  | { kind: 'headersThenSilence'; times?: number }
  /** A 401 whose body and `x-debug-key` header repeat the key the caller presented. */
  | { kind: 'echoKey'; times?: number };

export const SCENARIO_DEFAULTS = {
  outputTokens: 20,
  cachedTokens: 0,
  cacheCreationTokens: 0,
  streamChunks: 5,
  chunkIntervalMs: 0,
  streamUsage: 'final_chunk',
  errorShape: 'nested',
} as const;

const count = z.number().int().min(0);
const times = z.number().int().min(-1).optional();

const faultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('status'), status: z.number().int().min(100).max(599), code: z.number().int().optional(), times }),
  z.object({
    kind: z.literal('zaiError'),
    code: z.number().int(),
    status: z.number().int().min(100).max(599).optional(),
    times,
    retryAfter: z.string().optional(),
  }),
  z.object({ kind: z.literal('resetBeforeHeaders'), times }),
  z.object({ kind: z.literal('resetMidStream'), afterChunks: count, times }),
  z.object({ kind: z.literal('slowFirstByte'), delayMs: count, times }),
  z.object({ kind: z.literal('malformedJson'), times }),
  z.object({ kind: z.literal('malformedSse'), times }),
  z.object({ kind: z.literal('emptyBody'), times }),
  z.object({ kind: z.literal('truncated'), times }),
  z.object({ kind: z.literal('stallMidStream'), afterChunks: count, times }),
  z.object({ kind: z.literal('headersThenSilence'), times }),
  z.object({ kind: z.literal('echoKey'), times }),
]);

/** Validates a patch arriving over the control endpoint or the command line. */
export const scenarioPatchSchema = z
  .object({
    requiredKey: z.string(),
    outputTokens: count,
    cachedTokens: count,
    cacheCreationTokens: count,
    streamChunks: z.number().int().min(1).max(100_000),
    chunkIntervalMs: count,
    reasoning: z.boolean(),
    streamUsage: z.enum(['final_chunk', 'separate_chunk', 'none']),
    gateChunks: z.boolean(),
    rateLimit: z.object({ rps: z.number().int().min(1), windowMs: z.number().int().min(1).optional() }),
    concurrencyLimit: z.number().int().min(0),
    errorShape: z.enum(['nested', 'flat']),
    quota: z.object({
      exhausted: z.boolean().optional(),
      code: z.union([z.literal(1308), z.literal(1310)]).optional(),
      resetAt: z.number().optional(),
    }),
    quotaWindow: z.object({
      budgetTokens: count,
      usedTokens: count.optional(),
      resetAt: z.number(),
      level: z.string().optional(),
    }),
    quotaResponse: z.object({ status: z.number().int().min(100).max(599).optional(), body: z.string().optional(), legacy: z.boolean().optional() }),
    faults: z.array(faultSchema),
    toolUse: z.enum(['auto', 'none']),
    toolCalls: z.array(z.object({ name: z.string().min(1), arguments: z.record(z.string(), z.unknown()) })),
  })
  .partial();

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

/**
 * Parses an untrusted patch. `null` values mean "unset this field" (JSON merge patch), so a
 * controller can turn a fault or limit off again.
 */
export function parseScenarioPatch(raw: unknown): { set: Partial<SimScenario>; unset: (keyof SimScenario)[] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ScenarioError('scenario must be a JSON object');
  const unset: (keyof SimScenario)[] = [];
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === null) unset.push(k as keyof SimScenario);
    else rest[k] = v;
  }
  const parsed = scenarioPatchSchema.strict().safeParse(rest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ScenarioError(`invalid scenario: ${issue.path.join('.') || '(root)'} ${issue.message}`);
  }
  return { set: parsed.data as Partial<SimScenario>, unset };
}

/** Shallow merge (top-level fields replace), copying nested objects so later mutation stays ours. */
export function mergeScenario(base: SimScenario, patch: Partial<SimScenario>, unset: readonly (keyof SimScenario)[] = []): SimScenario {
  const next: SimScenario = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    (next as Record<string, unknown>)[k] = structuredClone(v);
  }
  for (const k of unset) delete next[k];
  return next;
}
