import { loadPriceTable } from '../accounting/pricing.js';
import { readProxyEnv } from '../config/proxy.js';
import { ConfigError } from '../config/fields.js';
import { readDashboardConfig } from '../config/dashboard.js';
import { closeLog, createLogger } from '../log/logger.js';
import { startProxy } from '../proxy/server.js';
import { startDashboard, type RunningDashboard } from '../dashboard/main.js';
import { listeningOn } from '../cli/port-in-use.js';
import { banner, dashboardLines, proxyLines } from '../cli/banner.js';

/**
 * `zai-proxy start` (`npm start`): the proxy and the dashboard in one process, each on its
 * defaults (8080 and 3000), the dashboard scraping this proxy unless told otherwise. One
 * Ctrl-C drains the proxy and stops both.
 */
export async function main(_args: string[]): Promise<void> {
  const proxyEnv = readProxyEnv();
  if (proxyEnv.PROXY_WORKERS > 1) {
    throw new ConfigError(
      'invalid configuration: PROXY_WORKERS applies to zai-proxy serve; start runs the proxy and the dashboard in one process (run serve with PROXY_WORKERS, and the dashboard beside it)',
    );
  }
  const dashboardConfig = readDashboardConfig();
  // A bad price override is refused here, before the banner says where the proxy will be.
  loadPriceTable({ file: proxyEnv.PRICING_FILE, json: proxyEnv.PRICING_JSON });
  const log = createLogger(proxyEnv.LOG_LEVEL);
  const scrapesThisProxy = process.env.SCRAPE_TARGETS === undefined && dashboardConfig.prometheusUrl === undefined;
  if (scrapesThisProxy) dashboardConfig.targets = [`http://127.0.0.1:${proxyEnv.PORT}/metrics`];
  process.stderr.write(banner('zai-proxy start', [...proxyLines(proxyEnv), ...dashboardLines(dashboardConfig)]));
  const proxy = await listeningOn('PORT', proxyEnv.PORT, () => startProxy(proxyEnv, { log: log.child({ part: 'proxy' }) }), undefined, 'HOST');
  if (scrapesThisProxy) dashboardConfig.targets = [`${proxy.url}/metrics`];
  let dashboard: RunningDashboard;
  try {
    dashboard = await listeningOn(
      'DASHBOARD_PORT',
      dashboardConfig.port,
      () => startDashboard(dashboardConfig, { logger: log.child({ part: 'dashboard' }) }),
      undefined,
      'DASHBOARD_HOST',
    );
  } catch (err) {
    await proxy.shutdown(0);
    throw err;
  }
  log.info({ proxy: proxy.url, dashboard: dashboard.url }, 'zai-proxy started: point clients at the proxy, open the dashboard');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await Promise.allSettled([proxy.shutdown(), dashboard.close()]);
    log.info('stopped');
    await closeLog(log);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
