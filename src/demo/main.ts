import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDashboardConfig } from '../config/dashboard.js';
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

export interface DemoOptions {
  /** Dashboard port; 0 picks a free one (default 3000, like `zai-proxy dashboard`). */
  port?: number;
  host?: string;
  scrapeIntervalMs?: number;
  /** Requests per second across both proxies. */
  ratePerSecond?: number;
  /** Seconds between the scripted events (storms, bursts); shorter in tests. */
  weatherEverySec?: number;
  quotaPollMs?: number;
  logLevel?: string;
  /** Where the dashboard keeps its SQLite file; a temporary directory by default, removed on close. */
  dataDir?: string;
}

export interface Demo {
  readonly dashboardUrl: string;
  readonly sim: Simulator;
  readonly traffic: Traffic;
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
    const sim = await startSimulator({
      host: '127.0.0.1',
      port: 0,
      scenario: {
        outputTokens: 180,
        cachedTokens: 40,
        cacheCreationTokens: 12,
        streamChunks: 8,
        chunkIntervalMs: 25,
        rateLimit: { rps: 14 },
        concurrencyLimit: 12,
        quotaWindow: { budgetTokens: quotaBudget, usedTokens: Math.round(quotaBudget * 0.62), resetAt: Date.now() + 5 * 3_600_000 },
      },
    });
    cleanups.push(() => sim.close());

    const proxies = new Map<string, ProxyServer>();
    for (const variant of VARIANTS) {
      const env = readProxyEnv({
        PORT: '0',
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
        MAX_WORKERS: variant === 'stable' ? '16' : '12',
        ZAI_PROXY_VERSION: variant === 'stable' ? '0.1.0' : '0.2.0-rc.1',
        ZAI_PROXY_COMMIT: variant === 'stable' ? '3f2c1a9e0b7d' : '9b41e7c2d8aa',
        ZAI_PROXY_BUILD_TIME: new Date().toISOString(),
      });
      const proxy = await startProxy(env, { log: log.child({ variant }) });
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
    let dashboard: RunningDashboard | null = await startDashboard(dashboardConfig, { logger: log.child({ component: 'dashboard' }) });
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
      ratePerSecond: o.ratePerSecond ?? 9,
      maxInFlight: 48,
    });
    cleanups.push(() => traffic.stop());

    const weather = startWeather(sim, traffic, quotaBudget, (o.weatherEverySec ?? 20) * 1000);
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

/**
 * The scripted events, one per period in turn: a burst past the upstream's request ceiling
 * (1303s, the limiter learns the ceiling), a 429 storm of concurrency errors (1302), an overload
 * spell (1305, retried), a change of workload (longer answers, more cache reads); and the quota
 * window, which fills with the traffic and, once exhausted for a while, resets as Z.AI's would.
 */
function startWeather(sim: Simulator, traffic: Traffic, quotaBudget: number, periodMs: number): { stop(): void } {
  let step = 0;
  let exhaustedSince: number | null = null;
  const events: (() => void)[] = [
    () => traffic.burst(30),
    () => sim.setScenario({ faults: [{ kind: 'zaiError', code: 1302, status: 429, times: 25 }] }),
    () => sim.setScenario({ outputTokens: 120 + Math.round(Math.random() * 700), cachedTokens: Math.round(Math.random() * 400) }),
    () => sim.setScenario({ faults: [{ kind: 'zaiError', code: 1305, status: 503, times: 12 }] }),
    () => sim.setScenario({ faults: [{ kind: 'slowFirstByte', delayMs: 1500, times: 20 }] }),
  ];
  const period = setInterval(() => {
    events[step % events.length]!();
    step += 1;
  }, periodMs);
  const quota = setInterval(() => {
    const w = sim.scenario().quotaWindow;
    if (!w) return;
    if ((w.usedTokens ?? 0) < w.budgetTokens) {
      exhaustedSince = null;
      return;
    }
    exhaustedSince ??= Date.now();
    if (Date.now() - exhaustedSince > 60_000) {
      sim.setScenario({ quotaWindow: { budgetTokens: quotaBudget, usedTokens: 0, resetAt: Date.now() + 5 * 3_600_000 } });
      exhaustedSince = null;
    }
  }, 1_000);
  return {
    stop() {
      clearInterval(period);
      clearInterval(quota);
    },
  };
}

export async function main(args: string[]): Promise<void> {
  const portArg = args.find((a) => a.startsWith('--port='));
  const demo = await startDemo({ port: portArg ? Number(portArg.slice(7)) : undefined, logLevel: process.env.LOG_LEVEL ?? 'warn' });
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
