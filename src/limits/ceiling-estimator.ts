/**
 * The request-rate control law: infers the upstream's invisible request-rate ceiling from the
 * answers it gives, one window at a time. Pure: no clock, no I/O; the caller closes a window
 * by handing over its counts. Z.AI's weather is the design input: refusals come in three kinds
 * that mean different things, and most windows hold few of them.
 *
 * Evidence. A window is judged on its rate-relevant outcomes n = ok + refusals. A window with
 * refusals but fewer than MIN_EVIDENCE outcomes is not judged: its counts join the next window's
 * until there are enough, or MAX_GATHER windows have passed. A handful of refusals proves little
 * (one retried 1305 is three answers), and one such window used to set the ceiling to what it
 * happened to get through — 1 req/s.
 *
 * Cause. 1303 (and an uncoded 429) says "too frequent": it is rate evidence. 1305 and 5xx say
 * the platform is busy: they are retried with backoff, and count as rate evidence only when
 * their share rises with what we send — in a window sent above the proven ceiling (a probe or a
 * slow-start step), and only for the part above their background share, which is measured in
 * windows sent at or under the proven ceiling (and never taken as under 2 %). "Above" is judged
 * by the rate we set, not by what a window happened to send. At or under the proven ceiling
 * sending less would not change them, so a few random percent of 1305 never lower the ceiling.
 * 1302 (concurrency) belongs to the in-flight limit; a window where more than 5 % of attempts
 * met it spent rate tokens without testing the rate, and neither climbs, probes nor proves.
 *
 * Per judged window, with e = refusals / n, a = ok / seconds (what the upstream accepted) and
 * s = n / seconds (what we sent):
 *
 * - DIRTY (e > 5 %, or the third middle window in a row: a steady leak). The ceiling is near
 *   a: ceiling ← α'·a + (1 − α')·ceiling with α' = max(α, min(1, 2e)), then at most a (a window
 *   that lost more than 5 % proves nothing above what it accepted). One decrease is bounded:
 *   never below half the current ceiling, unless the window is a large sample (LARGE_SAMPLE
 *   outcomes), which proves what it accepted. From 5× above the ceiling the window is large,
 *   so one or two windows bring the rate down. Refusals while sending under half the ceiling
 *   are not evidence of a lower ceiling (bursts against a sliding window), unless large.
 *   A window that demand filled only in part (s < 90 % of the rate: clients arriving late in it)
 *   averages a over time it did not send in; it cuts the ceiling by e at most, and never counts
 *   as a large sample. rate ← ceiling·(1 − margin). A dirty probe that accepted more than the
 *   ceiling is believed outright: it measured the raised ceiling. A dirty probe that accepted
 *   less, unless a large filled sample, or whose refusals were overload rather than 1303, holds
 *   under the ceiling it probed from: it found "no higher", not "lower".
 * - MIDDLE (1 % ≤ e ≤ 5 %). Noise: nothing moves, except that a probe landing here has failed;
 *   it holds under what it accepted, at least the ceiling it probed from.
 * - CLEAN (e < 1 %). Below the hold point ceiling·(1 − margin) the rate climbs at least a third
 *   of the way per window, so it is back within three windows.
 *
 * Memory. `proven` is the highest rate the upstream accepted cleanly. A decrease keeps it
 * (unless the window refused at or below it on a large sample, or during a recovery: then the
 * ceiling really fell and proven follows); while windows are clean and exercised (demand at
 * least 90 % of the rate, or clients waited for a rate token) the ceiling returns to proven in at most three
 * windows, then probing starts at once. The state file holds proven, never a transient dip.
 *
 * Probing (geometric). At the hold point after RATE_LIMIT_PROBE_INTERVAL clean exercised
 * windows the rate goes to ceiling·(1 + margin); each clean probe window proves its rate and
 * doubles the step (margin, 2·margin … at most 50 %); the first window that is not clean ends
 * probing. Slow start: until the first refusal ever seen, every clean exercised window is a probe
 * at the largest step (×1.5), so a cold start under demand climbs at once. Steady-state cost:
 * one probe at +margin per probeInterval + 1 windows (≈ 0.2 % of requests at the defaults).
 */

export interface CeilingOptions {
  alpha: number;
  holdMargin: number;
  probeInterval: number;
  minRate: number;
  maxRate: number;
  initialRate: number;
}

export interface WindowCounts {
  /** Attempts the upstream accepted (2xx). */
  ok: number;
  /** Attempts refused as too frequent (1303, or 429 without a code). */
  limited: number;
  /** Attempts refused as overloaded (1305, 5xx): rate evidence only where they follow the rate. */
  overloaded?: number;
  /** Attempts refused for concurrency (1302): not rate evidence, but a window full of them proves nothing clean. */
  busy?: number;
  /** Length of the window in seconds. */
  seconds: number;
  /** Clients waited for a rate token during the window: demand was above the rate. */
  queued?: boolean;
}

