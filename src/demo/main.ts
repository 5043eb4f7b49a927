import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listeningOn } from '../cli/port-in-use.js';
import { readDashboardConfig } from '../config/dashboard.js';
import { readDemoEnv } from '../config/demo.js';
import { readProxyEnv } from '../config/proxy.js';
import { startDashboard, type RunningDashboard } from '../dashboard/main.js';
import { createLogger, type Logger } from '../log/logger.js';
import { startProxy, type ProxyServer } from '../proxy/server.js';
import { MODEL_NAMES, startSimulator, type Simulator } from '../sim/index.js';
import { startTraffic, type Traffic } from './traffic.js';

/**
 * `zai-proxy demo`: the simulator, a stable and a canary proxy in front of it, the dashboard
 * scraping both, and synthetic traffic with the weather an operator meets in practice (429
 * storms, bursts past the upstream's rate ceiling, a quota window filling up and resetting),
 * so every panel has something to show within a minute. Everything is in this process and on
 * loopback; Ctrl-C stops it all.
 */

export const VARIANTS = ['stable', 'canary'] as const;
/** The demo key the proxies inject; the simulator's quota endpoint wants one. Not a real secret. */
const DEMO_KEY = 'demo-not-a-real-key';
/**
 * The proxies' limiter window. Production's 30 s would spread a storm and its recovery over
 * minutes; at 5 s both fit in the half minute between events, as the dashboard shows them.
 */
export const DEMO_LIMITER_WINDOW_MS = 5_000;
/**
 * The simulator's request-rate ceiling. Both proxies spend one key's budget without sharing
 * state (no Redis in the demo), so each learns its share of it: together they hold just under it.
 */
export const DEMO_CEILING_RPS = 14;
const DEMO_PROBE_INTERVAL = 3;

export interface DemoOptions {
  /** Dashboard port; 0 picks a free one (default 3000, like `zai-proxy dashboard`). */
  port?: number;
  /** Stable proxy port, the canary's is one above; 0 (the default) picks free ones. */
  proxyPort?: number;
  /** Simulator port; 0 (the default) picks a free one. */
  simPort?: number;
  host?: string;
  scrapeIntervalMs?: number;
  /**
   * Requests per second across both proxies (default 18, above the simulator's ceiling of 14:
   * the limiters have a ceiling to find and hold, and a storm's dent in what they admit shows).
   */
  ratePerSecond?: number;
  /** Only these scripted events, in this order (default: all of WEATHER). */
  weather?: readonly WeatherName[];
  /** Seconds between the scripted events (storms, bursts); shorter in tests. */
  weatherEverySec?: number;
  /** The proxies' limiter window (RATE_LIMIT_WINDOW); short, so a storm and its recovery show within a minute. */
  limiterWindowMs?: number;
  /**
   * Client requests in flight at most, across both proxies (shared out by traffic weight;
   * default 24). With demand above the ceiling this bounds each proxy's queue, so admission
   * waits stay around two seconds instead of growing to the queue timeout.
   */
  maxInFlight?: number;
  quotaPollMs?: number;
  logLevel?: string;
  /** Where the dashboard keeps its SQLite file; a temporary directory by default, removed on close. */
  dataDir?: string;
}

export interface Demo {
  readonly dashboardUrl: string;
  readonly sim: Simulator;
  readonly traffic: Traffic;
  /** The scripted events so far, in order. */
  readonly weather: readonly WeatherRecord[];
  proxyUrl(variant: (typeof VARIANTS)[number]): string | null;
  /** Stops one proxy, as if its pod died; the dashboard should then call its data stale. */
  stopProxy(variant: (typeof VARIANTS)[number]): Promise<void>;
  /** Stops the dashboard and starts it again on the same port and database. */
  restartDashboard(): Promise<void>;
  stopDashboard(): Promise<void>;
  startDashboard(): Promise<void>;
  close(): Promise<void>;
}

