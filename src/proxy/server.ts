import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { Pool } from 'undici';
import type { ProxyEnv } from '../config/proxy.js';
import { AccessLog } from '../log/access-log.js';
import { createLogger, type Logger } from '../log/logger.js';
import { createMetrics, type Metrics } from '../metrics/catalogue.js';
import { ModelLabels } from '../metrics/labels.js';
import { loadPriceTable } from '../accounting/pricing.js';
import { UsageRecorder } from '../accounting/recorder.js';
import { warmTokenizer } from '../accounting/estimate.js';
import { Admission } from '../limits/admission.js';
import { clearQuotaSampleAge, connectPacing, DEFAULT_PACING_FLOOR_RPS, QuotaPacer, QuotaPoller, quotaPollerOptionsFrom } from '../quota/index.js';
import { Accountant } from './accountant.js';
import { draining, ProxyError } from './errors.js';
import { Forwarder, RequestState, type Upstream } from './forward.js';
import { presentedKey } from './headers.js';
import { RequestMetrics } from './request-metrics.js';
import { matchRoute } from './routes.js';
import { buildInfo } from './build-info.js';

export interface ProxyServer {
  readonly url: string;
  readonly server: Server;
  readonly metrics: Metrics;
  readonly admission: Admission | undefined;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then closes everything. */
  shutdown(graceMs?: number): Promise<void>;
}

