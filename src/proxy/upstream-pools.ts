import { Pool } from 'undici';
import type { ProxyEnv } from '../config/proxy.js';
import type { Upstream } from './forward.js';

/**
 * One undici pool per upstream origin, sized so that no admitted request waits for a
 * connection. Admission is the only place a request may wait (its queue is bounded, timed and
 * exported as zai_proxy_queue_depth and zai_proxy_rate_limit_wait_seconds); a pool smaller than
 * the admission limit would hold admitted requests in a second queue nothing measures, so with
 * the limiter on the pool takes at least MAX_WORKERS connections (the ceiling of the adaptive
 * in-flight limit). With the limiter off nothing admits, and UPSTREAM_CONNECTIONS alone bounds
 * the work in flight upstream.
 */
export function upstreamPoolSize(env: Pick<ProxyEnv, 'RATE_LIMIT_ENABLED' | 'MAX_WORKERS' | 'UPSTREAM_CONNECTIONS'>): number {
  return env.RATE_LIMIT_ENABLED ? Math.max(env.UPSTREAM_CONNECTIONS, env.MAX_WORKERS) : env.UPSTREAM_CONNECTIONS;
}

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();
  private readonly connections: number;

  constructor(
    private readonly env: Pick<
      ProxyEnv,
      'RATE_LIMIT_ENABLED' | 'MAX_WORKERS' | 'UPSTREAM_CONNECTIONS' | 'UPSTREAM_CONNECT_TIMEOUT' | 'UPSTREAM_HEADERS_TIMEOUT' | 'UPSTREAM_BODY_TIMEOUT'
    >,
  ) {
    this.connections = upstreamPoolSize(env);
  }

  /** The upstream for a configured base URL; bases on one origin share its pool. */
  upstream(base: string): Upstream {
    const url = new URL(base);
    let pool = this.pools.get(url.origin);
    if (!pool) {
      pool = new Pool(url.origin, {
        connections: this.connections,
        connectTimeout: this.env.UPSTREAM_CONNECT_TIMEOUT,
        // Per pool, not per request: undici validates and applies them once.
        headersTimeout: this.env.UPSTREAM_HEADERS_TIMEOUT,
        bodyTimeout: this.env.UPSTREAM_BODY_TIMEOUT,
        keepAliveTimeout: 30_000,
        pipelining: 1,
      });
      this.pools.set(url.origin, pool);
    }
    return { dispatcher: pool, basePath: url.pathname.replace(/\/+$/, '') };
  }

  close(): Promise<unknown> {
    return Promise.allSettled([...this.pools.values()].map((p) => p.close()));
  }
}
