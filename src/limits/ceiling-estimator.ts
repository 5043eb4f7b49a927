/**
 * The request-rate control law: infers the upstream's invisible request-rate ceiling from
 * frequency-class 429s, one window at a time. Pure: no clock, no I/O; the caller closes a
 * window by handing over its counts.
 *
 * Per window, with e = limited / (ok + limited), a = ok / seconds (throughput the upstream
 * accepted) and s = (ok + limited) / seconds (what we actually sent):
 *
 * - DIRTY (e > 5 %). The upstream refused part of what we sent, so its ceiling is near `a`.
 *   ceiling ← α'·a + (1 − α')·ceiling, with α' = max(α, min(1, 2e)): a mild window is treated
 *   as noise and smoothed with RATE_LIMIT_CEILING_ALPHA, a massive one (we were far above the
 *   limit) is believed at once. The estimate is then clamped to at most a: a window that lost
 *   more than 5 % proves nothing above what it accepted, and an estimate left above it would
 *   hold the rate in the 1–5 % "middle" band forever (the original's steady 429 leak); holding
 *   the full margin below `a` also absorbs the noise in measuring `a` over one window.
 *   rate ← max(min, ceiling·(1 − margin)). One window from 5× above the ceiling lands at
 *   98 % of it. A dirty PROBE window that accepted more than the proven ceiling is believed
 *   outright (α' = 1): the probe measured the raised ceiling itself.
 * - MIDDLE (1 % ≤ e ≤ 5 %). Noise: rate, ceiling and the clean-window count stay as they are,
 *   except that a probe window landing here has failed (see PROBING). Noise does not repeat
 *   itself, though: the third middle window in a row is a steady leak (a rate a hair above
 *   the ceiling, e.g. after a window that over-measured it) and goes through the DIRTY update.
 * - CLEAN (e < 1 %). cleanWindows += 1. Below the hold point (ceiling·(1 − margin)) the rate
 *   climbs half the gap (at least 1 % of the target) per window. At the hold point, after
 *   RATE_LIMIT_PROBE_INTERVAL clean windows — and only if the window was actually exercised
 *   (s ≥ 90 % of the rate: an idle proxy learns nothing by raising its rate) — it probes.
 * - PROBING (geometric). The first probe sends at ceiling·(1 + margin). Each clean probe
 *   window proves the probed rate: ceiling ← max(ceiling, s), and the next probe follows in
 *   the very next window with the step doubled (margin, 2·margin, 4·margin … capped at 50 %).
 *   The first probe window that is not clean ends probing: a middle one collapses to the held
 *   rate under the last proven ceiling, a dirty one goes through the DIRTY update (its `a`
 *   is the best evidence of the new ceiling). Either way cleanWindows restarts at 0.
 *
 * Cost in steady state: one probe window at +margin per (probeInterval + 1) windows, which
 * loses about `margin` of that window (≈ 0.2 % of all requests at the defaults). Benefit: a
 * doubled ceiling is found after the next due probe plus about six windows (1.02·1.04·1.08·
 * 1.16·1.32·1.5 ≈ 2.7), instead of the original's +2 % every probeInterval windows.
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
  /** Attempts refused for rate pressure (frequency / overload class). */
  limited: number;
  /** Length of the window in seconds. */
  seconds: number;
}

export type Adjustment = 'increase' | 'decrease' | 'probe' | 'none';

export interface CeilingState {
  rate: number;
  ceiling: number;
  cleanWindows: number;
  /** Current probe step as a fraction above the ceiling; 0 when not probing. */
  probeStep: number;
}

export interface WindowResult {
  adjustment: Adjustment;
  /** The learned ceiling moved (worth persisting). */
  ceilingChanged: boolean;
}

const DIRTY = 0.05;
/** Consecutive middle windows that stop counting as noise. */
const LEAK_WINDOWS = 3;
const CLEAN = 0.01;
const MAX_PROBE_STEP = 0.5;
const EXERCISED = 0.9;

export class CeilingEstimator {
  private s: CeilingState;
  /** Middle windows in a row; short-lived, so neither persisted nor shared. */
  private middleStreak = 0;

  constructor(private readonly opts: CeilingOptions) {
    this.s = CeilingEstimator.initialState(opts);
  }

  static initialState(opts: CeilingOptions): CeilingState {
    const rate = clamp(opts.initialRate, opts.minRate, opts.maxRate);
    return { rate, ceiling: rate, cleanWindows: 0, probeStep: 0 };
  }

  get rate(): number {
    return this.s.rate;
  }
  get ceiling(): number {
    return this.s.ceiling;
  }
  get cleanWindows(): number {
    return this.s.cleanWindows;
  }
  get probing(): boolean {
    return this.s.probeStep > 0;
  }

