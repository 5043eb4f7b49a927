import { readProxyEnv } from '../config/proxy.js';
import { createLogger } from '../log/logger.js';
import { startProxy } from './server.js';

/** `zai-proxy serve`: configuration from the environment, graceful drain on SIGTERM/SIGINT. */
export async function main(_args: string[]): Promise<void> {
  const env = readProxyEnv();
  const log = createLogger(env.LOG_LEVEL);
  const proxy = await startProxy(env, { log });
  const stop = (signal: string) => {
    log.info({ signal, graceMs: env.SHUTDOWN_GRACE }, 'draining');
    proxy.shutdown().then(
      () => {
        log.info('stopped');
        log.flush(() => process.exit(0));
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