export type Adjustment = 'increase' | 'decrease' | 'probe' | 'none';

export interface CeilingState {
  rate: number;
  ceiling: number;
  cleanWindows: number;
  /** Current probe step as a fraction above the ceiling; 0 when not probing. */
  probeStep: number;
  /** Highest rate the upstream accepted cleanly; 0 before anything is proven. */
  proven?: number;
  /** No refusal seen yet: clean exercised windows probe at once. */
  slowStart?: boolean;
  /** Counts of sparse windows waiting for enough evidence to be judged. */
  gathered?: Gathered;
  /** Overload share in windows sent at or under the proven ceiling; -1 until measured. */
  background?: number;
}

export interface WindowResult {
  adjustment: Adjustment;
  /** The proven ceiling (or, before anything is proven, the estimate) moved: worth persisting. */
  ceilingChanged: boolean;
}

const DIRTY = 0.05;
const CLEAN = 0.01;
/** Consecutive middle windows that stop counting as noise. */
const LEAK_WINDOWS = 3;
/** Outcomes a window with refusals needs before it is judged. */
export const MIN_EVIDENCE = 20;
/** Windows gathered at most before a sparse window is judged anyway. */
export const MAX_GATHER = 4;
/** Outcomes that make a sample large enough to prove a ceiling far below the current one. */
export const LARGE_SAMPLE = 50;
/** One decrease keeps at least this share of the ceiling, unless the sample is large. */
const MAX_CUT = 0.5;
const MAX_PROBE_STEP = 0.5;
const EXERCISED = 0.9;
/** Overload share always taken as background, measured or not. */
const BACKGROUND_FLOOR = 0.02;
/** Weight of a new window in the background overload share. */
const BACKGROUND_ALPHA = 0.1;
/** Windows a recovery takes at most to climb back to the proven ceiling. */
const RECOVERY_WINDOWS = 3;

export interface Gathered {
  ok: number;
  limited: number;
  overloaded: number;
  busy: number;
  seconds: number;
  windows: number;
  queued: boolean;
}

const EMPTY: Gathered = { ok: 0, limited: 0, overloaded: 0, busy: 0, seconds: 0, windows: 0, queued: false };

export class CeilingEstimator {
  private s: Required<CeilingState>;
  /** Middle windows in a row; short-lived, so neither persisted nor shared. */
  private middleStreak = 0;
  /** Per-window ceiling step while climbing back to the proven ceiling; 0 when not recovering. */
  private recoveryStep = 0;

  constructor(private readonly opts: CeilingOptions) {
    this.s = CeilingEstimator.initialState(opts);
  }

  static initialState(opts: CeilingOptions): Required<CeilingState> {
    const rate = clamp(opts.initialRate, opts.minRate, opts.maxRate);
    return { rate, ceiling: rate, cleanWindows: 0, probeStep: 0, proven: 0, slowStart: true, gathered: EMPTY, background: -1 };
  }

  get rate(): number {
    return this.s.rate;
  }
  get ceiling(): number {
    return this.s.ceiling;
  }
  /** The last ceiling the upstream proved, which a transient dip does not forget (the estimate while nothing is proven). */
  get proven(): number {
    return this.s.proven > 0 ? this.s.proven : this.s.ceiling;
  }
  get cleanWindows(): number {
    return this.s.cleanWindows;
  }
  get probing(): boolean {
    return this.s.probeStep > 0;
  }

  state(): Required<CeilingState> {
    return { ...this.s };
  }

  /** Adopts a persisted or shared state, clamped to the configured bounds. */
  restore(state: CeilingState): void {
    const { minRate, maxRate } = this.opts;
    const ceiling = clamp(state.ceiling, minRate, maxRate);
    const rate = clamp(state.rate, minRate, maxRate);
    const probeStep = Number.isFinite(state.probeStep) ? clamp(state.probeStep, 0, MAX_PROBE_STEP) : 0;
    const proven = Number.isFinite(state.proven) && state.proven! > 0 ? clamp(state.proven!, minRate, maxRate) : ceiling;
    this.s = {
      rate: probeStep > 0 ? rate : Math.min(rate, ceiling),
      ceiling,
      cleanWindows: Math.max(0, Math.floor(state.cleanWindows) || 0),
      probeStep,
      proven,
      slowStart: state.slowStart === true,
      gathered: validGathered(state.gathered) ? state.gathered : EMPTY,
      background: Number.isFinite(state.background) && state.background! >= 0 && state.background! <= 1 ? state.background! : -1,
    };
    this.recoveryStep = proven > ceiling ? (proven - ceiling) / RECOVERY_WINDOWS : 0;
  }

