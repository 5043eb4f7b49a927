import type { IncomingHttpHeaders } from 'node:http';

/**
 * What a client tells the proxy about itself beyond the request: how long it will wait.
 *
 * The Stainless-generated SDKs announce their timeouts in two headers, in seconds:
 * `x-stainless-timeout` (the whole request; the Anthropic SDKs, and openai-python before
 * 3.x) and `x-stainless-read-timeout` (the longest silence on the socket; both Python SDKs).
 * Before the first byte of an answer both bound the same thing, the time the proxy may spend
 * waiting and retrying, so the nearer one is the deadline. A client that sets its timeout on
 * the client object rather than per call sends the literal `NOT_GIVEN`, which means "no
 * hint", as does anything that is not a positive number.
 */
const DEADLINE_HEADERS = ['x-stainless-timeout', 'x-stainless-read-timeout'] as const;
const SECONDS = /^\d+(\.\d+)?$/;

/** Seconds announced in one header, or undefined when absent, `NOT_GIVEN` or not a positive number. */
function announcedSeconds(value: string | string[] | undefined): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (text === undefined || !SECONDS.test(text)) return undefined;
  const seconds = Number(text);
  return seconds > 0 ? seconds : undefined;
}

/** The client's deadline on the performance.now() clock; Infinity when it announced none. */
export function clientDeadline(headers: IncomingHttpHeaders, startedAt: number): number {
  let deadline = Infinity;
  for (const name of DEADLINE_HEADERS) {
    const seconds = announcedSeconds(headers[name]);
    if (seconds !== undefined) deadline = Math.min(deadline, startedAt + seconds * 1000);
  }
  return deadline;
}

/**
 * The header that tells an SDK not to retry on its own (openai-node/-python and
 * anthropic-node/-python all obey it before looking at the status). Sent on answers no retry
 * can fix (quota, balance, policy) and, unless turned off, on a final answer after the proxy
 * already spent its own retries: otherwise each SDK retry starts another full round of proxy
 * retries and the upstream sees their product.
 */
export const NO_RETRY: Readonly<Record<string, string>> = Object.freeze({ 'x-should-retry': 'false' });
