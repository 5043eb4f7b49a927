import { readDashboardConfig, type DashboardConfig } from '../config/dashboard.js';
import { createLogger, type Logger } from '../log/logger.js';
import { canaryJudge } from './api/canary.js';
import { DashboardApi } from './api/server.js';
import { prometheusReader } from '../canary/prometheus-reader.js';
import { snapshotReader } from '../canary/store-reader.js';
import type { FetchPage, RoundResult } from './sources/collector.js';
import { parseTargets, redactUrl } from './sources/targets.js';
import { PrometheusSource } from './sources/prometheus-source.js';
import { ScrapeSource } from './sources/scrape-source.js';
import { createDashboardMetrics } from './self-metrics.js';
import { HistoryStore } from './store/history-store.js';
import { createWebAssets } from './web-assets.js';
import { listeningOn } from '../cli/port-in-use.js';
import { banner, dashboardLines } from '../cli/banner.js';
import { packageVersion } from '../lib/package-version.js';

/** How often old points are pruned and the WAL truncated. */
export const PRUNE_EVERY_MS = 10 * 60_000;
export const HEARTBEAT_MS = 15_000;
export const MAX_CLIENT_QUEUE = 256;

export interface DashboardOverrides {
  now?: () => number;
  fetchPage?: FetchPage;
  heartbeatMs?: number;
  maxClientQueue?: number;
  webRoot?: string;
  logger?: Logger;
  /** false: no timer; tests drive rounds with `tick()`. */
  schedule?: boolean;
}

export interface RunningDashboard {
  url: string;
  /** Runs one collection round now and publishes it (what the timer does every interval). */
  tick(): Promise<RoundResult | undefined>;
  api: DashboardApi;
  close(): Promise<void>;
}

export async function startDashboard(config: DashboardConfig, o: DashboardOverrides = {}): Promise<RunningDashboard> {
  const now = o.now ?? Date.now;
  const logger = o.logger ?? createLogger(config.logLevel);
  const metrics = createDashboardMetrics();
  const targets = parseTargets(config.targets);
  let store: HistoryStore | undefined;
  let scrape: ScrapeSource | undefined;
  let prom: PrometheusSource | undefined;
  if (config.prometheusUrl !== undefined) {
    prom = new PrometheusSource({ baseUrl: config.prometheusUrl, intervalMs: config.scrapeIntervalMs, timeoutMs: config.scrapeTimeoutMs, now, metrics });
  } else {
    store = HistoryStore.open(config.dbPath, { retentionMs: config.retentionMs });
    scrape = new ScrapeSource(
      store,
      config.retentionMs,
      { targets, intervalMs: config.scrapeIntervalMs, timeoutMs: config.scrapeTimeoutMs, now, fetchPage: o.fetchPage, metrics },
      metrics,
    );
  }
  const source = (prom ?? scrape)!;
  // The verdict reads what the page shows: the dashboard's store, or the same Prometheus.
  const canary =
    config.prometheusUrl !== undefined
      ? canaryJudge(prometheusReader(config.prometheusUrl), `Prometheus ${redactUrl(config.prometheusUrl)}`)
      : canaryJudge(
          snapshotReader('dashboard store', (r, from, to) => store!.query(r, from, to), { fineSpanMs: config.retentionMs['5s'] }),
          'dashboard store',
        );
  const api = new DashboardApi({
    source,
    config: {
      scrape_interval_s: config.scrapeIntervalMs / 1000,
      scrape_timeout_s: config.scrapeTimeoutMs / 1000,
      targets: prom ? [] : targets.map((t) => ({ name: t.name, url: redactUrl(t.url) })),
      prometheus_url: config.prometheusUrl !== undefined ? redactUrl(config.prometheusUrl) : null,
    },
    version: packageVersion(process.env.ZAI_PROXY_VERSION),
    token: config.token,
    heartbeatMs: o.heartbeatMs ?? HEARTBEAT_MS,
    maxClientQueue: o.maxClientQueue ?? MAX_CLIENT_QUEUE,
    now,
    metrics,
    logger,
    web: createWebAssets(o.webRoot),
    canary,
  });

  let running: Promise<RoundResult | undefined> | undefined;
  let lastPrune = -Infinity;
  const tick = (): Promise<RoundResult | undefined> => {
    // Rounds never overlap: a slow round makes the next tick wait for it rather than pile up.
    running ??= (async () => {
      try {
        const ts = now();
        const result = scrape ? await scrape.round(ts) : await prom!.round(ts);
        api.publish(
          result.snapshots.map((s) => s.snapshot),
          result.statusEvents,
        );
        for (const e of result.statusEvents) logger.warn({ target: e.target, state: e.state, error: e.last_error }, 'scrape target status changed');
        if (store && ts - lastPrune >= PRUNE_EVERY_MS) {
          lastPrune = ts;
          store.prune(ts);
          metrics.storeBytes.set(store.sizeBytes());
        }
        return result;
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'collection round failed');
        return undefined;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    const delay = config.scrapeIntervalMs - (now() % config.scrapeIntervalMs);
    timer = setTimeout(() => void tick().finally(schedule), delay);
  };

  let url: string;
  try {
    url = await api.listen(config.port, config.host);
  } catch (err) {
    store?.close();
    throw err;
  }
  if (o.schedule !== false) {
    void tick().finally(schedule);
  }
  logger.info({ url, source: source.kind, targets: targets.map((t) => redactUrl(t.url)) }, 'dashboard listening');
  return {
    url,
    tick,
    api,
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await api.close();
      store?.close();
    },
  };
}

export async function main(_args: string[]): Promise<void> {
  const config = readDashboardConfig();
  const dashboard = await listeningOn('DASHBOARD_PORT', config.port, () => startDashboard(config), undefined, 'DASHBOARD_HOST');
  // After the start, so a store that cannot be opened is the only thing said.
  process.stderr.write(banner('zai-proxy dashboard', dashboardLines(config)));
  process.stdout.write(`zai-proxy dashboard on ${dashboard.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await dashboard.close();
}
