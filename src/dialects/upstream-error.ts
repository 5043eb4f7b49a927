import type { ErrorFacts } from './dialect.js';
import { isRecord, parseJson } from '../lib/json.js';

/**
 * What a translated route tells its client about an upstream error: the upstream's own
 * message and business code (either Z.AI body shape), under the error type clients of both
 * APIs associate with the status.
 */
export function upstreamErrorFacts(status: number, body: Buffer): ErrorFacts {
  const facts: ErrorFacts = { status, type: errorTypeFor(status), message: `The upstream answered ${status}.` };
  // A body that is not JSON keeps the generic message.
  const parsed = parseJson(body);
  const inner = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : parsed;
  if (isRecord(inner)) {
    const text = inner.message ?? inner.msg;
    if (typeof text === 'string') facts.message = text;
    if (typeof inner.code === 'string' || typeof inner.code === 'number') facts.code = String(inner.code);
  }
  return facts;
}

function errorTypeFor(status: number): string {
  if (status === 400) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  return 'api_error';
}