  reset(): void {
    this.middleStreak = 0;
    this.recoveryStep = 0;
    this.s = CeilingEstimator.initialState(this.opts);
  }

  private holdRate(ceiling = this.s.ceiling): number {
    return clamp(ceiling * (1 - this.opts.holdMargin), this.opts.minRate, this.opts.maxRate);
  }

  /** Closes one window. Windows with no rate-relevant samples change nothing. */
  endWindow(w: WindowCounts): WindowResult {
    const before = this.proven;
    const adjustment = this.judgeWindow(w);
    return { adjustment, ceilingChanged: this.proven !== before };
  }

  private judgeWindow(w: WindowCounts): Adjustment {
    const g = this.s.gathered;
    const sum: Gathered = {
      ok: g.ok + w.ok,
      limited: g.limited + w.limited,
      overloaded: g.overloaded + (w.overloaded ?? 0),
      busy: g.busy + (w.busy ?? 0),
      seconds: g.seconds + w.seconds,
      windows: g.windows + 1,
      queued: g.queued || w.queued === true,
    };
    const n = sum.ok + sum.limited + sum.overloaded;
    if (!(n > 0) || !(sum.seconds > 0)) {
      this.s.gathered = EMPTY;
      return 'none';
    }
    const sent = n / sum.seconds;
    // Judged by the rate we set, not by what a window happened to send (a token burst can
    // carry a window past the ceiling for a moment without any probing).
    const above = this.s.proven > 0 ? this.s.rate > this.s.proven * (1 + this.opts.holdMargin / 2) : this.s.probeStep > 0;
    const refusals = sum.limited + (above ? this.excessOverload(sum.overloaded, n) : 0);
    if (refusals > 0 && n < MIN_EVIDENCE && sum.windows < MAX_GATHER) {
      this.s.gathered = sum;
      return 'none';
    }
    this.s.gathered = EMPTY;
    if (!above) {
      const share = sum.overloaded / n;
      this.s.background = this.s.background >= 0 ? this.s.background + BACKGROUND_ALPHA * (share - this.s.background) : share;
    }
    return this.judge(sum, n, refusals, sent);
  }

  /** The overload answers above their background share: the part that follows the rate (see "Cause"). */
  private excessOverload(overloaded: number, n: number): number {
    // Until windows at or under the proven ceiling have measured it (a cold start probes from
    // its first window), a few percent of overload is presumed background, as Z.AI's usually is.
    const bg = Math.max(BACKGROUND_FLOOR, this.s.background);
    // Two standard deviations of the background's binomial noise are still background.
    const noise = 2 * Math.sqrt(n * bg * (1 - bg));
    return Math.max(0, overloaded - n * bg - noise);
  }

  private judge(w: Gathered, n: number, refusals: number, sent: number): Adjustment {
    const e = refusals / n;
    const middle = e >= CLEAN && e <= DIRTY && this.s.probeStep === 0;
    this.middleStreak = middle ? this.middleStreak + 1 : 0;
    const leak = middle && this.middleStreak >= LEAK_WINDOWS;
    if (leak) this.middleStreak = 0;

    if (e > DIRTY || leak) return this.decrease(w, n, e, sent);
    // Attempts the upstream spent refusing concurrency used rate tokens without testing the
    // rate: such a window neither climbs, probes nor proves anything.
    if (w.busy > DIRTY * (n + w.busy)) return 'none';
    if (e >= CLEAN) {
      if (this.s.probeStep === 0) return 'none';
      // A probe that leaks has found the ceiling, at or above what it accepted: hold under that.
      const ceiling = clamp(Math.max(this.s.ceiling, Math.min(w.ok / w.seconds, this.s.rate)), this.opts.minRate, this.opts.maxRate);
      this.s = { ...this.s, ceiling, proven: Math.max(this.s.proven, ceiling), rate: this.holdRate(ceiling), cleanWindows: 0, probeStep: 0, slowStart: false };
      return 'decrease';
    }
    return this.clean(w, sent);
  }

