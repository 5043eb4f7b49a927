import type { AdmissionSnapshot } from '../limits/admission.js';

/** A client waiting longer than this for admission makes /health say `degraded`. */
export const DEGRADED_WAIT_MS = 5000;

export interface HealthStatus {
  status: 'ok' | 'degraded';
  /** Present when degraded: why, in words an operator can act on. */
  degraded?: { reason: string; binding: AdmissionSnapshot['binding']; oldestWaitSeconds: number };
}

/**
 * The proxy is degraded while it holds a client in its queue longer than DEGRADED_WAIT_MS:
 * then the proxy itself is the bottleneck, and the answer names the limit that binds. Liveness
 * is not in question: /health answers 200 either way.
 */
export function healthStatus(limiter: Pick<AdmissionSnapshot, 'oldestWaitMs' | 'binding' | 'queueDepth'>): HealthStatus {
  if (limiter.oldestWaitMs <= DEGRADED_WAIT_MS) return { status: 'ok' };
  const seconds = Math.round(limiter.oldestWaitMs / 100) / 10;
  return {
    status: 'degraded',
    degraded: {
      reason: `${limiter.queueDepth} client request(s) queued, the oldest for ${seconds} s; binding limit: ${limiter.binding.replace('_', ' ')}`,
      binding: limiter.binding,
      oldestWaitSeconds: seconds,
    },
  };
}
