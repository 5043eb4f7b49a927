import type { Dialect, ErrorFacts } from './dialect.js';

/**
 * A client API the upstream does not speak, described as a translation onto one it does
 * (`upstream`). The proxy sends the translated request, reads usage from the upstream's own
 * answer with the upstream dialect, and hands the client the translated answer; nothing of
 * this lives in the forwarding code beyond calling these four functions.
 */
export interface Translation {
  readonly upstream: Dialect;
  /** HTTP method of the upstream call (the client's method when absent). */
  readonly method?: 'GET' | 'POST';
  /** The error body a client of the translated API expects. */
  readonly errorBody: (e: ErrorFacts) => string;
  /**
   * The upstream request body (none for a body-less call), and what the answer's translation
   * needs to know about the request; or a refusal for what cannot be translated honestly.
   */
  readonly request: (clientJson: unknown) => TranslatedRequest;
  /** A non-streaming upstream answer (2xx JSON), in the client's shape. */
  readonly response: (upstreamJson: unknown, context: unknown) => unknown;
  /** An upstream error answer, in the client's error shape. */
  readonly error: (status: number, upstreamBody: Buffer) => string;
  /** A translator for one streamed answer: upstream SSE bytes in, client SSE text out. */
  readonly stream?: (context: unknown) => StreamTranslator;
}

export type TranslatedRequest = { refusal: ErrorFacts } | { refusal?: undefined; body?: Record<string, unknown>; context?: unknown };

export interface StreamTranslator {
  /** Upstream bytes as they arrive; returns what to write to the client now (may be empty). */
  push(chunk: Buffer): string;
  /** The upstream stream ended (complete or not); returns the closing events. */
  end(complete: boolean): string;
}
