import type { ServerOptions } from 'node:http';
import type { ProxyEnv } from '../config/proxy.js';

/** Idle keep-alive connections stay this long (above the 60 s many client pools assume). */
const KEEP_ALIVE_MS = 65_000;
/** How often Node sweeps connections for the two timeouts below. */
const SWEEP_MS = 1_000;

/**
 * Timeouts on the client side of the proxy, against slowloris-style clients that open a
 * connection and send their request a byte at a time (or never finish it): each one holds a
 * socket and its memory for as long as the proxy waits.
 *
 * - headers must arrive within CLIENT_HEADERS_TIMEOUT of the connection (or of the previous
 *   answer on a kept-alive one); silence counts too;
 * - the whole request, body included, within CLIENT_BODY_TIMEOUT.
 *
 * Both end when the request has been received: the answer (a long stream) is bounded only by
 * the upstream's own timeouts and the client's patience. Past either, Node answers 408 and
 * closes the connection.
 */
export function clientTimeouts(env: Pick<ProxyEnv, 'CLIENT_HEADERS_TIMEOUT' | 'CLIENT_BODY_TIMEOUT'>): ServerOptions {
  return {
    keepAliveTimeout: KEEP_ALIVE_MS,
    headersTimeout: env.CLIENT_HEADERS_TIMEOUT,
    requestTimeout: env.CLIENT_BODY_TIMEOUT,
    connectionsCheckingInterval: Math.min(SWEEP_MS, env.CLIENT_HEADERS_TIMEOUT),
  };
}
