import type { ProxyEnv } from '../config/proxy.js';
import type { Logger } from '../log/logger.js';
import { startProxy, type ProxyServer } from '../proxy/server.js';
import { Channel, purposeOf, type Op } from './channel.js';
import { IpcBudget } from './ipc-budget.js';

/** Long enough for the primary to ask every worker (its own deadline is shorter). */
const GATHER_TIMEOUT_MS = 4000;

/** The slot the primary gave this worker (cluster.fork's environment). */
export const SLOT_VARIABLE = 'ZAI_PROXY_WORKER_SLOT';

/**
 * One worker of PROXY_WORKERS: the whole proxy, with its limiter budget held by the primary
 * (unless REDIS_URL shares it already) and /metrics and /health gathered by the primary from
 * every worker. `onDrain` is called when the primary says to stop (or is gone).
 */
export async function startWorker(env: ProxyEnv, log: Logger, onDrain: (why: string) => void): Promise<ProxyServer> {
  const slot = Number(process.env[SLOT_VARIABLE] ?? 0);
  let proxy: ProxyServer | undefined;
  const ready = () => {
    if (!proxy) throw new Error('worker not started yet');
    return proxy;
  };
  const channel = new Channel((message, done) => process.send!(message, undefined, undefined, done), {
    collectMetrics: () => ready().metrics.registry.getMetricsAsJSON(),
    collectHealth: () => ready().health(),
    drain: () => onDrain('primary'),
  });
  let failures = 0;
  channel.onFailure = (op: Op) => {
    // Bookkeeping never breaks a request: a failed message is counted and logged, rarely.
    try {
      proxy?.metrics.zai_proxy_cluster_ipc_failures_total.inc({ op: purposeOf(op) });
    } catch {}
    if (failures++ % 100 === 0) log.warn({ op, failures }, 'cluster: a message to the primary failed');
  };
  process.on('message', (m) => channel.receive(m));
  process.once('disconnect', () => {
    channel.close();
    onDrain('primary gone');
  });
  proxy = await startProxy(env, {
    log,
    worker: {
      slot,
      budget: env.REDIS_URL ? undefined : new IpcBudget(channel, env.RATE_LIMIT_WINDOW),
      metrics: () => channel.call('metrics', undefined, GATHER_TIMEOUT_MS),
      health: (local) => channel.call('health', local, GATHER_TIMEOUT_MS),
    },
  });
  return proxy;
}