  private decrease(w: Gathered, n: number, e: number, sent: number): Adjustment {
    const { alpha, minRate, maxRate } = this.opts;
    const s = this.s;
    const large = n >= LARGE_SAMPLE;
    if (!large && sent < MAX_CUT * s.ceiling) return 'none';
    const accepted = w.ok / w.seconds;
    // Only a window that sent at its rate throughout measures the ceiling by what it accepted.
    // One that demand filled in part (40 clients arriving in its last seconds) averages over
    // time it did not send in; what it shows is the share refused, and it cuts by that at most.
    const filled = sent >= EXERCISED * s.rate;
    const provenBefore = s.proven;
    const proves = large && filled;
    const overloadOnly = w.limited <= DIRTY * n;
    if (s.probeStep > 0 && ((accepted <= s.ceiling && !proves) || overloadOnly)) {
      // A probe that failed found the ceiling where the last clean windows put it: a small
      // sample accepting less is the probe's own overshoot, and overload that rose with the
      // probe says "no higher", not "lower".
      this.s = { ...s, rate: this.holdRate(), cleanWindows: 0, probeStep: 0, slowStart: false };
      return 'decrease';
    }
    // A probe that overshoots measured the upstream directly, above a ceiling the previous
    // windows proved clean: believe what it accepted.
    const a = s.probeStep > 0 && accepted > s.ceiling ? 1 : Math.max(alpha, Math.min(1, 2 * e));
    let ceiling = Math.min(a * accepted + (1 - a) * s.ceiling, accepted);
    if (!filled) ceiling = Math.max(ceiling, s.ceiling * (1 - e));
    if (!proves) ceiling = Math.max(ceiling, MAX_CUT * s.ceiling);
    ceiling = clamp(ceiling, minRate, maxRate);
    // The ceiling fell when the upstream refused a rate it used to accept again while we climbed
    // back, or refused most of a large filled sample and accepted less than it used to. A lesser
    // first window may be a passing spell: the proven ceiling is kept to return to.
    const fell = (this.recoveryStep > 0 && sent <= provenBefore * (1 + this.opts.holdMargin)) || (proves && e > 0.5 && accepted < provenBefore);
    const proven = fell ? ceiling : provenBefore;
    this.s = { ...s, rate: this.holdRate(ceiling), ceiling, cleanWindows: 0, probeStep: 0, proven, slowStart: false };
    this.recoveryStep = proven > ceiling ? (proven - ceiling) / RECOVERY_WINDOWS : 0;
    return 'decrease';
  }

  private clean(w: Gathered, sent: number): Adjustment {
    const { holdMargin, probeInterval, minRate, maxRate } = this.opts;
    const s = this.s;
    const exercised = sent >= EXERCISED * s.rate || w.queued;
    if (s.probeStep > 0) {
      const provedNow = clamp(Math.min(sent, s.rate), minRate, maxRate);
      const ceiling = Math.max(s.ceiling, provedNow);
      const proven = Math.max(s.proven, ceiling);
      if (!exercised || s.rate >= maxRate) {
        // Demand fell short of the probe, or we are at the configured maximum: nothing more to
        // learn now; hold under what was proven.
        this.s = { ...s, rate: this.holdRate(ceiling), ceiling, proven, cleanWindows: 1, probeStep: 0 };
        return 'none';
      }
      const step = s.slowStart ? MAX_PROBE_STEP : Math.min(MAX_PROBE_STEP, s.probeStep * 2);
      this.s = { ...s, rate: Math.min(maxRate, ceiling * (1 + step)), ceiling, proven, cleanWindows: 0, probeStep: step };
      return 'probe';
    }

    if (this.recoveryStep > 0 && exercised) {
      // Climbing back to the proven ceiling after a decrease the evidence did not confirm.
      const ceiling = Math.min(s.proven, s.ceiling + this.recoveryStep);
      if (ceiling >= s.proven) this.recoveryStep = 0;
      this.s = { ...s, ceiling, rate: this.holdRate(ceiling), cleanWindows: this.recoveryStep > 0 ? 0 : probeInterval };
      return 'increase';
    }

    const cleanWindows = s.cleanWindows + 1;
    const target = this.holdRate();
    if (s.rate < target) {
      const step = Math.max(0.5 * (target - s.rate), target / RECOVERY_WINDOWS);
      this.s = { ...s, cleanWindows, rate: Math.min(target, s.rate + step) };
      return 'increase';
    }
    // A clean exercised window at the hold point proves the ceiling it held under.
    const proven = exercised ? Math.max(s.proven, s.ceiling) : s.proven;
    const due = s.slowStart || (probeInterval > 0 && cleanWindows >= probeInterval);
    if (due && exercised && s.rate < maxRate) {
      const step = s.slowStart ? MAX_PROBE_STEP : holdMargin;
      this.s = { ...s, rate: Math.min(maxRate, s.ceiling * (1 + step)), cleanWindows: 0, probeStep: step, proven };
      return 'probe';
    }
    this.s = { ...s, cleanWindows, proven };
    return 'none';
  }
}

function validGathered(g: Gathered | undefined): g is Gathered {
  return g !== undefined && [g.ok, g.limited, g.overloaded, g.busy, g.seconds, g.windows].every((v) => Number.isFinite(v) && v >= 0);
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
