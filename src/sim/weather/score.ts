import type { WeatherResult, WeatherScenario, WindowStat } from './run.js';

/**
 * What a weather run is judged on, in the terms an operator cares about: of what the upstream
 * would have served (min of demand and the true ceiling), how much got through once settled;
 * how long after each transient the proxy took to deliver 90 % again; whether it ever sat under
 * half of what was possible for long; how many clients the proxy itself turned away.
 */
export interface WeatherScore {
  name: string;
  /** Delivered ÷ achievable over the settled windows (outside transients and their recovery). */
  goodput: number;
  /** Windows, after each transient's end, until a window delivered ≥ 90 % of achievable; the worst. */
  recoveryWindows: number;
  /** Longest run of windows under 50 % of achievable, outside transients. */
  collapseWindows: number;
  /** Client requests the proxy refused (429 from admission) outside transients ÷ client requests. */
  proxyRefusedShare: number;
  /** Client requests that failed after the proxy's retries ÷ client requests. */
  upstreamFailedShare: number;
  waitP50Ms: number;
  waitP95Ms: number;
  windows: number;
  requests: number;
}

export const TARGETS = { goodput: 0.9, recoveryWindows: 3, collapseWindows: 3, proxyRefusedShare: 0.01 } as const;

/** Windows a scenario gets to settle from its start before it is judged. */
const DEFAULT_SETTLE = 5;
/** A window judged good: it delivered at least this share of what was achievable. */
const RECOVERED = 0.9;
const COLLAPSED = 0.5;

export function score(s: WeatherScenario, r: WeatherResult): WeatherScore {
  const windowMs = r.windows.length > 1 ? r.windows[1]!.t - r.windows[0]!.t : (r.windows[0]?.t ?? 1);
  const settle = s.settleWindows ?? DEFAULT_SETTLE;
  const transients = s.transients ?? [];
  const inTransient = (w: WindowStat) => transients.some(([from, to]) => w.t > from && w.t - windowMs < to);
  const afterTransient = (w: WindowStat) => transients.some(([, to]) => w.t > to && w.t <= to + (TARGETS.recoveryWindows + 1) * windowMs);

  let delivered = 0;
  let achievable = 0;
  let collapse = 0;
  let longestCollapse = 0;
  r.windows.forEach((w, i) => {
    const judged = i >= settle && !inTransient(w) && !afterTransient(w);
    if (judged) {
      delivered += w.delivered;
      achievable += w.achievable;
    }
    const low = i >= settle && !inTransient(w) && w.achievable > 0 && w.delivered < COLLAPSED * w.achievable;
    collapse = low ? collapse + 1 : 0;
    longestCollapse = Math.max(longestCollapse, collapse);
  });

  let recoveryWindows = 0;
  for (const [, to] of transients) {
    const after = r.windows.filter((w) => w.t - windowMs >= to);
    const back = after.findIndex((w) => w.delivered >= RECOVERED * w.achievable);
    recoveryWindows = Math.max(recoveryWindows, back < 0 ? after.length : back + 1);
  }

  const sorted = [...r.waitsMs].sort((a, b) => a - b);
  const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0);
  // Refusals during a transient and its recovery are the upstream's doing (retries of its
  // refusals fill the queue); the rest are the proxy's own.
  const refused = r.windows.reduce((a, w) => a + (inTransient(w) || afterTransient(w) ? 0 : w.proxyRefused), 0);
  const failed = r.windows.reduce((a, w) => a + w.upstreamFailed, 0);
  return {
    name: s.name,
    goodput: achievable > 0 ? Math.min(1, delivered / achievable) : 1,
    recoveryWindows,
    collapseWindows: longestCollapse,
    proxyRefusedShare: r.requests ? refused / r.requests : 0,
    upstreamFailedShare: r.requests ? failed / r.requests : 0,
    waitP50Ms: pct(0.5),
    waitP95Ms: pct(0.95),
    windows: r.windows.length,
    requests: r.requests,
  };
}

/** The targets a score misses, as readable lines; empty when it meets them all. */
export function misses(sc: WeatherScore): string[] {
  const out: string[] = [];
  if (sc.goodput < TARGETS.goodput) out.push(`${sc.name}: settled goodput ${sc.goodput.toFixed(3)} < ${TARGETS.goodput}`);
  if (sc.recoveryWindows > TARGETS.recoveryWindows) out.push(`${sc.name}: recovery took ${sc.recoveryWindows} windows > ${TARGETS.recoveryWindows}`);
  if (sc.collapseWindows > TARGETS.collapseWindows) out.push(`${sc.name}: ${sc.collapseWindows} windows in a row under half of achievable`);
  return out;
}
