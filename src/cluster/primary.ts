import cluster, { type Worker } from 'node:cluster';
import type { ProxyEnv } from '../config/proxy.js';
import type { Logger } from '../log/logger.js';
import { createPrimaryMetrics } from '../metrics/catalogue.js';
import { LearnedState } from '../limits/learned-state.js';
import { systemClock } from '../limits/clock.js';
import { BudgetHost } from './budget-host.js';
import { Channel, purposeOf, type Op } from './channel.js';
import { combineHealth, type WorkerHealth } from './health.js';
import { MetricsMerger, type WorkerReport } from './metrics-host.js';
import { SLOT_VARIABLE } from './worker.js';

/** A worker that does not answer a scrape in this time is counted with its last report. */
const COLLECT_TIMEOUT_MS = 2000;
/** A worker that exits after it listened is replaced after this pause. */
const RESPAWN_DELAY_MS = 1000;
/** After SHUTDOWN_GRACE, workers have this long to close their logs before they are killed. */
const KILL_AFTER_GRACE_MS = 5000;

interface Slot {
  worker: Worker;
  channel: Channel;
  listening: boolean;
}

export interface Primary {
  /** Resolves with the exit code once every worker has exited. */
  readonly exited: Promise<number>;
  /** Why the first worker that could not start said it could not (printed once, by the caller). */
  readonly fatal: () => string | undefined;
  /** Tells every worker to drain (stop accepting, finish in flight, exit). */
  drain(why: string): void;
}

/**
 * The primary process of PROXY_WORKERS=N: serves no request itself. It forks N workers that
 * share the port (node:cluster hands out connections round-robin), holds their common
 * limiter budget, gathers /metrics and /health from all of them for whichever worker was
 * asked, replaces a worker that dies, and on drain tells every worker to finish and waits.
 */
