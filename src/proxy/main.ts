import { loadPriceTable } from '../accounting/pricing.js';
import { readProxyEnv, type ProxyEnv } from '../config/proxy.js';
import { closeLog, createLogger, type Logger } from '../log/logger.js';
import { LogDestination, PIPE_BUF } from '../log/destination.js';
import { banner, proxyLines } from '../cli/banner.js';
import { listeningOn } from '../cli/port-in-use.js';
import { startProxy, type ProxyServer } from './server.js';

/** `zai-proxy serve`: configuration from the environment, graceful drain on SIGTERM/SIGINT. */
export async function main(_args: string[]): Promise<void> {
  const env = readProxyEnv();
  // A bad price override is refused here, before the banner says where the proxy will be.
  loadPriceTable({ file: env.PRICING_FILE, json: env.PRICING_JSON });
  // node:cluster is loaded only for PROXY_WORKERS > 1: one process stays exactly one process.
  if (env.PROXY_WORKERS > 1 && (await import('node:cluster')).default.isWorker) return worker(env);
  const log = createLogger(env.LOG_LEVEL);
  const lines = [...proxyLines(env), ...(env.PROXY_WORKERS > 1 ? [`  workers    ${env.PROXY_WORKERS} processes on one port`] : [])];
  process.stderr.write(banner('zai-proxy serve', [...lines, '  dashboard  not in this process (zai-proxy dashboard, or npm start for both)']));
  if (env.PROXY_WORKERS > 1) return primary(env, log);
  const proxy = await listeningOn('PORT', env.PORT, () => startProxy(env, { log }), undefined, 'HOST');
  onSignals((signal) => drainThenExit(proxy, log, env, signal));
}

/** The primary of PROXY_WORKERS: forks the workers, passes the signal on, exits as they have. */
async function primary(env: ProxyEnv, log: Logger): Promise<void> {
  const { startPrimary } = await import('../cluster/primary.js');
  const cluster = await startPrimary(env, log);
  onSignals((signal) => cluster.drain(signal));
  const code = await cluster.exited;
  const fatal = cluster.fatal();
  // One line for what stopped every worker (the port in use), as one process would print it.
  if (fatal !== undefined) process.stderr.write(`zai-proxy serve: ${fatal}\n`);
  log.info({ code }, 'stopped');
  await closeLog(log);
  process.exit(code);
}

/** One worker of PROXY_WORKERS: drains when the primary says so (or is gone), or on its own signal. */
async function worker(env: ProxyEnv): Promise<void> {
  // Every worker writes to the same stdout: writes of at most PIPE_BUF bytes (whole lines) do not interleave.
  const log = createLogger(env.LOG_LEVEL, new LogDestination(1, PIPE_BUF));
  const { startWorker } = await import('../cluster/worker.js');
  const { reportFatal } = await import('../cluster/channel.js');
  let proxy: ProxyServer | undefined;
  let pending: string | undefined;
  let stopping = false;
  const stop = (why: string) => {
    if (!proxy) pending ??= why;
    else if (!stopping) {
      stopping = true;
      drainThenExit(proxy, log, env, why);
    }
  };
  try {
    proxy = await listeningOn('PORT', env.PORT, () => startWorker(env, log, stop), undefined, 'HOST');
  } catch (err) {
    if (!(err instanceof Error) || err.name !== 'ConfigError') throw err;
    await reportFatal(err.message);
    process.exit(2);
  }
  onSignals(stop);
  if (pending) stop(pending);
}

function onSignals(stop: (signal: string) => void): void {
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

function drainThenExit(proxy: ProxyServer, log: Logger, env: ProxyEnv, signal: string): void {
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
}
