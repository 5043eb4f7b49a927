import { performance } from 'node:perf_hooks';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ProxyEnv } from '../config/proxy.js';
import { AccessLog } from '../log/access-log.js';
import { createLogger, type Logger } from '../log/logger.js';
import { createMetrics, type Metrics } from '../metrics/catalogue.js';
import { ModelLabels } from '../metrics/labels.js';
import { loadPriceTable } from '../accounting/pricing.js';
import { UsageRecorder } from '../accounting/recorder.js';
import { TokenCounter } from '../accounting/token-counter.js';
import { Admission, admissionOptionsFrom } from '../limits/admission.js';
import { clearQuotaSampleAge, connectPacing, DEFAULT_PACING_FLOOR_RPS, QuotaPacer, QuotaPoller, quotaPollerOptionsFrom } from '../quota/index.js';
import { Accountant } from './accountant.js';
import { draining, pathRefused, ProxyError } from './errors.js';
import { normaliseApiPath } from './api-path.js';
import { listen } from '../lib/listen.js';
import { healthStatus } from './health.js';
import { Forwarder } from './forward.js';
import { RequestState } from './request-state.js';
import { presentedKey } from './headers.js';
import { RequestMetrics } from './request-metrics.js';
import { matchRoute } from './routes.js';
import { UpstreamPools } from './upstream-pools.js';
import { buildInfo } from './build-info.js';
import { clientTimeouts } from './client-timeouts.js';
import { BodyBudget } from './body-budget.js';
import { KeyRing } from './keys.js';
import { CanarySplit } from '../split/canary-split.js';
import type { SharedBudget } from '../limits/redis-budget.js';

/**
 * How a worker of PROXY_WORKERS differs from a lone proxy (src/cluster/worker.ts fills it):
 * its limiter budget is the primary's, and /metrics and /health answer for every worker.
 */
