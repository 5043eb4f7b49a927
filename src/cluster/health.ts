/** What one worker's /health says (server.ts builds it), as far as the whole needs to read it. */
export interface WorkerHealth {
  status: 'ok' | 'degraded';
  degraded?: { reason: string; [k: string]: unknown };
  draining: boolean;
  inFlight: number;
  heldBodyBytes: number;
  uptimeSeconds: number;
  limiter: { inFlight: number; queueDepth: number; oldestWaitMs?: number; concurrencyLimit?: number; maxWorkers?: number; [k: string]: unknown };
  bookkeepingFailures: Record<string, number>;
  worker?: { slot: number; pid: number; requests: number };
  [k: string]: unknown;
}

/**
 * /health for the whole of PROXY_WORKERS: one answer whichever worker takes the request.
 * Loads add up (in flight, queued, held bytes, failures), the longest wait is the longest
 * anywhere, and the whole is degraded when any worker is or when one does not answer; each
 * worker's own line is under `workers`.
 */
export function combineHealth(
  configured: number,
  answers: Array<{ slot: number; health: WorkerHealth | undefined }>,
  uptimeSeconds: number,
): Record<string, unknown> {
  const up = answers.filter((a): a is { slot: number; health: WorkerHealth } => a.health !== undefined);
  const missing = answers.filter((a) => a.health === undefined).map((a) => a.slot);
  const first = up[0]?.health;
  const sum = (f: (h: WorkerHealth) => number | undefined) => up.reduce((t, a) => t + (f(a.health) ?? 0), 0);
  const failures: Record<string, number> = {};
  for (const { health } of up) for (const [k, v] of Object.entries(health.bookkeepingFailures ?? {})) failures[k] = (failures[k] ?? 0) + v;
  const degradedWorker = up.find((a) => a.health.status === 'degraded');
  const unanswered = configured - up.length;
  const degraded = degradedWorker
    ? degradedWorker.health.degraded
    : unanswered > 0
      ? { reason: `${unanswered} of ${configured} worker processes did not answer${missing.length ? ` (slot ${missing.join(', ')})` : ''}` }
      : undefined;
  const limiter = first
    ? {
        ...first.limiter,
        inFlight: sum((h) => h.limiter.inFlight),
        queueDepth: sum((h) => h.limiter.queueDepth),
        ...(first.limiter.maxWorkers !== undefined ? { maxWorkers: sum((h) => h.limiter.maxWorkers) } : {}),
        ...(first.limiter.concurrencyLimit !== undefined ? { concurrencyLimit: sum((h) => h.limiter.concurrencyLimit) } : {}),
        ...(first.limiter.oldestWaitMs !== undefined ? { oldestWaitMs: Math.max(...up.map((a) => a.health.limiter.oldestWaitMs ?? 0)) } : {}),
      }
    : undefined;
  const { worker: _own, ...base } = first ?? ({} as Partial<WorkerHealth>);
  return {
    ...base,
    status: degraded ? 'degraded' : 'ok',
    ...(degraded ? { degraded } : { degraded: undefined }),
    uptimeSeconds,
    draining: up.some((a) => a.health.draining),
    inFlight: sum((h) => h.inFlight),
    heldBodyBytes: sum((h) => h.heldBodyBytes),
    limiter,
    bookkeepingFailures: failures,
    workers: {
      configured,
      answering: up.length,
      list: answers.map(({ slot, health }) =>
        health
          ? {
              slot,
              pid: health.worker?.pid,
              status: health.status,
              draining: health.draining,
              inFlight: health.inFlight,
              requests: health.worker?.requests,
              uptimeSeconds: health.uptimeSeconds,
            }
          : { slot, status: 'unanswered' },
      ),
    },
  };
}