export async function startPrimary(env: ProxyEnv, log: Logger): Promise<Primary> {
  const n = env.PROXY_WORKERS;
  const budget = new BudgetHost(env.RATE_LIMIT_WINDOW);
  const learned = await persistLearned(env, log, budget);
  const own = createPrimaryMetrics(env.DEPLOYMENT_VARIANT);
  const merger = new MetricsMerger();
  const slots: Array<Slot | undefined> = new Array(n).fill(undefined);
  const startedAt = Date.now();
  let announced = false;
  let draining = false;
  let exitCode = 0;
  let fatal: string | undefined;
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));

  const countFailure = (op: Op) => {
    try {
      own.ipcFailures.inc({ op: purposeOf(op) });
    } catch {}
  };
  const live = () => slots.filter((s): s is Slot => s?.worker.isConnected() === true);
  const publishWorkers = () => own.workers.set(live().filter((s) => s.listening).length);

  /** Every worker's families, or its last report for one that does not answer in time. */
  const scrape = async () => {
    await Promise.all(
      live().map(async (s) => {
        const pid = s.worker.process.pid!;
        const families = await s.channel.call<WorkerReport>('collectMetrics', undefined, COLLECT_TIMEOUT_MS).catch(() => undefined);
        if (families) merger.report(pid, families);
      }),
    );
    return merger.text(await own.registry.getMetricsAsJSON());
  };

  const health = async (askedBy: number, local: unknown) => {
    const answers = await Promise.all(
      slots.map(async (s, slot) => {
        if (slot === askedBy) return { slot, health: local as WorkerHealth };
        if (!s?.worker.isConnected()) return { slot, health: undefined };
        return { slot, health: await s.channel.call<WorkerHealth>('collectHealth', undefined, COLLECT_TIMEOUT_MS).catch(() => undefined) };
      }),
    );
    return combineHealth(n, answers, Math.round((Date.now() - startedAt) / 1000));
  };

  const fork = (slot: number) => {
    const worker = cluster.fork({ [SLOT_VARIABLE]: String(slot) });
    const channel = new Channel((message, done) => worker.send(message as object, undefined, done), {
      takeToken: (b) => budget.takeToken(b),
      takeTokens: (b) => budget.takeTokens(b),
      drainBucket: () => budget.drainBucket(),
      readShared: () => budget.readShared(),
      writeShared: (b) => budget.writeShared(b),
      closeWindow: (b) => budget.closeWindow(b),
      metrics: () => scrape(),
      health: (local) => health(slot, local),
      fatal: (message) => void (fatal ??= String(message)),
    });
    channel.onFailure = countFailure;
    const entry: Slot = { worker, channel, listening: false };
    slots[slot] = entry;
    worker.on('message', (m) => channel.receive(m));
    worker.on('listening', (address) => {
      entry.listening = true;
      publishWorkers();
      if (!announced && slots.every((s) => s?.listening)) {
        announced = true;
        const host = address.addressType === 6 ? `[${address.address}]` : address.address;
        log.info({ url: `http://${host}:${address.port}`, workers: n, variant: env.DEPLOYMENT_VARIANT }, 'zai-proxy listening');
      }
    });
    // Messages a worker sent before it exited (its `fatal`) are all read once its link closes.
    const disconnected = new Promise<void>((resolve) => worker.once('disconnect', () => resolve()));
    worker.on('exit', (code, signal) => {
      void Promise.race([disconnected, new Promise((resolve) => setTimeout(resolve, 1000).unref())]).then(() => exitedWorker(code, signal));
    });
    const exitedWorker = (code: number | null, signal: string | null) => {
      channel.close();
      merger.retire(worker.process.pid!);
      if (slots[slot] === entry) slots[slot] = undefined;
      publishWorkers();
      if (draining) {
        if (code !== 0 && exitCode === 0) exitCode = 1;
        if (slots.every((s) => s === undefined)) void Promise.resolve(learned?.flushed()).then(() => resolveExit(exitCode));
        return;
      }
      if (!entry.listening) {
        // It never served (the port in use, a bad setting): replacing it would fail the same way.
        log.error({ worker: slot, code, signal }, 'cluster: a worker exited before it listened; stopping');
        exitCode = code || 1;
        drain('worker failed to start');
        return;
      }
      log.error({ worker: slot, pid: worker.process.pid, code, signal }, 'cluster: worker exited; starting a replacement');
      setTimeout(() => draining || fork(slot), RESPAWN_DELAY_MS).unref();
    };
  };

  const drain = (why: string) => {
    if (draining) return;
    draining = true;
    log.info({ why, graceMs: env.SHUTDOWN_GRACE, workers: live().length }, 'draining');
    for (const s of live()) s.channel.notify('drain');
    if (slots.every((s) => s === undefined)) void Promise.resolve(learned?.flushed()).then(() => resolveExit(exitCode));
    setTimeout(() => {
      for (const s of slots) if (s) s.worker.process.kill('SIGKILL');
    }, env.SHUTDOWN_GRACE + KILL_AFTER_GRACE_MS).unref();
  };

  cluster.setupPrimary({ serialization: 'advanced' });
  for (let slot = 0; slot < n; slot++) fork(slot);
  return { exited, drain, fatal: () => fatal };
}

/**
 * RATE_LIMIT_STATE_FILE for the workers' shared budget (without Redis): the primary loads it
 * before any worker starts (each adopts it as shared state) and saves the proven ceiling when
 * a window's evaluation moves it, as one process does; a reset (proven back to 0) deletes it.
 */
async function persistLearned(env: ProxyEnv, log: Logger, budget: BudgetHost): Promise<LearnedState | undefined> {
  if (!env.RATE_LIMIT_ENABLED || env.REDIS_URL || env.RATE_LIMIT_STATE_FILE === 'none') return undefined;
  const learned = new LearnedState(env.RATE_LIMIT_STATE_FILE, env.RATE_LIMIT_STATE_MAX_AGE, log.child({ component: 'limits' }), systemClock);
  const loaded = await learned.load();
  let saved = 0;
  if (loaded) {
    budget.seed({ estimator: { ceiling: loaded.ceiling, rate: loaded.rate, cleanWindows: 0, probeStep: 0 }, concurrencyLimit: loaded.concurrencyLimit });
    saved = loaded.ceiling;
    log.info({ ceiling: loaded.ceiling, rate: loaded.rate }, 'limiter: resumed persisted limits for every worker');
  }
  budget.onWrite = (state) => {
    const proven = state.estimator.proven ?? 0;
    if (proven > 0 && proven !== saved) learned.save(proven, env.RATE_LIMIT_HOLD_MARGIN, state.concurrencyLimit);
    else if (proven === 0 && saved > 0) learned.forget();
    saved = proven;
  };
  return learned;
}
