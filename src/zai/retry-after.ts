/** Upper bound on any Retry-After we believe: a weekly quota is the longest wait Z.AI imposes. */
const MAX_RETRY_AFTER_MS = 8 * 24 * 3_600_000;

/**
 * Parses an HTTP Retry-After value: delta-seconds ("120", fractional tolerated) or an
 * HTTP-date. Returns milliseconds from `nowMs` (0 for a date in the past), or undefined when
 * absent, unparseable or absurdly far away.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) {
    const ms = Math.ceil(Number(text) * 1000);
    return ms <= MAX_RETRY_AFTER_MS ? ms : undefined;
  }
  // HTTP-date always names a weekday and a GMT zone; refusing anything else keeps
  // Date.parse's lenient guessing away from garbage like "soon".
  if (!/^[A-Za-z]{3},? /.test(text) && !/GMT$/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return undefined;
  const ms = Math.max(0, at - nowMs);
  return ms <= MAX_RETRY_AFTER_MS ? ms : undefined;
}