export interface WorkerHooks {
  /** This process's slot, 0 to PROXY_WORKERS - 1. */
  readonly slot: number;
  /** The budget shared through the primary (absent with REDIS_URL, which is shared already). */
  readonly budget?: SharedBudget;
  /** The exposition of the whole cluster; rejects when the primary cannot give it. */
  metrics(): Promise<{ text: string; contentType: string }>;
  /** The /health body of the whole cluster, from this worker's own. */
  health(local: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export interface ProxyServer {
  readonly url: string;
  readonly server: Server;
  readonly metrics: Metrics;
  readonly admission: Admission | undefined;
  /** Buffered access lines; `flush()` hands them to the log destination now. */
  readonly accessLog: AccessLog;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then closes everything. */
  shutdown(graceMs?: number): Promise<void>;
  /** This process's own /health body (a worker's share of the cluster's). */
  health(): Record<string, unknown>;
}

/** Builds every part of the proxy from its configuration and starts listening. */
export async function startProxy(env: ProxyEnv, opts: { log?: Logger; worker?: WorkerHooks } = {}): Promise<ProxyServer> {
  const worker = opts.worker;
  const log = opts.log ?? createLogger(env.LOG_LEVEL);
  // Read before anything starts: a bad price file stops the process with a ConfigError.
  const prices = loadPriceTable({ file: env.PRICING_FILE, json: env.PRICING_JSON });
  const metrics = createMetrics(env.DEPLOYMENT_VARIANT);
  const build = buildInfo(env);
  metrics.zai_proxy_build_info.labels(build.version, build.commit, build.buildTime).set(1);

  const pools = new UpstreamPools(env);
  const upstream = (base: string) => pools.upstream(base);

  // Built with the limiter off too: MAX_WORKERS and the queue bounds hold either way.
  const admission = new Admission({ ...admissionOptionsFrom(env), shared: worker?.budget }, metrics, log.child({ component: 'limits' }));
  await admission.start();
  const workersOnly = () => {
    const { inFlight, queueDepth } = admission.snapshot();
    return { enabled: false, maxWorkers: env.MAX_WORKERS, inFlight, queueDepth };
  };

  const pollerOptions = quotaPollerOptionsFrom(env);
  const poller = pollerOptions ? new QuotaPoller(pollerOptions, metrics, log.child({ component: 'quota' })) : undefined;
  const pacer = env.QUOTA_PACING ? new QuotaPacer(admission, { floorRps: DEFAULT_PACING_FLOOR_RPS }) : undefined;
  if (poller && pacer) connectPacing(poller, pacer);
  if (!poller) clearQuotaSampleAge(metrics);
  poller?.start();

  const requestMetrics = new RequestMetrics(metrics, log);
  const tokens = env.TOKEN_COUNTING_ENABLED ? new TokenCounter() : undefined;
  const accountant = new Accountant(new UsageRecorder(metrics, prices), metrics.zai_proxy_token_count_duration_seconds, new ModelLabels(), tokens, log);
  const bodyBudget = new BodyBudget(env.MAX_HELD_BODY_BYTES);
  const clientKeys = new KeyRing(env.PROXY_API_KEYS);
  const administrators = env.ADMIN_TOKEN !== undefined ? new KeyRing([env.ADMIN_TOKEN]) : clientKeys;
  const forwarder = new Forwarder(
    {
      upstreams: { openai: upstream(env.ZAI_OPENAI_BASE_URL), anthropic: upstream(env.ZAI_ANTHROPIC_BASE_URL) },
      apiKey: env.ZAI_API_KEY,
      clientKeys,
      maxBodyBytes: env.MAX_BODY_BYTES,
      bodyBudget,
      maxRetries: env.MAX_RETRIES,
      retryBaseDelayMs: env.RETRY_BASE_DELAY,
      shouldRetryFalseAfterRetries: env.SHOULD_RETRY_FALSE_AFTER_RETRIES,
      requestTimeoutMs: env.REQUEST_TIMEOUT,
      admission,
      onQuotaExhausted: pacer ? (resetAtMs) => pacer.onQuotaExhausted(resetAtMs) : undefined,
    },
    requestMetrics,
    accountant,
    log,
  );

  const split = env.CANARY_UPSTREAM
    ? new CanarySplit(
        {
          upstream: env.CANARY_UPSTREAM,
          weight: env.CANARY_WEIGHT,
          stickyHeader: env.CANARY_STICKY_HEADER,
          maxBodyBytes: env.MAX_BODY_BYTES,
          bodyBudget,
          connectTimeoutMs: env.UPSTREAM_CONNECT_TIMEOUT,
          headersTimeoutMs: env.UPSTREAM_HEADERS_TIMEOUT,
          bodyTimeoutMs: env.UPSTREAM_BODY_TIMEOUT,
          connections: env.UPSTREAM_CONNECTIONS,
        },
        metrics,
        log.child({ component: 'split' }),
      )
    : undefined;

  const accessLog = new AccessLog(log);
  let inFlight = 0;
  let isDraining = false;
  const idle = new EventTarget();
  const startedAt = Date.now();
  // One process is worker 0 of 1; with PROXY_WORKERS the primary counts the workers up.
  const workerRequests = metrics.zai_proxy_cluster_worker_requests_total.labels(String(worker?.slot ?? 0));
  if (!worker) metrics.zai_proxy_cluster_workers.set(1);
  let requestsTaken = 0;

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  // With ADMIN_TOKEN set only it may administer; without, any configured client key may.
  const canAdminister = (req: IncomingMessage): boolean => {
    const key = presentedKey(req.headers);
    return key !== undefined && administrators.has(key);
  };

  const healthBody = (): Record<string, unknown> => {
    const limiter = admission.snapshot();
    return {
      ...healthStatus(limiter),
      variant: env.DEPLOYMENT_VARIANT,
      version: build.version,
      commit: build.commit,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      draining: isDraining,
      inFlight,
      heldBodyBytes: bodyBudget.held,
      limiter: env.RATE_LIMIT_ENABLED ? limiter : workersOnly(),
      quota: poller ? poller.view() : { enabled: false },
      bookkeepingFailures: { metrics: requestMetrics.failures, accounting: accountant.failures, accessLogDropped: accessLog.dropped },
      ...(worker ? { worker: { slot: worker.slot, pid: process.pid, requests: requestsTaken } } : {}),
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const api = normaliseApiPath(pathname);
    if (!api.ok) return forwarder.reject(res, undefined, new RequestState(), pathRefused(api.reason));
    const route = matchRoute(api.path, req.headers['anthropic-version'] !== undefined);
    if (isDraining) res.setHeader('connection', 'close');

    switch (route.kind) {
      case 'upstream': {
        const st = new RequestState();
        if (isDraining) return forwarder.reject(res, route, st, draining());
        inFlight++;
        requestsTaken++;
        workerRequests.inc();
        // The canary arm records its own requests; only a failover comes back to this proxy's books.
        let onCanary = split?.armOf(req, res) === 'canary';
        // 'close' comes once; `on` spares the wrapper `once` builds for every request.
        res.on('close', () => {
          if (onCanary) {
            if (--inFlight === 0) idle.dispatchEvent(new Event('idle'));
            return;
          }
          if (!res.writableFinished && !st.streamFailed) {
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
          let body: Buffer | undefined;
          if (onCanary) {
            const relayed = await split!.relay(req, res, route);
            if (relayed.served) return;
            onCanary = false;
            body = relayed.body;
          } else split?.stable();
          await forwarder.forward(req, res, route, q === -1 ? '' : url.slice(q), st, body);
        } catch (err) {
          log.error({ err: (err as Error).message, route: route.label }, 'request failed inside the proxy');
          if (!res.headersSent) forwarder.reject(res, route, st, new ProxyError(500, 'api_error', 'Internal proxy error.'));
          else res.destroy();
        }
        return;
      }
      case 'root': {
        // Clients probe the base URL before their first call (Claude Code sends HEAD /).
        const text = `zai-proxy ${build.version}: OpenAI- and Anthropic-compatible proxy for Z.AI under /v1 (health at /health, metrics at /metrics)\n`;
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' ? undefined : text);
        return;
      }
      case 'health': {
        const own = healthBody();
        if (!worker) return json(res, 200, own);
        // The whole answers; when the primary cannot gather it, this worker's own, saying so.
        const whole = await worker.health(own).catch((err: unknown) => ({
          ...own,
          status: 'degraded',
          degraded: { reason: `the other worker processes could not be asked (${(err as Error).message})` },
        }));
        return json(res, 200, whole);
      }
      case 'ready':
        return isDraining ? json(res, 503, { ready: false, reason: 'draining' }, { 'retry-after': '1' }) : json(res, 200, { ready: true });
      case 'metrics': {
        // A worker's own series alone would make the summed counters seem to reset: 503, not a part.
        const exposition = worker
          ? await worker.metrics().catch(() => undefined)
          : { text: await metrics.registry.metrics(), contentType: metrics.registry.contentType };
        if (!exposition)
          return json(
            res,
            503,
            { error: { message: "The worker processes' metrics could not be gathered; try again.", type: 'api_error' } },
            { 'retry-after': '1' },
          );
        res.writeHead(200, { 'content-type': exposition.contentType, 'content-length': Buffer.byteLength(exposition.text) });
        res.end(exposition.text);
        return;
      }
      case 'quota':
        return json(
          res,
          poller ? 200 : 404,
          poller ? poller.view() : { enabled: false, message: 'The quota poller is off (set QUOTA_POLL_ENABLED=true and ZAI_API_KEY).' },
        );
      case 'admin-reset-rate-limit':
        if (req.method !== 'POST') return json(res, 405, { error: { message: 'Use POST.', type: 'invalid_request_error' } }, { allow: 'POST' });
        if (!canAdminister(req)) return json(res, 401, { error: { message: 'An admin token or client key is required.', type: 'authentication_error' } });
        if (!env.RATE_LIMIT_ENABLED) return json(res, 409, { error: { message: 'The rate limiter is disabled.', type: 'invalid_request_error' } });
        admission.reset();
        log.info('rate limiter reset by admin request');
        return json(res, 200, { reset: true, limiter: admission.snapshot() });
      default:
        return json(res, 404, {
          error: {
            message: `No route for ${pathname}. The proxy serves /v1/* (OpenAI- and Anthropic-compatible), /health, /ready, /metrics and /quota.`,
            type: 'not_found_error',
          },
        });
    }
  };

  const server = createServer(clientTimeouts(env), (req, res) => {
    handle(req, res).catch((err) => {
      log.error({ err: (err as Error).message }, 'unhandled error in request handler');
      res.destroy();
    });
  });
  const url = await listen(server, env.PORT, env.HOST);

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
      await Promise.allSettled([admission.close(), poller?.stop(), split?.close(), pools.close(), tokens?.close()]);
      accessLog.flush(); // every finished request's line, before the caller flushes the logger
    })());

  // A worker is one part of the proxy: the primary says `listening` once every worker is.
  if (worker) log.info({ worker: worker.slot, pid: process.pid, address: url }, 'worker listening');
  else log.info({ url, variant: env.DEPLOYMENT_VARIANT, version: build.version }, 'zai-proxy listening');
  return { url, server, metrics, admission, accessLog, shutdown, health: healthBody };
}
