import { logLevel, bool, ConfigError, duration, httpUrl, int, list, num, optionalStr, readEnv, str } from './fields.js';
import { DEFAULT_RETRY_BASE_MS } from '../zai/retry.js';

/** Every environment variable `zai-proxy serve` reads, with its default. */
export const proxyEnvShape = {
  PORT: int(8080, { min: 0, max: 65535 }),
  HOST: str('127.0.0.1'),
  DEPLOYMENT_VARIANT: str('production'),
  LOG_LEVEL: logLevel(),
  /** Processes serving PORT together (node:cluster); 1 is one process, no cluster. */
  PROXY_WORKERS: int(1, { min: 1, max: 64 }),

  ZAI_OPENAI_BASE_URL: httpUrl('https://api.z.ai/api/paas/v4'),
  ZAI_ANTHROPIC_BASE_URL: optionalStr(),
  /** Older deployments name the Anthropic-compatible base this way. */
  ZAI_TARGET_URL: optionalStr(),
  ZAI_API_KEY: optionalStr(),
  PROXY_API_KEYS: list(),
  ADMIN_TOKEN: optionalStr(),

  MAX_BODY_BYTES: int(20 * 1024 * 1024, { min: 1 }),
  /** Request bodies held in memory at once, across all requests in flight or queued. */
  MAX_HELD_BODY_BYTES: int(256 * 1024 * 1024, { min: 1 }),
  UPSTREAM_CONNECT_TIMEOUT: duration(10_000, { minMs: 1 }),
  /** Longest wait for the upstream's response headers (time to first byte). */
  UPSTREAM_HEADERS_TIMEOUT: duration(300_000, { minMs: 1 }),
  /**
   * Longest silence between two body chunks of an upstream response (a stream's idle
   * timeout, first chunk included). GLM goes quiet for tens of seconds while it prefills a long
   * context or thinks before its first visible token; two minutes clears that with room to
   * spare and still notices a dead stream.
   */
  UPSTREAM_BODY_TIMEOUT: duration(120_000, { minMs: 1 }),
  /**
   * Total deadline of one request until its answer is committed to the client (a whole
   * non-streaming answer, or a stream's first chunk), every retry and backoff included.
   */
  REQUEST_TIMEOUT: duration(300_000, { minMs: 1 }),
  UPSTREAM_CONNECTIONS: int(128, { min: 1 }),
  SHUTDOWN_GRACE: duration(30_000),
  /** A client must finish sending its request headers this soon after connecting or reusing a connection. */
  CLIENT_HEADERS_TIMEOUT: duration(20_000, { minMs: 1 }),
  /** A client must finish sending its whole request (body included) this soon; the answer is not bounded by it. */
  CLIENT_BODY_TIMEOUT: duration(120_000, { minMs: 1 }),

  TOKEN_COUNTING_ENABLED: bool(true),
  PRICING_FILE: optionalStr(),
  PRICING_JSON: optionalStr(),

  MAX_RETRIES: int(3, { min: 0, max: 20 }),
  /**
   * First step of the retry backoff (doubled per retry, equal jitter; 1302 uses a quarter).
   * Tests and simulators shorten it; production keeps the default.
   */
  RETRY_BASE_DELAY: duration(DEFAULT_RETRY_BASE_MS, { minMs: 1 }),
  /** After the proxy's own retries, the final answer carries `x-should-retry: false` so SDKs do not multiply them. */
  SHOULD_RETRY_FALSE_AFTER_RETRIES: bool(true),
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

  /** The canary arm of the traffic split (a canary proxy's URL); unset: no split. */
  CANARY_UPSTREAM: optionalStr(),
  /** Percent of clients sent to CANARY_UPSTREAM. */
  CANARY_WEIGHT: int(0, { min: 0, max: 100 }),
  /** Header whose value picks the arm (default: the client key, else the client address). */
  CANARY_STICKY_HEADER: optionalStr(),

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
  if (raw.REDIS_URL !== undefined && !/^rediss?:\/\/[^/\s]/.test(raw.REDIS_URL)) {
    const shown = JSON.stringify(raw.REDIS_URL.replace(/\/\/[^@/]*@/, '//***@').slice(0, 64));
    throw new ConfigError(`invalid configuration: REDIS_URL must be a redis:// or rediss:// URL like redis://redis:6379 (got ${shown})`);
  }
  if (raw.RATE_LIMIT_MIN > raw.RATE_LIMIT_MAX) {
    throw new ConfigError('invalid configuration: RATE_LIMIT_MIN must not exceed RATE_LIMIT_MAX');
  }
  if (raw.PROXY_API_KEYS.length > 0 && raw.ZAI_API_KEY === undefined) {
    throw new ConfigError(
      "invalid configuration: PROXY_API_KEYS requires ZAI_API_KEY (client keys are the proxy's own; the operator key is what goes upstream)",
    );
  }
  if (raw.MAX_HELD_BODY_BYTES < raw.MAX_BODY_BYTES) {
    throw new ConfigError('invalid configuration: MAX_HELD_BODY_BYTES must be at least MAX_BODY_BYTES (or no largest body could ever be held)');
  }
  if (raw.CLIENT_HEADERS_TIMEOUT > raw.CLIENT_BODY_TIMEOUT) {
    throw new ConfigError('invalid configuration: CLIENT_HEADERS_TIMEOUT must not exceed CLIENT_BODY_TIMEOUT (the headers are part of the request)');
  }
  if (raw.QUOTA_PACING && !raw.RATE_LIMIT_ENABLED) {
    throw new ConfigError('invalid configuration: QUOTA_PACING paces through the rate limiter and needs RATE_LIMIT_ENABLED=true');
  }
  if (raw.QUOTA_POLL_ENABLED && raw.ZAI_API_KEY === undefined) {
    throw new ConfigError('invalid configuration: QUOTA_POLL_ENABLED requires ZAI_API_KEY (the quota of a forwarded client key is not ours to watch)');
  }
  if (raw.CANARY_UPSTREAM !== undefined) readEnv({ CANARY_UPSTREAM: httpUrl('') }, { CANARY_UPSTREAM: raw.CANARY_UPSTREAM });
  else if (raw.CANARY_WEIGHT > 0) throw new ConfigError('invalid configuration: CANARY_WEIGHT needs CANARY_UPSTREAM (where the canary arm goes)');
  if (raw.CANARY_STICKY_HEADER !== undefined && !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(raw.CANARY_STICKY_HEADER)) {
    throw new ConfigError('invalid configuration: CANARY_STICKY_HEADER must be a header name');
  }
  return { ...raw, ZAI_ANTHROPIC_BASE_URL: anthropic[name] as string };
}