export async function startDemo(o: DemoOptions = {}): Promise<Demo> {
  const logLevel = o.logLevel ?? 'warn';
  const log: Logger = createLogger(logLevel);
  const scrapeIntervalMs = o.scrapeIntervalMs ?? 2_000;
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'zai-demo-'));
  const ownsDataDir = o.dataDir === undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'demo: cleanup step failed');
      }
    }
  };

  try {
    // A 5-hour window small enough that the demo's traffic visibly fills it in about twenty minutes.
    const quotaBudget = 20_000_000;
    const simPort = o.simPort ?? 0;
    const sim = await listeningOn('SIM_PORT', simPort, () =>
      startSimulator({
        host: '127.0.0.1',
        port: simPort,
        scenario: {
          outputTokens: 180,
          cachedTokens: 40,
          cacheCreationTokens: 12,
          streamChunks: 8,
          chunkIntervalMs: 25,
          rateLimit: { rps: DEMO_CEILING_RPS },
          concurrencyLimit: 12,
          quotaWindow: { budgetTokens: quotaBudget, usedTokens: Math.round(quotaBudget * 0.62), resetAt: Date.now() + 5 * 3_600_000 },
        },
      }),
    );
    cleanups.push(() => sim.close());

    const proxies = new Map<string, ProxyServer>();
    for (const [i, variant] of VARIANTS.entries()) {
      const proxyPort = o.proxyPort ? o.proxyPort + i : 0;
      const env = readProxyEnv({
        PORT: String(proxyPort),
        HOST: '127.0.0.1',
        LOG_LEVEL: logLevel,
        DEPLOYMENT_VARIANT: variant,
        ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl,
        ZAI_ANTHROPIC_BASE_URL: sim.anthropicBaseUrl,
        ZAI_QUOTA_BASE_URL: sim.quotaBaseUrl,
        ZAI_API_KEY: DEMO_KEY,
        QUOTA_POLL_ENABLED: 'true',
        QUOTA_POLL_INTERVAL: `${o.quotaPollMs ?? 10_000}ms`,
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_STATE_FILE: 'none',
        RATE_LIMIT_WINDOW: `${o.limiterWindowMs ?? DEMO_LIMITER_WINDOW_MS}ms`,
        // Two limiters share one key's ceiling here: probing every few windows (not every ten)
        // lets each take back room the other left, so together they stay near the ceiling.
        RATE_LIMIT_PROBE_INTERVAL: String(DEMO_PROBE_INTERVAL),
        MAX_WORKERS: variant === 'stable' ? '16' : '12',
        ZAI_PROXY_VERSION: variant === 'stable' ? '0.1.0' : '0.2.0-rc.1',
        ZAI_PROXY_COMMIT: variant === 'stable' ? '3f2c1a9e0b7d' : '9b41e7c2d8aa',
        ZAI_PROXY_BUILD_TIME: new Date().toISOString(),
      });
      const setting = i === 0 ? `PORT=${proxyPort}` : `the canary listens on PORT+1`;
      const proxy = await listeningOn('PORT', proxyPort, () => startProxy(env, { log: log.child({ variant }) }), setting);
      proxies.set(variant, proxy);
      cleanups.push(async () => {
        if (proxies.get(variant) === proxy) await proxy.shutdown(0);
      });
    }
    const bases = VARIANTS.map((v) => proxies.get(v)!.url);

    const dashboardConfig = readDashboardConfig({
      DASHBOARD_PORT: String(o.port ?? 3000),
      DASHBOARD_HOST: o.host ?? '127.0.0.1',
      SCRAPE_TARGETS: VARIANTS.map((v, i) => `${v}=${bases[i]}/metrics`).join(','),
      SCRAPE_INTERVAL: `${scrapeIntervalMs}ms`,
      SCRAPE_TIMEOUT: `${Math.min(scrapeIntervalMs, 2_000)}ms`,
      DB_PATH: join(dataDir, 'dashboard.sqlite'),
      LOG_LEVEL: logLevel,
    });
    let dashboard: RunningDashboard | null = await listeningOn('DASHBOARD_PORT', dashboardConfig.port, () =>
      startDashboard(dashboardConfig, { logger: log.child({ component: 'dashboard' }) }),
    );
    const dashboardUrl = dashboard.url;
    // A restart must come back on the same address, or the open page could never reconnect.
    const port = Number(new URL(dashboardUrl).port);
    cleanups.push(async () => {
      await dashboard?.close();
      dashboard = null;
    });
    if (ownsDataDir) cleanups.unshift(() => rmSync(dataDir, { recursive: true, force: true }));

    const traffic = startTraffic({
      bases,
      mix: { targetWeights: [0.62, 0.38], models: ['glm-4.7', ...MODEL_NAMES.filter((m) => m !== 'glm-4.7').slice(0, 4)] },
      ratePerSecond: o.ratePerSecond ?? 18,
      maxInFlight: o.maxInFlight ?? 24,
    });
    cleanups.push(() => traffic.stop());

    const weather = startWeather(
      { sim, traffic, ceilingRps: DEMO_CEILING_RPS, windowMs: o.limiterWindowMs ?? DEMO_LIMITER_WINDOW_MS },
      quotaBudget,
      (o.weatherEverySec ?? 30) * 1000,
      o.weather,
    );
    cleanups.push(() => weather.stop());

    const startDash = async () => {
      if (dashboard) return;
      dashboard = await startDashboard({ ...dashboardConfig, port }, { logger: log.child({ component: 'dashboard' }) });
    };
    const stopDash = async () => {
      const d = dashboard;
      dashboard = null;
      await d?.close();
    };

    return {
      dashboardUrl,
      sim,
      traffic,
      weather: weather.log,
      proxyUrl: (v) => proxies.get(v)?.url ?? null,
      async stopProxy(v) {
        const p = proxies.get(v);
        proxies.delete(v);
        await p?.shutdown(0);
      },
      stopDashboard: stopDash,
      startDashboard: startDash,
      async restartDashboard() {
        await stopDash();
        await startDash();
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** One scripted event as it happened: when it began and when the upstream was calm again. */
export interface WeatherRecord {
  readonly name: WeatherName;
  readonly startedAt: number;
  /** When the event's last fault was spent (or its ceiling restored); undefined while it lasts. */
  endedAt?: number;
}

export type WeatherName = (typeof WEATHER)[number]['name'];

interface WeatherContext {
  sim: Simulator;
  traffic: Traffic;
  ceilingRps: number;
  windowMs: number;
  /** Schedules `fn` on the weather's own timers, cleared when the demo stops. */
  later(ms: number, fn: () => void): void;
}

/**
 * The scripted events, one per period in turn: a burst past the upstream's request ceiling
 * (1303s), a 429 storm of concurrency errors (1302, retried), a change of workload (longer
 * answers, more cache reads), an overload spell (1305, retried), slow first bytes, and a spell
 * where the upstream's ceiling halves for one limiter window (a storm of 1303s) and comes
 * back. `ended` says when the upstream is calm again, so recovery can be timed from there.
 */
export const WEATHER = [
  { name: 'burst', start: (c: WeatherContext) => c.traffic.burst(30), ended: () => true },
  {
    name: '1302 storm',
    start: (c: WeatherContext) => c.sim.setScenario({ faults: [{ kind: 'zaiError', code: 1302, status: 429, times: 25 }] }),
    ended: noFaultsLeft,
  },
  {
    name: 'workload change',
    start: (c: WeatherContext) => c.sim.setScenario({ outputTokens: 120 + Math.round(Math.random() * 700), cachedTokens: Math.round(Math.random() * 400) }),
    ended: () => true,
  },
  {
    name: '1305 spell',
    start: (c: WeatherContext) => c.sim.setScenario({ faults: [{ kind: 'zaiError', code: 1305, status: 503, times: 12 }] }),
    ended: noFaultsLeft,
  },
  {
    name: 'slow first bytes',
    start: (c: WeatherContext) => c.sim.setScenario({ faults: [{ kind: 'slowFirstByte', delayMs: 1500, times: 20 }] }),
    ended: noFaultsLeft,
  },
  {
    name: 'ceiling halves',
    start: (c: WeatherContext) => {
      c.sim.setScenario({ rateLimit: { rps: Math.max(1, Math.round(c.ceilingRps / 2)) } });
      // One window's length, so it straddles two windows: the limiter reads a passing spell and
      // keeps the ceiling it proved. A dip over two whole windows, half refused, it believes as
      // a real fall, and finding the old ceiling again then takes its probes (up to ~20 windows).
      c.later(c.windowMs, () => c.sim.setScenario({ rateLimit: { rps: c.ceilingRps } }));
    },
    ended: (c: WeatherContext) => c.sim.scenario().rateLimit?.rps === c.ceilingRps,
  },
] as const;

function noFaultsLeft(c: WeatherContext): boolean {
  return (c.sim.scenario().faults ?? []).length === 0;
}

interface Weather {
  readonly log: readonly WeatherRecord[];
  stop(): void;
}

function startWeather(ctx: Omit<WeatherContext, 'later'>, quotaBudget: number, periodMs: number, only?: readonly WeatherName[]): Weather {
  const events = WEATHER.filter((e) => !only || only.includes(e.name));
  const log: WeatherRecord[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const c: WeatherContext = {
    ...ctx,
    later(ms, fn) {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    },
  };
  let step = 0;
  let exhaustedSince: number | null = null;
  const period = setInterval(() => {
    if (events.length === 0) return;
    const e = events[step % events.length]!;
    step += 1;
    log.push({ name: e.name, startedAt: Date.now() });
    e.start(c);
  }, periodMs);
  const watch = setInterval(() => {
    const open = log.at(-1);
    if (open && open.endedAt === undefined && WEATHER.find((e) => e.name === open.name)!.ended(c)) open.endedAt = Date.now();
    const w = ctx.sim.scenario().quotaWindow;
    if (!w) return;
    if ((w.usedTokens ?? 0) < w.budgetTokens) {
      exhaustedSince = null;
      return;
    }
    exhaustedSince ??= Date.now();
    if (Date.now() - exhaustedSince > 60_000) {
      ctx.sim.setScenario({ quotaWindow: { budgetTokens: quotaBudget, usedTokens: 0, resetAt: Date.now() + 5 * 3_600_000 } });
      exhaustedSince = null;
    }
  }, 250);
  return {
    log,
    stop() {
      clearInterval(period);
      clearInterval(watch);
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}

export async function main(args: string[]): Promise<void> {
  const env = readDemoEnv();
  const portArg = args.find((a) => a.startsWith('--port='));
  const demo = await startDemo({
    port: portArg ? Number(portArg.slice(7)) : env.DASHBOARD_PORT,
    proxyPort: env.PORT,
    simPort: env.SIM_PORT,
    logLevel: env.LOG_LEVEL,
  });
  process.stdout.write(
    [
      '',
      `  zai-proxy demo: open ${demo.dashboardUrl}`,
      `  stable proxy  ${demo.proxyUrl('stable')}   canary proxy  ${demo.proxyUrl('canary')}`,
      `  simulator     ${demo.sim.url}`,
      '  Traffic is synthetic; storms, bursts and quota pressure come and go. Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stdout.write('\nstopping the demo…\n');
  await demo.close();
}
