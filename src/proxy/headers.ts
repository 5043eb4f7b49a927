import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1 connection-specific headers, never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);

/** Headers the proxy sets itself on the upstream request. */
const REPLACED_UPSTREAM = ['host', 'content-length', 'accept-encoding', 'expect'];
const CREDENTIALS = ['authorization', 'x-api-key'];
/** What is never copied upstream, without and with the client's credentials (one lookup a header). */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, ...REPLACED_UPSTREAM]);
const NOT_FORWARDED_NOR_CREDENTIALS = new Set([...NOT_FORWARDED, ...CREDENTIALS]);

function listedInConnection(connection: string | string[] | undefined): Set<string> | undefined {
  // The usual values name no header: answer them without splitting (this runs twice a request).
  if (!connection || connection === 'keep-alive' || connection === 'close' || connection === 'Keep-Alive') return undefined;
  const value = Array.isArray(connection) ? connection.join(',') : connection;
  const names = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s && s !== 'close' && s !== 'keep-alive');
  return names.length ? new Set(names) : undefined;
}

/**
 * The headers sent upstream: the client's, minus hop-by-hop ones and minus its credentials
 * when the operator's key replaces them. Upstream compression is declined so usage can be
 * read from the bytes as they pass; the client-side hop is local and uncompressed anyway.
 */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, opts: { dropCredentials: boolean; contentLength: number }): Record<string, string> {
  const extra = listedInConnection(incoming.connection);
  const skip = opts.dropCredentials ? NOT_FORWARDED_NOR_CREDENTIALS : NOT_FORWARDED;
  const out: Record<string, string> = {};
  for (const name in incoming) {
    if (skip.has(name) || extra?.has(name)) continue;
    const value = incoming[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  out['accept-encoding'] = 'identity';
  if (opts.contentLength > 0) out['content-length'] = String(opts.contentLength);
  return out;
}

/** Response headers as Node's writeHead takes them without walking an object: name, value, name, value… */
export type HeaderList = (string | string[])[];

/** Never relayed from the upstream's answer: hop-by-hop, and the length (the proxy sets it for what it sends). */
const NOT_RELAYED = new Set([...HOP_BY_HOP, 'content-length']);
/** …and, on an answer the proxy relays itself, the headers it adds (usage, timing): an upstream's are not the proxy's. */
const NOT_RELAYED_NOR_OWN = new Set([
  ...NOT_RELAYED,
  'server-timing',
  'x-accel-buffering',
  'x-zai-proxy-input-tokens',
  'x-zai-proxy-output-tokens',
  'x-zai-proxy-usage-source',
]);

function relayed(upstream: Record<string, string | string[] | undefined>, skip: ReadonlySet<string>): HeaderList {
  const extra = listedInConnection(upstream.connection);
  const out: HeaderList = [];
  for (const name in upstream) {
    if (skip.has(name) || extra?.has(name)) continue;
    const value = upstream[name];
    if (value !== undefined) out.push(name, value);
  }
  return out;
}

/** The upstream's response headers that may reach the client, for an answer the proxy adds its usage and timing headers to. */
export function clientResponseHeaderList(upstream: Record<string, string | string[] | undefined>): HeaderList {
  return relayed(upstream, NOT_RELAYED_NOR_OWN);
}

/** The upstream's response headers that may reach the client. */
export function clientResponseHeaders(upstream: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const list = relayed(upstream, NOT_RELAYED);
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i < list.length; i += 2) out[list[i] as string] = list[i + 1];
  return out;
}

/** The credential a client presented, Bearer or x-api-key, for client-key checks. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    return (m ? m[1] : auth).trim();
  }
  const x = headers['x-api-key'];
  return typeof x === 'string' && x ? x.trim() : undefined;
}
