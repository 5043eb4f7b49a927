import type { StreamEvents } from '../accounting/stream-usage.js';
import type { TokenUsage } from '../accounting/usage.js';

/**
 * One API shape the proxy speaks upstream, as data: which configured base serves it, where a
 * client path lands under that base, how the operator's key travels, what an error looks
 * like to its clients, and how usage and generated text are read from its answers. Handlers
 * and the accountant read these descriptions; they never branch on a dialect's name.
 */
export interface Dialect {
  /** The configured base URL this dialect is served from. */
  readonly base: 'openai' | 'anthropic';
  /** The path under the base for a client path such as `/v1/chat/completions`. */
  readonly upstreamPath: (pathname: string) => string;
  /** Sets the operator's key on upstream headers the way this API expects it. */
  readonly injectKey: (headers: Record<string, string>, key: string) => void;
  /** The JSON error body a client of this API expects. */
  readonly errorBody: (e: ErrorFacts) => string;
  /** The SSE event that tells this API's clients a stream broke, so their SDKs raise. */
  readonly streamError: (message: string) => string;
  /** Reads this API's `usage` object. */
  readonly usage: (usage: unknown) => TokenUsage | undefined;
  /** A fresh reader for one streamed answer. */
  readonly streamEvents: () => StreamEvents;
  /** The generated text of a parsed non-streaming answer, for a local estimate. */
  readonly completionText: (answer: Json) => string;
}

export interface ErrorFacts {
  status: number;
  /** Error type in the client's vocabulary (OpenAI and Anthropic share these names). */
  type: string;
  message: string;
  code?: string;
}

export type Json = Record<string, unknown>;
