import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Logger } from '../../log/logger.js';
import {
  STEP_MS,
  type ConfigResponse,
  type HelloEvent,
  type MetricsResponse,
  type StatusEvent,
  type StatusResponse,
  type VariantSnapshot,
  type VariantStatus,
} from '../model.js';
import type { DashboardMetrics } from '../self-metrics.js';
import type { SnapshotSource } from '../sources/source.js';
import { BadRequest, eventIdOf, parseEventId, parseMetricsQuery } from './params.js';
import { parseCanaryQuery, type CanaryJudge } from './canary.js';
import { SourceUnreadableError } from '../../canary/arms.js';
import { formatSse, SseHub } from './sse-hub.js';
import { listen } from '../../lib/listen.js';

/**
 * The dashboard's HTTP surface on node:http. Route table:
 *   GET /healthz            liveness, never authenticated
 *   GET /metrics            the dashboard's own Prometheus metrics, never authenticated
 *   GET /api/status         targets, staleness, versions, latest snapshot per variant
 *   GET /api/metrics        history (range, variant, resolution)
 *   GET /api/config         effective configuration, without secrets
 *   GET /api/canary         canary vs stable: canary-report's verdict over the dashboard's source
 *   GET /api/events         SSE: hello, snapshot, status; Last-Event-ID resume
 *   GET /*                  the web UI (SPA)
 */

export const COOKIE = 'zai_dashboard_token';
/** Most snapshots replayed on resume; a client away for longer reloads history over REST. */
export const MAX_REPLAY = 5_000;

export interface ApiOptions {
  source: SnapshotSource;
  config: Omit<ConfigResponse, 'source' | 'heartbeat_s' | 'auth_required' | 'version' | 'retention_s'>;
  version: string;
  token: string | undefined;
  heartbeatMs: number;
  maxClientQueue: number;
  now: () => number;
  metrics: DashboardMetrics;
  logger: Logger;
  web: (req: IncomingMessage, res: ServerResponse, pathname: string) => void;
  /** The canary judgement over this dashboard's source; without it /api/canary is 404. */
  canary?: CanaryJudge;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

const gzipAsync = promisify(gzip);

const finiteOrNull = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v);

function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  sendJsonText(res, status, JSON.stringify(body, finiteOrNull), extra);
}

function sendJsonText(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...extra });
  res.end(text);
}

/**
 * History answers run to megabytes of repetitive JSON (a 24h range is ~12 MB): gzip them when
 * the client accepts it (browsers do), off the event loop, at a level that favours speed.
 */
async function sendHistory(req: IncomingMessage, res: ServerResponse, text: string): Promise<void> {
  const accepts = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  if (!accepts || text.length < 1024) return sendJsonText(res, 200, text, { vary: 'accept-encoding' });
  const body = await gzipAsync(text, { level: 4 });
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-encoding': 'gzip',
    'content-length': body.length,
    vary: 'accept-encoding',
  });
  res.end(body);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined; // a malformed escape is simply not our token: 401, not 500
      }
    }
  }
  return undefined;
}

export class DashboardApi {
  readonly hub: SseHub;
  readonly server: Server;
  private readonly startedMs: number;
  private readonly tokenDigest: Buffer | undefined;

