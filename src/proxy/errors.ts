import type { ErrorFacts } from '../dialects/dialect.js';

/**
 * An answer the proxy produces itself (not relayed from upstream). Mapped once, at the edge,
 * to the client's API error shape. Messages are the proxy's own words: never a key, never
 * the provider's text.
 */
export class ProxyError extends Error {
  constructor(
    readonly status: number,
    /** Error type in the client's API vocabulary (OpenAI and Anthropic share these names). */
    readonly type: string,
    message: string,
    readonly extraHeaders: Record<string, string> = {},
    /** A machine-readable code for the client (e.g. `unsupported_parameter`); the type otherwise. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export const unauthorized = () =>
  new ProxyError(
    401,
    'authentication_error',
    'Missing or invalid API key for this proxy. Send a configured client key as "Authorization: Bearer <key>" or "x-api-key".',
  );

export const bodyTooLarge = (max: number) =>
  new ProxyError(413, 'request_too_large', `Request body exceeds the proxy's limit of ${max} bytes (MAX_BODY_BYTES).`);

export const bodyBudgetExhausted = () =>
  new ProxyError(
    503,
    'overloaded_error',
    'The proxy holds as many request bodies as its memory budget allows (MAX_HELD_BODY_BYTES); retry after the time in Retry-After.',
    {
      'retry-after': '2',
    },
  );

export const upstreamUnavailable = (detail: string) => new ProxyError(502, 'api_error', `The upstream could not be reached: ${detail}.`);

export const upstreamTimeout = () => new ProxyError(504, 'timeout_error', 'The upstream did not answer in time.');

export const requestTimedOut = (ms: number) =>
  new ProxyError(
    504,
    'timeout_error',
    `The upstream did not answer within the proxy's total deadline of ${Math.round(ms / 1000)} s (REQUEST_TIMEOUT), retries included.`,
  );

export const pathRefused = (reason: string) =>
  new ProxyError(400, 'invalid_request_error', `The request path was refused: ${reason}. The proxy forwards only paths under /v1/.`);

export const draining = () => new ProxyError(503, 'overloaded_error', 'The proxy is shutting down; retry against another instance.', { 'retry-after': '1' });

export function rateLimited(message: string, retryAfterSeconds: number) {
  return new ProxyError(429, 'rate_limit_error', message, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
}

/** The body of a ProxyError in the shape of the client's API (`shape` is the route's dialect or translation). */
export function errorBody(shape: { errorBody: (e: ErrorFacts) => string } | undefined, e: ProxyError): string {
  if (shape) return shape.errorBody({ status: e.status, type: e.type, message: e.message, ...(e.code !== undefined ? { code: e.code } : {}) });
  return JSON.stringify({ error: { message: e.message, type: e.type } });
}
