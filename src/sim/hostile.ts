/**
 * Faults of a hostile or broken upstream that the proxy must survive: a stream that goes
 * silent half-way, headers followed by nothing, and an error that echoes the caller's key
 * back (as some gateways do in "invalid key: …" messages).
 */

/** Resolves once `signal` aborts (the peer went away): a connection that just hangs. */
export function silentUntilClosed(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Status, headers and body of an error that repeats the presented key in its body and a header. */
export function keyEchoAnswer(key: string | undefined): { status: number; headers: Record<string, string>; body: string } {
  const shown = key ?? '(none)';
  const body = JSON.stringify({ error: { code: '1000', message: `Authentication failed for key ${shown}; key=${shown}` } });
  return {
    status: 401,
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'x-debug-key': `rejected ${shown}` },
    body,
  };
}