  constructor(private readonly opts: ApiOptions) {
    this.startedMs = opts.now();
    this.tokenDigest = opts.token !== undefined ? digest(opts.token) : undefined;
    this.hub = new SseHub({
      maxQueue: opts.maxClientQueue,
      heartbeatMs: opts.heartbeatMs,
      onDrop: () => opts.metrics.sseDropped.inc(),
      onCount: (n) => opts.metrics.sseClients.set(n),
    });
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        opts.logger.error({ err: (err as Error).message, path: req.url?.split('?')[0] }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
  }

  /** Publishes one round: a snapshot event per variant, then status changes. */
  publish(snapshots: readonly VariantSnapshot[], statusEvents: readonly StatusEvent[] = []): void {
    for (const s of snapshots) this.hub.broadcast({ event: 'snapshot', id: eventIdOf(s), data: s });
    for (const e of statusEvents) this.hub.broadcast({ event: 'status', data: e });
  }

  private authorized(req: IncomingMessage, url: URL): { ok: boolean; setCookie?: string } {
    if (!this.tokenDigest) return { ok: true };
    const matches = (candidate: string | undefined) => candidate !== undefined && timingSafeEqual(digest(candidate), this.tokenDigest!);
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && matches(auth.slice(7).trim())) return { ok: true };
    if (matches(cookieValue(req.headers.cookie, COOKIE))) return { ok: true };
    const q = url.searchParams.get('token') ?? undefined;
    if (matches(q)) {
      return { ok: true, setCookie: `${COOKIE}=${encodeURIComponent(q!)}; HttpOnly; SameSite=Strict; Path=/` };
    }
    return { ok: false };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
      return;
    }
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/metrics') {
      const m = this.opts.metrics;
      const store = this.opts.source.store();
      if (store) m.storeBytes.set(store.size_bytes);
      res.writeHead(200, { 'content-type': m.registry.contentType });
      res.end(await m.registry.metrics());
      return;
    }
    const auth = this.authorized(req, url);
    if (!auth.ok) {
      if (path.startsWith('/api/')) return sendJson(res, 401, { error: 'missing or wrong dashboard token' }, { 'www-authenticate': 'Bearer' });
      res.writeHead(401, { 'content-type': 'text/html; charset=utf-8', 'www-authenticate': 'Bearer' });
      res.end('<!doctype html><title>zai-proxy dashboard</title><p>This dashboard needs its token: open it once with <code>?token=…</code>.</p>\n');
      return;
    }
    if (auth.setCookie) res.setHeader('set-cookie', auth.setCookie);
    if (auth.setCookie && !path.startsWith('/api/')) {
      // Take the token out of the address bar (and the browser history) once the cookie is set.
      url.searchParams.delete('token');
      res.writeHead(303, { location: url.pathname + url.search });
      res.end();
      return;
    }
    try {
      switch (path) {
        case '/api/status':
          return sendJson(res, 200, await this.status());
        case '/api/metrics':
          return await sendHistory(req, res, await this.history(url.searchParams));
        case '/api/config':
          return sendJson(res, 200, this.configBody());
        case '/api/events':
          return await this.events(req, res, url);
        case '/api/canary':
          if (this.opts.canary) return await this.canary(res, url.searchParams);
          break;
      }
    } catch (err) {
      if (err instanceof BadRequest) return sendJson(res, 400, { error: err.message });
      throw err;
    }
    if (path.startsWith('/api/')) return sendJson(res, 404, { error: 'no such endpoint' });
    this.opts.web(req, res, path);
  }

  private async canary(res: ServerResponse, params: URLSearchParams): Promise<void> {
    const q = parseCanaryQuery(params);
    try {
      sendJson(res, 200, await this.opts.canary!(q, this.opts.now()));
    } catch (err) {
      if (!(err instanceof SourceUnreadableError)) throw err;
      sendJson(res, 503, { error: err.message });
    }
  }

  private configBody(): ConfigResponse {
    const retention = this.opts.source.retentionMs();
    return {
      ...this.opts.config,
      source: this.opts.source.kind,
      retention_s: { '5s': retention['5s'] / 1000, '1m': retention['1m'] / 1000, '1h': retention['1h'] / 1000 },
      heartbeat_s: this.opts.heartbeatMs / 1000,
      auth_required: this.opts.token !== undefined,
      version: this.opts.version,
    };
  }

  private async status(): Promise<StatusResponse> {
    const now = this.opts.now();
    const staleAfter = 3 * this.opts.config.scrape_interval_s * 1000;
    const variants: Record<string, VariantStatus> = {};
    for (const s of await this.opts.source.latest()) {
      variants[s.variant] = { variant: s.variant, last_ts: s.ts, stale: now - s.ts > staleAfter, build: s.build, latest: s };
    }
    return {
      now_ms: now,
      source: this.opts.source.kind,
      version: this.opts.version,
      started_ms: this.startedMs,
      scrape_interval_s: this.opts.config.scrape_interval_s,
      targets: this.opts.source.targets(),
      variants,
      store: this.opts.source.store(),
    };
  }

  /** The MetricsResponse as JSON text: stored points are spliced in as they are, never parsed and re-serialised. */
  private async history(params: URLSearchParams): Promise<string> {
    const q = parseMetricsQuery(params, this.opts.source.retentionMs());
    const to = this.opts.now();
    const from = to - q.rangeMs;
    const source = this.opts.source;
    const head: Omit<MetricsResponse, 'points'> = {
      range: q.range,
      range_ms: q.rangeMs,
      from_ms: from,
      to_ms: to,
      resolution: q.resolution,
      step_ms: STEP_MS[q.resolution],
      variant: q.variant ?? 'all',
    };
    const points = source.historyJson
      ? await source.historyJson(q.resolution, from, to, q.variant)
      : (await source.history(q.resolution, from, to, q.variant)).map((p) => JSON.stringify(p, finiteOrNull));
    return `${JSON.stringify(head).slice(0, -1)},"points":[${points.join(',')}]}`;
  }

  private async events(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    const client = this.hub.attach(res);
    const resumeFrom = parseEventId((req.headers['last-event-id'] as string | undefined) ?? url.searchParams.get('lastEventId') ?? undefined);
    let replay: VariantSnapshot[] = [];
    if (resumeFrom) replay = await this.opts.source.after(resumeFrom.ts, resumeFrom.variant, MAX_REPLAY);
    const latest = await this.opts.source.latest();
    const hello: HelloEvent = {
      source: this.opts.source.kind,
      scrape_interval_s: this.opts.config.scrape_interval_s,
      variants: latest.map((s) => s.variant),
      replayed: replay.length,
    };
    res.write(`retry: ${Math.max(1000, this.opts.config.scrape_interval_s * 1000)}\n`);
    res.write(formatSse({ event: 'hello', data: hello }));
    for (const s of replay) res.write(formatSse({ event: 'snapshot', id: eventIdOf(s), data: s }));
    const last = replay[replay.length - 1];
    // Live events that arrived during the replay and were already replayed are skipped.
    client.release((chunk) => {
      if (!last || !chunk.startsWith('id: ')) return false;
      const id = parseEventId(chunk.slice(4, chunk.indexOf('\n')));
      return id !== undefined && (id.ts < last.ts || (id.ts === last.ts && id.variant <= last.variant));
    });
  }

  async listen(port: number, host: string): Promise<string> {
    return listen(this.server, port, host);
  }

  async close(): Promise<void> {
    this.hub.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
