/**
 * An error's code safe to log or show: a constant such as ECONNREFUSED or
 * UND_ERR_HEADERS_TIMEOUT, else a plain error name (TimeoutError), never free text.
 */
export function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const { code, name } = err as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && /^[A-Z0-9_]{1,48}$/.test(code)) return code;
    if (typeof name === 'string' && /^[A-Za-z]{1,48}$/.test(name)) return name;
  }
  return 'unknown';
}
