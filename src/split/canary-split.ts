import type { IncomingMessage, ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import { identityHash } from '../metrics/labels.js';
import { BodyTooLarge, closeAfterRefusal, readRequestBody } from '../proxy/body.js';
import { BodyBudgetExhausted, type BodyBudget } from '../proxy/body-budget.js';
import { bodyBudgetExhausted, bodyTooLarge, errorBody, type ProxyError } from '../proxy/errors.js';
import type { UpstreamRoute } from '../proxy/routes.js';
import { clientResponseHeaders, presentedKey, upstreamRequestHeaders } from '../proxy/headers.js';

/**
 * Canary traffic split for setups without a service mesh: `CANARY_WEIGHT` percent of clients
 * are relayed, request path unchanged, to `CANARY_UPSTREAM` (the canary proxy, or any gateway
 * serving the same `/v1/*` surface); the rest go through this proxy as usual.
 *
 * - Sticky: the arm is a hash of the client's identity (the header named by
 *   CANARY_STICKY_HEADER, else its key, else its address) onto 100 slots; a client lands in
 *   the canary when its slot is below the weight. One agent's conversation stays on one arm,
 *   weight 0 never and weight 100 always picks the canary, and raising the weight only moves
 *   clients from stable to canary, never back.
 * - The canary arm is relayed as the client sent it (its own credentials included): the canary
 *   proxy does its own key handling, accounting and metrics, so this proxy records nothing of
 *   those requests but the split counter. Bytes are relayed as they come (streams included).
 * - Failover: when the canary does not answer (no connection, or an error before its response
 *   headers), the request is served by this proxy's stable path and counted in
 *   zai_proxy_canary_failovers_total. A request that failed that early produced nothing the
 *   client saw; a canary that timed out after accepting it may have spent tokens on it.
 */

export type Arm = 'stable' | 'canary';
export const ARM_HEADER = 'x-zai-proxy-arm';
const SLOTS = 100;

export interface CanarySplitOptions {
  upstream: string;
  weight: number;
  stickyHeader: string | undefined;
  maxBodyBytes: number;
  /** The proxy's budget of request bytes held in memory, shared with the stable path. */
  bodyBudget: BodyBudget;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  connections: number;
}

/** murmur3's finaliser: spreads a 32-bit hash so that its value modulo 100 is uniform. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The arm of a client identity at a weight (0–100). Pure, so stickiness is testable without sockets. */
export function armFor(identity: string, weight: number): Arm {
  return mix(identityHash(identity)) % SLOTS < weight ? 'canary' : 'stable';
}

export class CanarySplit {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly stickyHeader: string | undefined;

  constructor(
    private readonly opts: CanarySplitOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    const url = new URL(opts.upstream);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.stickyHeader = opts.stickyHeader?.toLowerCase();
    this.pool = new Pool(url.origin, {
      connections: opts.connections,
      connectTimeout: opts.connectTimeoutMs,
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  /** Decides the arm (synchronously, before anything is read) and tells the client. */
  armOf(req: IncomingMessage, res: ServerResponse): Arm {
    const sticky = this.stickyHeader ? req.headers[this.stickyHeader] : undefined;
    const identity = (Array.isArray(sticky) ? sticky[0] : sticky) ?? presentedKey(req.headers) ?? req.socket.remoteAddress ?? '';
    const arm = armFor(identity, this.opts.weight);
    res.setHeader(ARM_HEADER, arm);
    return arm;
  }

  /** A request on the stable arm: counted here, served by the caller. */
  stable(): void {
    this.metrics.zai_proxy_canary_requests_total.labels('stable').inc();
  }

  /**
   * Relays a canary-arm request. Resolves `served` when the canary answered (or the client
   * left), or with the request body when the canary could not be reached and the stable path
   * must serve it.
   */
  async relay(req: IncomingMessage, res: ServerResponse, route: UpstreamRoute): Promise<{ served: true } | { served: false; body: Buffer }> {
    let body: Buffer;
    try {
      body = await readRequestBody(req, res, this.opts.maxBodyBytes, this.opts.bodyBudget);
    } catch (err) {
      const refusal: ProxyError | undefined =
        err instanceof BodyTooLarge ? bodyTooLarge(this.opts.maxBodyBytes) : err instanceof BodyBudgetExhausted ? bodyBudgetExhausted() : undefined;
      if (refusal) {
        closeAfterRefusal(req, res);
        const text = errorBody(route.translation ?? route.dialect, refusal);
        res.writeHead(refusal.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...refusal.extraHeaders });
        res.end(text);
      }
      return { served: true };
    }
    const abort = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) abort.abort();
    };
    res.once('close', onClose);
    let response: Dispatcher.ResponseData;
    try {
      response = await this.pool.request({
        path: this.basePath + (req.url ?? '/'),
        method: req.method as Dispatcher.HttpMethod,
        headers: upstreamRequestHeaders(req.headers, { dropCredentials: false, contentLength: body.length }),
        body: body.length > 0 ? body : undefined,
        signal: abort.signal,
      });
    } catch (err) {
      res.off('close', onClose);
      if (abort.signal.aborted) return { served: true };
      const code = (err as { code?: string }).code ?? 'unknown';
      const reason = code.includes('TIMEOUT') ? 'timeout' : 'connection';
      this.metrics.zai_proxy_canary_failovers_total.labels(reason).inc();
      this.metrics.zai_proxy_canary_requests_total.labels('stable').inc();
      this.log.warn({ code, reason }, 'canary arm did not answer; serving the request on stable');
      res.setHeader(ARM_HEADER, 'stable');
      return { served: false, body };
    }
    this.metrics.zai_proxy_canary_requests_total.labels('canary').inc();
    const headers = clientResponseHeaders(response.headers);
    headers[ARM_HEADER] = 'canary';
    res.writeHead(response.statusCode, headers);
    try {
      for await (const chunk of response.body) {
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
      }
      res.end();
    } catch {
      res.destroy();
    } finally {
      res.off('close', onClose);
    }
    return { served: true };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
