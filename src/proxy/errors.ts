import type { Flavour } from './flavours.js';

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
  ) {
    super(message);
  }
}

export const unauthorized = () =>
  new ProxyError(401, 'authentication_error', 'Missing or invalid API key for this proxy. Send a configured client key as "Authorization: Bearer <key>" or "x-api-key".');

export const bodyTooLarge = (max: number) =>
  new ProxyError(413, 'request_too_large', `Request body exceeds the proxy's limit of ${max} bytes (MAX_BODY_BYTES).`);

export const upstreamUnavailable = (detail: string) =>
  new ProxyError(502, 'api_error', `The upstream could not be reached: ${detail}.`);

export const upstreamTimeout = () => new ProxyError(504, 'timeout_error', 'The upstream did not answer in time.');

export const draining = () =>
  new ProxyError(503, 'overloaded_error', 'The proxy is shutting down; retry against another instance.', { 'retry-after': '1' });

export function rateLimited(message: string, retryAfterSeconds: number) {
  return new ProxyError(429, 'rate_limit_error', message, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
}

export function errorBody(flavour: Flavour | undefined, e: ProxyError): string {
  if (flavour) return flavour.errorBody({ status: e.status, type: e.type, message: e.message });
  return JSON.stringify({ error: { message: e.message, type: e.type } });
}