/** Builds every part of the proxy from its configuration and starts listening. */
export async function startProxy(env: ProxyEnv, opts: { log?: Logger } = {}): Promise<ProxyServer> {
  const log = opts.log ?? createLogger(env.LOG_LEVEL);
  // Read before anything starts: a bad price file stops the process with a ConfigError.
  const prices = loadPriceTable({ file: env.PRICING_FILE, json: env.PRICING_JSON });
  const metrics = createMetrics(env.DEPLOYMENT_VARIANT);
  const build = buildInfo(env);
  metrics.zai_proxy_build_info.labels(build.version, build.commit, build.buildTime).set(1);

  const pools = new Map<string, Pool>();
  const upstream = (base: string): Upstream => {
    const url = new URL(base);
    let pool = pools.get(url.origin);
    if (!pool) {
      pool = new Pool(url.origin, {
        connections: env.UPSTREAM_CONNECTIONS,
        connectTimeout: env.UPSTREAM_CONNECT_TIMEOUT,
        keepAliveTimeout: 30_000,
        pipelining: 1,
      });
      pools.set(url.origin, pool);
    }
    return { dispatcher: pool, basePath: url.pathname.replace(/\/+$/, '') };
  };

  const admission = env.RATE_LIMIT_ENABLED
    ? new Admission(
        {
          enabled: true,
          maxWorkers: env.MAX_WORKERS,
          queueTimeoutMs: env.QUEUE_TIMEOUT,
          queueMax: env.QUEUE_MAX,
          windowMs: env.RATE_LIMIT_WINDOW,
          ceilingAlpha: env.RATE_LIMIT_CEILING_ALPHA,
          holdMargin: env.RATE_LIMIT_HOLD_MARGIN,
          probeInterval: env.RATE_LIMIT_PROBE_INTERVAL,
          minRate: env.RATE_LIMIT_MIN,
          maxRate: env.RATE_LIMIT_MAX,
          initialRate: Math.min(Math.max(env.RATE_LIMIT_INITIAL, env.RATE_LIMIT_MIN), env.RATE_LIMIT_MAX),
          stateFile: env.RATE_LIMIT_STATE_FILE === 'none' ? undefined : env.RATE_LIMIT_STATE_FILE,
          stateMaxAgeMs: env.RATE_LIMIT_STATE_MAX_AGE,
          redisUrl: env.REDIS_URL,
        },
        metrics,
        log.child({ component: 'limits' }),
      )
    : undefined;
  await admission?.start();

  const pollerOptions = quotaPollerOptionsFrom(env);
  const poller = pollerOptions ? new QuotaPoller(pollerOptions, metrics, log.child({ component: 'quota' })) : undefined;
  const pacer = env.QUOTA_PACING && admission ? new QuotaPacer(admission, { floorRps: DEFAULT_PACING_FLOOR_RPS }) : undefined;
  if (poller && pacer) connectPacing(poller, pacer);
  if (!poller) clearQuotaSampleAge(metrics);
  poller?.start();

  const requestMetrics = new RequestMetrics(metrics, log);
  const accountant = new Accountant(
    new UsageRecorder(metrics, prices),
    metrics.zai_proxy_token_count_duration_seconds,
    new ModelLabels(),
    env.TOKEN_COUNTING_ENABLED,
    log,
  );
  const forwarder = new Forwarder(
    {
      upstreams: { openai: upstream(env.ZAI_OPENAI_BASE_URL), anthropic: upstream(env.ZAI_ANTHROPIC_BASE_URL) },
      apiKey: env.ZAI_API_KEY,
      clientKeys: new Set(env.PROXY_API_KEYS),
      maxBodyBytes: env.MAX_BODY_BYTES,
      maxRetries: env.MAX_RETRIES,
      retryBaseDelayMs: env.RETRY_BASE_DELAY,
      headersTimeoutMs: env.UPSTREAM_HEADERS_TIMEOUT,
      bodyTimeoutMs: env.UPSTREAM_BODY_TIMEOUT,
      admission,
      onQuotaExhausted: pacer ? (resetAtMs) => pacer.onQuotaExhausted(resetAtMs) : undefined,
    },
    requestMetrics,
    accountant,
    log,
  );

  const accessLog = new AccessLog(log);
  let inFlight = 0;
  let isDraining = false;
  const idle = new EventTarget();
  const startedAt = Date.now();

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const canAdminister = (req: IncomingMessage): boolean => {
    const key = presentedKey(req.headers);
    if (key === undefined) return false;
    return (env.ADMIN_TOKEN !== undefined && key === env.ADMIN_TOKEN) || env.PROXY_API_KEYS.includes(key);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const route = matchRoute(pathname);
    if (isDraining) res.setHeader('connection', 'close');

    switch (route.kind) {
      case 'upstream': {
        const st = new RequestState();
        if (isDraining) return forwarder.reject(res, route, st, draining());
        inFlight++;
        res.once('close', () => {
          if (!res.writableFinished) {
            st.markClientGone();
            requestMetrics.clientDisconnect(route.label);
          }
          requestMetrics.finish(req.method, route.label, st);
          accessLog.write({
            method: req.method,
            route: route.label,
            status: st.status || 499,
            ms: performance.now() - st.startedAt,
            upstreamMs: st.upstreamMs,
            waitMs: st.waitMs,
            attempts: st.attempts,
            stream: st.stream,
            bytesIn: st.bytesIn,
            bytesOut: st.bytesOut,
            clientGone: st.clientGone,
            zaiError: st.errorClass,
          });
          if (--inFlight === 0) idle.dispatchEvent(new Event('idle'));
        });
        try {
          await forwarder.forward(req, res, route, q === -1 ? '' : url.slice(q), st);
        } catch (err) {
          log.error({ err: (err as Error).message, route: route.label }, 'request failed inside the proxy');
          if (!res.headersSent) forwarder.reject(res, route, st, new ProxyError(500, 'api_error', 'Internal proxy error.'));
          else res.destroy();
        }
        return;
      }
      case 'health':
        return json(res, 200, {
          status: 'ok',
          variant: env.DEPLOYMENT_VARIANT,
          version: build.version,
          commit: build.commit,
          uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
          draining: isDraining,
          inFlight,
          limiter: admission ? admission.snapshot() : { enabled: false },
          quota: poller ? poller.view() : { enabled: false },
          bookkeepingFailures: { metrics: requestMetrics.failures, accounting: accountant.failures },
        });
      case 'ready':
        return isDraining ? json(res, 503, { ready: false, reason: 'draining' }, { 'retry-after': '1' }) : json(res, 200, { ready: true });
      case 'metrics': {
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      case 'quota':
        return json(res, poller ? 200 : 404, poller ? poller.view() : { enabled: false, message: 'The quota poller is off (set QUOTA_POLL_ENABLED=true and ZAI_API_KEY).' });
      case 'admin-reset-rate-limit':
        if (req.method !== 'POST') return json(res, 405, { error: { message: 'Use POST.', type: 'invalid_request_error' } }, { allow: 'POST' });
        if (!canAdminister(req)) return json(res, 401, { error: { message: 'An admin token or client key is required.', type: 'authentication_error' } });
        if (!admission) return json(res, 409, { error: { message: 'The rate limiter is disabled.', type: 'invalid_request_error' } });
        admission.reset();
        log.info('rate limiter reset by admin request');
        return json(res, 200, { reset: true, limiter: admission.snapshot() });
      default:
        return json(res, 404, { error: { message: `No route for ${pathname}. The proxy serves /v1/* (OpenAI- and Anthropic-compatible), /health, /ready, /metrics and /quota.`, type: 'not_found_error' } });
    }
  };

  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    handle(req, res).catch((err) => {
      log.error({ err: (err as Error).message }, 'unhandled error in request handler');
      res.destroy();
    });
  });
  server.listen(env.PORT, env.HOST);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  const host = env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST;

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = (graceMs = env.SHUTDOWN_GRACE): Promise<void> =>
    (shutdownPromise ??= (async () => {
      isDraining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        const timer = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
        const drained = new Promise<void>((resolve) => idle.addEventListener('idle', () => resolve(), { once: true }));
        await Promise.race([drained, timer]);
      }
      server.closeAllConnections();
      await closed;
      await Promise.allSettled([admission?.close(), poller?.stop(), ...[...pools.values()].map((p) => p.close())]);
    })());

  // The tokenizer takes ~150 ms to load: pay that right after start, not on a request.
  if (env.TOKEN_COUNTING_ENABLED) setImmediate(warmTokenizer);
  log.info({ url: `http://${host}:${port}`, variant: env.DEPLOYMENT_VARIANT, version: build.version }, 'zai-proxy listening');
  return { url: `http://${host}:${port}`, server, metrics, admission, shutdown };
}

