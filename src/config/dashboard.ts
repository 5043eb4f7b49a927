import { parseTargets, TargetError } from '../dashboard/sources/targets.js';
import { logLevel, duration, httpUrl, int, list, optionalStr, readEnv, str, ConfigError } from './fields.js';

const DEFAULT_SCRAPE_TIMEOUT_MS = 3_000;

/** Every environment variable `zai-proxy dashboard` reads, with its default. */
export const dashboardEnvShape = {
  DASHBOARD_PORT: int(3000, { min: 0, max: 65535 }),
  DASHBOARD_HOST: str('127.0.0.1'),
  SCRAPE_TARGETS: list(),
  SCRAPE_INTERVAL: duration(5_000, { minMs: 100 }),
  /** Unset: 3s, or the interval when that is shorter (as Prometheus does). */
  SCRAPE_TIMEOUT: duration(DEFAULT_SCRAPE_TIMEOUT_MS, { minMs: 1 }),
  DB_PATH: str('./data/dashboard.sqlite'),
  RETENTION_5S: duration(24 * 3_600_000, { minMs: 60_000 }),
  RETENTION_1M: duration(7 * 86_400_000, { minMs: 3_600_000 }),
  RETENTION_1H: duration(90 * 86_400_000, { minMs: 86_400_000 }),
  PROMETHEUS_URL: optionalStr(),
  DASHBOARD_TOKEN: optionalStr(),
  LOG_LEVEL: logLevel(),
};

export const DEFAULT_SCRAPE_TARGET = 'http://127.0.0.1:8080/metrics';

export interface DashboardConfig {
  port: number;
  host: string;
  /** `url` or `name=url` items, as in SCRAPE_TARGETS. */
  targets: string[];
  scrapeIntervalMs: number;
  scrapeTimeoutMs: number;
  dbPath: string;
  retentionMs: { '5s': number; '1m': number; '1h': number };
  prometheusUrl: string | undefined;
  token: string | undefined;
  logLevel: string;
}

export function readDashboardConfig(env: NodeJS.ProcessEnv = process.env): DashboardConfig {
  const raw = readEnv(dashboardEnvShape, env);
  let prometheusUrl: string | undefined;
  if (raw.PROMETHEUS_URL !== undefined) {
    prometheusUrl = readEnv({ PROMETHEUS_URL: httpUrl('') }, { PROMETHEUS_URL: raw.PROMETHEUS_URL }).PROMETHEUS_URL;
  }
  const timeoutSet = String(env.SCRAPE_TIMEOUT ?? '').trim() !== '';
  const scrapeTimeoutMs = timeoutSet ? raw.SCRAPE_TIMEOUT : Math.min(DEFAULT_SCRAPE_TIMEOUT_MS, raw.SCRAPE_INTERVAL);
  if (scrapeTimeoutMs > raw.SCRAPE_INTERVAL) {
    throw new ConfigError('invalid configuration: SCRAPE_TIMEOUT must not exceed SCRAPE_INTERVAL');
  }
  try {
    parseTargets(raw.SCRAPE_TARGETS);
  } catch (err) {
    if (err instanceof TargetError)
      throw new ConfigError(`invalid configuration: SCRAPE_TARGETS ${err.message} (a comma list of http(s) /metrics URLs, each optionally name=url)`);
    throw err;
  }
  return {
    port: raw.DASHBOARD_PORT,
    host: raw.DASHBOARD_HOST,
    targets: raw.SCRAPE_TARGETS.length > 0 ? raw.SCRAPE_TARGETS : [DEFAULT_SCRAPE_TARGET],
    scrapeIntervalMs: raw.SCRAPE_INTERVAL,
    scrapeTimeoutMs,
    dbPath: raw.DB_PATH,
    retentionMs: { '5s': raw.RETENTION_5S, '1m': raw.RETENTION_1M, '1h': raw.RETENTION_1H },
    prometheusUrl,
    token: raw.DASHBOARD_TOKEN,
    logLevel: raw.LOG_LEVEL,
  };
}
