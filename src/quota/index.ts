/**
 * Coding Plan quota: an observe-only poller (QUOTA_POLL_ENABLED) and opt-in pacing
 * (QUOTA_PACING=on). This is the module's front door for the proxy's wiring.
 */
import type { ProxyEnv } from '../config/proxy.js';
import type { QuotaPacer } from './pacing.js';
import type { QuotaPoller, QuotaPollerOptions } from './poller.js';

export { parseQuotaResponse, isQuotaSample, type QuotaLimit, type QuotaSample, type QuotaWindow, type QuotaParseError } from './parse.js';
export { QuotaPoller, QuotaConfigError, clearQuotaSampleAge, QUOTA_PATH, type QuotaPollerOptions, type QuotaView, type PollResult } from './poller.js';
export { QuotaPacer, type RateGate, type QuotaPacerOptions, type PacerSnapshot } from './pacing.js';

/** Below this an interactive user waits more than five seconds between requests. */
export const DEFAULT_PACING_FLOOR_RPS = 0.2;

type QuotaEnv = Pick<
  ProxyEnv,
  'QUOTA_POLL_ENABLED' | 'QUOTA_POLL_INTERVAL' | 'QUOTA_POLL_TIMEOUT' | 'QUOTA_STALE_AFTER' | 'ZAI_QUOTA_BASE_URL' | 'ZAI_API_KEY'
>;

/**
 * Poller options from the proxy's environment; undefined when polling is off. The rule that
 * polling needs the operator key is the configuration's (readProxyEnv refuses to start without
 * it); the poller's constructor still refuses an empty key when used on its own.
 */
export function quotaPollerOptionsFrom(env: QuotaEnv): QuotaPollerOptions | undefined {
  if (!env.QUOTA_POLL_ENABLED) return undefined;
  return {
    baseUrl: env.ZAI_QUOTA_BASE_URL,
    apiKey: env.ZAI_API_KEY ?? '',
    intervalMs: env.QUOTA_POLL_INTERVAL,
    timeoutMs: env.QUOTA_POLL_TIMEOUT,
    staleAfterMs: env.QUOTA_STALE_AFTER,
  };
}

/** Pacing follows the poller: every good sample, and a fall-back to no cap when samples go stale. */
export function connectPacing(poller: QuotaPoller, pacer: QuotaPacer): void {
  poller.onSample((s) => pacer.onSample(s));
  poller.onStale(() => pacer.onStale());
}
