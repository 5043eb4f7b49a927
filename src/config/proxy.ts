import { bool, ConfigError, duration, httpUrl, int, list, num, oneOf, optionalStr, readEnv, str } from './fields.js';

/** Every environment variable `zai-proxy serve` reads, with its default. */
export const proxyEnvShape = {
  PORT: int(8080, { min: 0, max: 65535 }),
  HOST: str('127.0.0.1'),
  DEPLOYMENT_VARIANT: str('production'),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),

  ZAI_OPENAI_BASE_URL: httpUrl('https://api.z.ai/api/paas/v4'),
  ZAI_ANTHROPIC_BASE_URL: optionalStr(),
  /** Older deployments name the Anthropic-compatible base this way. */
  ZAI_TARGET_URL: optionalStr(),
  ZAI_API_KEY: optionalStr(),
  PROXY_API_KEYS: list(),
  ADMIN_TOKEN: optionalStr(),

  MAX_BODY_BYTES: int(20 * 1024 * 1024, { min: 1 }),
  UPSTREAM_CONNECT_TIMEOUT: duration(10_000, { minMs: 1 }),
  /** Longest wait for the upstream's response headers (time to first byte). */
  UPSTREAM_HEADERS_TIMEOUT: duration(300_000, { minMs: 1 }),
  /** Longest silence between two body chunks of an upstream response. */
  UPSTREAM_BODY_TIMEOUT: duration(300_000, { minMs: 1 }),
  UPSTREAM_CONNECTIONS: int(128, { min: 1 }),
  SHUTDOWN_GRACE: duration(30_000),

  TOKEN_COUNTING_ENABLED: bool(true),
  PRICING_FILE: optionalStr(),
  PRICING_JSON: optionalStr(),

  MAX_RETRIES: int(3, { min: 0, max: 20 }),
  /**
   * First step of the retry backoff (doubled per retry, equal jitter; 1302 uses a quarter).
   * Tests and simulators shorten it; production keeps the default.
   */
  RETRY_BASE_DELAY: duration(1_000, { minMs: 1 }),
  MAX_WORKERS: int(10, { min: 1 }),
  QUEUE_TIMEOUT: duration(30_000),
  QUEUE_MAX: int(1000, { min: 0 }),
  RATE_LIMIT_ENABLED: bool(true),
  RATE_LIMIT_WINDOW: duration(30_000, { minMs: 1 }),
  RATE_LIMIT_CEILING_ALPHA: num(0.3, { min: 0, max: 1, minExclusive: true }),
  RATE_LIMIT_HOLD_MARGIN: num(0.02, { min: 0, max: 1, minExclusive: true, maxExclusive: true }),
  RATE_LIMIT_PROBE_INTERVAL: int(10, { min: 1 }),
  RATE_LIMIT_MIN: num(1, { min: 0, minExclusive: true }),
  RATE_LIMIT_MAX: num(50, { min: 0, minExclusive: true }),
  RATE_LIMIT_INITIAL: num(10, { min: 0, minExclusive: true }),
  /** `none` keeps limiter state in memory only. */
  RATE_LIMIT_STATE_FILE: str('./data/limiter-state.json'),
  RATE_LIMIT_STATE_MAX_AGE: duration(6 * 3_600_000),
  REDIS_URL: optionalStr(),

  QUOTA_POLL_ENABLED: bool(false),
  QUOTA_POLL_INTERVAL: duration(60_000, { minMs: 1 }),
  QUOTA_POLL_TIMEOUT: duration(5_000, { minMs: 1 }),
  QUOTA_STALE_AFTER: duration(15 * 60_000, { minMs: 1 }),
  ZAI_QUOTA_BASE_URL: httpUrl('https://api.z.ai'),
  QUOTA_PACING: bool(false),

  ZAI_PROXY_VERSION: optionalStr(),
  ZAI_PROXY_COMMIT: optionalStr(),
  ZAI_PROXY_BUILD_TIME: optionalStr(),
};

export type ProxyEnv = ReturnType<typeof readProxyEnv>;

export function readProxyEnv(env: NodeJS.ProcessEnv = process.env) {
  const raw = readEnv(proxyEnvShape, env);
  const anthropicBase = httpUrl('https://api.z.ai/api/anthropic');
  const anthropicRaw = raw.ZAI_ANTHROPIC_BASE_URL ?? raw.ZAI_TARGET_URL;
  const name = raw.ZAI_ANTHROPIC_BASE_URL !== undefined ? 'ZAI_ANTHROPIC_BASE_URL' : 'ZAI_TARGET_URL';
  const anthropic = readEnv({ [name]: anthropicBase }, { [name]: anthropicRaw });
  if (raw.RATE_LIMIT_MIN > raw.RATE_LIMIT_MAX) {
    throw new ConfigError('invalid configuration: RATE_LIMIT_MIN must not exceed RATE_LIMIT_MAX');
  }
  if (raw.PROXY_API_KEYS.length > 0 && raw.ZAI_API_KEY === undefined) {
    throw new ConfigError(
      'invalid configuration: PROXY_API_KEYS requires ZAI_API_KEY (client keys are the proxy\'s own; the operator key is what goes upstream)',
    );
  }
  if (raw.QUOTA_PACING && !raw.RATE_LIMIT_ENABLED) {
    throw new ConfigError('invalid configuration: QUOTA_PACING paces through the rate limiter and needs RATE_LIMIT_ENABLED=true');
  }
  if (raw.QUOTA_POLL_ENABLED && raw.ZAI_API_KEY === undefined) {
    throw new ConfigError('invalid configuration: QUOTA_POLL_ENABLED requires ZAI_API_KEY (the quota of a forwarded client key is not ours to watch)');
  }
  return { ...raw, ZAI_ANTHROPIC_BASE_URL: anthropic[name] as string };
}
