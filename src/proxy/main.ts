import { loadPriceTable } from '../accounting/pricing.js';
import { readProxyEnv } from '../config/proxy.js';
import { closeLog, createLogger } from '../log/logger.js';
import { banner, proxyLines } from '../cli/banner.js';
import { listeningOn } from '../cli/port-in-use.js';
import { startProxy } from './server.js';

/** `zai-proxy serve`: configuration from the environment, graceful drain on SIGTERM/SIGINT. */
export async function main(_args: string[]): Promise<void> {
  const env = readProxyEnv();
  // A bad price override is refused here, before the banner says where the proxy will be.
  loadPriceTable({ file: env.PRICING_FILE, json: env.PRICING_JSON });
  const log = createLogger(env.LOG_LEVEL);
  process.stderr.write(banner('zai-proxy serve', [...proxyLines(env), '  dashboard  not in this process (zai-proxy dashboard, or npm start for both)']));
  const proxy = await listeningOn('PORT', env.PORT, () => startProxy(env, { log }), undefined, 'HOST');
  const stop = (signal: string) => {
    log.info({ signal, graceMs: env.SHUTDOWN_GRACE }, 'draining');
    proxy.shutdown().then(
      () => {
        log.info('stopped');
        void closeLog(log).then(() => process.exit(0));
      },
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
