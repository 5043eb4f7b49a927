import { readProxyEnv } from '../config/proxy.js';
import { readDashboardConfig } from '../config/dashboard.js';
import { createLogger } from '../log/logger.js';
import { startProxy } from '../proxy/server.js';
import { startDashboard } from '../dashboard/main.js';

/**
 * `zai-proxy start` (`npm start`): the proxy and the dashboard in one process, each on its
 * defaults (8080 and 3000), the dashboard scraping this proxy unless told otherwise. One
 * Ctrl-C drains the proxy and stops both.
 */
export async function main(_args: string[]): Promise<void> {
  const proxyEnv = readProxyEnv();
  const dashboardConfig = readDashboardConfig();
  const log = createLogger(proxyEnv.LOG_LEVEL);
  const proxy = await startProxy(proxyEnv, { log: log.child({ part: 'proxy' }) });
  if (process.env.SCRAPE_TARGETS === undefined && dashboardConfig.prometheusUrl === undefined) {
    dashboardConfig.targets = [`${proxy.url}/metrics`];
  }
  const dashboard = await startDashboard(dashboardConfig, { logger: log.child({ part: 'dashboard' }) });
  log.info({ proxy: proxy.url, dashboard: dashboard.url }, 'zai-proxy started: point clients at the proxy, open the dashboard');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await Promise.allSettled([proxy.shutdown(), dashboard.close()]);
    log.info('stopped');
    log.flush(() => process.exit(0));
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
