import type { Demo, WeatherRecord } from './main.js';
import { VARIANTS } from './main.js';

/**
 * How the demo's proxies come back after each scripted event, measured the way an operator
 * reads it: per limiter window, what clients of each proxy got served (2xx answers) and what
 * the simulator accepted, next to each limiter's rate and ceiling from /health. Recovery of an
 * event is counted in whole windows after its end (the last fault spent, the ceiling restored),
 * as `bench:limits` counts it: 1 means the first full window after the end was already good.
 */

export interface WindowSample {
  /** End of the window (epoch ms, a multiple of the window length, as the limiter closes them). */
  readonly t: number;
  /** Requests per second the simulator answered 2xx over the window. */
  readonly simOk: number;
  /** Per variant, in VARIANTS order: what its clients got served per second, and its limiter. */
  readonly variants: readonly { ok: number; rate: number; ceiling: number; queue: number }[];
}

export interface EventRecovery {
  readonly name: string;
  readonly startedAt: number;
  readonly endedAt: number | undefined;
  /** Full windows after the end until the simulator's 2xx rate was ≥ `bar.together` of its ceiling; undefined if never. */
  readonly combined: number | undefined;
  /** Per variant: full windows after the end until its clients got ≥ `bar.each` of their pre-event rate. */
  readonly variants: readonly (number | undefined)[];
  /** Per variant: the pre-event rate (median of the windows before the event) it had to regain. */
  readonly baselines: readonly number[];
}

export interface Recorder {
  readonly windows: readonly WindowSample[];
  stop(): void;
}

/** Samples every limiter window just after it closes. */
export function recordWindows(demo: Demo, windowMs: number): Recorder {
  const windows: WindowSample[] = [];
  let last: { t: number; simOk: number; ok: number[] } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const okNow = () => ({ simOk: demo.sim.stats().byOutcome.ok ?? 0, ok: demo.traffic.stats().byTarget.map((t) => t.ok) });

  const sample = async (t: number) => {
    const now = okNow();
    const limiters = await Promise.all(
      VARIANTS.map(async (v) => {
        try {
          const h = (await (await fetch(`${demo.proxyUrl(v)}/health`)).json()) as { limiter: { rate: number; ceiling: number; queueDepth: number } };
          return h.limiter;
        } catch {
          return { rate: NaN, ceiling: NaN, queueDepth: NaN };
        }
      }),
    );
    if (last) {
      // Timers run late on a loaded machine: divide by the time that really passed.
      const seconds = (t - last.t) / 1000;
      windows.push({
        t,
        simOk: (now.simOk - last.simOk) / seconds,
        variants: VARIANTS.map((_, i) => ({
          ok: (now.ok[i]! - last!.ok[i]!) / seconds,
          rate: limiters[i]!.rate,
          ceiling: limiters[i]!.ceiling,
          queue: limiters[i]!.queueDepth,
        })),
      });
    }
    last = { t, ...now };
  };

  const arm = () => {
    if (stopped) return;
    const next = (Math.floor(Date.now() / windowMs) + 1) * windowMs;
    timer = setTimeout(() => {
      // Counts are read at once; the window is labelled by the boundary it closed on.
      void sample(Math.max(next, Date.now() - 1)).finally(arm);
    }, next - Date.now());
  };
  arm();
  return {
    windows,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** What counts as recovered: shares of the simulator's ceiling (both proxies together) and of each proxy's pre-event rate. */
export interface RecoveryBar {
  readonly together: number;
  readonly each: number;
}

/** Per event, the windows each proxy (and both together) took to be back above its bar. */
export function recoveries(
  windows: readonly WindowSample[],
  events: readonly WeatherRecord[],
  windowMs: number,
  ceilingRps: number,
  bar: RecoveryBar,
): EventRecovery[] {
  return events.map((e) => {
    const end = e.endedAt;
    const before = windows.filter((w) => w.t <= e.startedAt).slice(-4);
    const baselines = VARIANTS.map((_, i) => median(before.map((w) => w.variants[i]!.ok)));
    // A full window after the end: it began at or after the end.
    const after = end === undefined ? [] : windows.filter((w) => w.t - windowMs >= end - 1);
    const first = (good: (w: WindowSample) => boolean) => {
      const k = after.findIndex(good);
      return k < 0 ? undefined : k + 1;
    };
    return {
      name: e.name,
      startedAt: e.startedAt,
      endedAt: end,
      combined: first((w) => w.simOk >= bar.together * ceilingRps),
      variants: VARIANTS.map((_, i) => first((w) => w.variants[i]!.ok >= bar.each * baselines[i]!)),
      baselines,
    };
  });
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One line per window, for a diagnostic trace. */
export function formatWindow(w: WindowSample): string {
  const v = w.variants.map((x, i) => `${VARIANTS[i]} ok ${x.ok.toFixed(1)}/s rate ${x.rate.toFixed(2)} ceiling ${x.ceiling.toFixed(2)} queue ${x.queue}`);
  return `${new Date(w.t).toISOString().slice(11, 19)} sim ok ${w.simOk.toFixed(1)}/s | ${v.join(' | ')}`;
}