  state(): CeilingState {
    return { ...this.s };
  }

  /** Adopts a persisted or shared state, clamped to the configured bounds. */
  restore(state: CeilingState): void {
    const ceiling = clamp(state.ceiling, this.opts.minRate, this.opts.maxRate);
    const rate = clamp(state.rate, this.opts.minRate, this.opts.maxRate);
    const probeStep = Number.isFinite(state.probeStep) ? clamp(state.probeStep, 0, MAX_PROBE_STEP) : 0;
    this.s = { rate: probeStep > 0 ? rate : Math.min(rate, ceiling), ceiling, cleanWindows: Math.max(0, Math.floor(state.cleanWindows) || 0), probeStep };
  }

  reset(): void {
    this.middleStreak = 0;
    this.s = CeilingEstimator.initialState(this.opts);
  }

  private holdRate(ceiling = this.s.ceiling): number {
    return clamp(ceiling * (1 - this.opts.holdMargin), this.opts.minRate, this.opts.maxRate);
  }

  /** Closes one window. Windows with no rate-relevant samples change nothing. */
  endWindow(w: WindowCounts): WindowResult {
    const total = w.ok + w.limited;
    if (!(total > 0) || !(w.seconds > 0)) return { adjustment: 'none', ceilingChanged: false };
    const { alpha, holdMargin, probeInterval, minRate, maxRate } = this.opts;
    const e = w.limited / total;
    const accepted = w.ok / w.seconds;
    const sent = total / w.seconds;
    const s = this.s;

    const middle = e >= CLEAN && e <= DIRTY && s.probeStep === 0;
    this.middleStreak = middle ? this.middleStreak + 1 : 0;
    const leak = middle && this.middleStreak >= LEAK_WINDOWS;
    if (leak) this.middleStreak = 0;

    if (e > DIRTY || leak) {
      // A probe that overshoots measured the upstream directly, above a ceiling the previous
      // windows proved clean: believe what it accepted (smoothing it with the stale estimate
      // would settle a raised ceiling well short of its value, to be climbed again by probes).
      const a = s.probeStep > 0 && accepted > s.ceiling ? 1 : Math.max(alpha, Math.min(1, 2 * e));
      let ceiling = a * accepted + (1 - a) * s.ceiling;
      ceiling = Math.min(ceiling, accepted);
      ceiling = clamp(ceiling, minRate, maxRate);
      const changed = ceiling !== s.ceiling;
      this.s = { rate: this.holdRate(ceiling), ceiling, cleanWindows: 0, probeStep: 0 };
      return { adjustment: 'decrease', ceilingChanged: changed };
    }

    if (e >= CLEAN) {
      if (s.probeStep === 0) return { adjustment: 'none', ceilingChanged: false };
      this.s = { rate: this.holdRate(), ceiling: s.ceiling, cleanWindows: 0, probeStep: 0 };
      return { adjustment: 'decrease', ceilingChanged: false };
    }

    // Clean.
    if (s.probeStep > 0) {
      const proven = clamp(Math.min(sent, s.rate), minRate, maxRate);
      const ceiling = Math.max(s.ceiling, proven);
      const exercised = sent >= EXERCISED * s.rate;
      if (!exercised || s.rate >= maxRate) {
        // Demand fell short of the probe, or we are at the configured maximum: nothing more
        // to learn now; hold under what was proven.
        this.s = { rate: this.holdRate(ceiling), ceiling, cleanWindows: 1, probeStep: 0 };
        return { adjustment: 'none', ceilingChanged: ceiling !== s.ceiling };
      }
      const step = Math.min(MAX_PROBE_STEP, s.probeStep * 2);
      this.s = { rate: Math.min(maxRate, ceiling * (1 + step)), ceiling, cleanWindows: 0, probeStep: step };
      return { adjustment: 'probe', ceilingChanged: ceiling !== s.ceiling };
    }

    const cleanWindows = s.cleanWindows + 1;
    const target = this.holdRate();
    if (s.rate < target) {
      const step = Math.max(0.5 * (target - s.rate), 0.01 * target);
      this.s = { ...s, cleanWindows, rate: Math.min(target, s.rate + step) };
      return { adjustment: 'increase', ceilingChanged: false };
    }
    if (probeInterval > 0 && cleanWindows >= probeInterval && s.rate < maxRate && sent >= EXERCISED * s.rate) {
      this.s = { rate: Math.min(maxRate, s.ceiling * (1 + holdMargin)), ceiling: s.ceiling, cleanWindows: 0, probeStep: holdMargin };
      return { adjustment: 'probe', ceilingChanged: false };
    }
    this.s = { ...s, cleanWindows };
    return { adjustment: 'none', ceilingChanged: false };
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
