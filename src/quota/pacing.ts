import type { QuotaSample } from './parse.js';

/**
 * Opt-in quota pacing (QUOTA_PACING=on). Observe-only is the default: without a pacer nothing
 * from the quota poller reaches admission.
 *
 * The law, per window (five-hour, weekly, …) with an advertised reset:
 *   burnPerRps  smoothed (EWMA) usage fraction burnt per second, per admitted request/s;
 *               measured per rps so that a cap we set does not read as a change of workload
 *   allowed     (1 − used − reserve) / seconds until the reset: the burn that lasts exactly
 *   at risk     burnPerRps × admitted rate > allowed, i.e. at the current burn the window
 *               runs out before it resets
 *   sustainable allowed / burnPerRps: the admitted rate that moves exhaustion to the reset
 * The cap is the smallest sustainable rate over windows, never below `floorRps`. It drops at
 * once, rises at most `maxIncrease`× per sample (a burn estimate made under a non-binding cap
 * is optimistic, so growth is cautious), and is removed once it no longer binds (the limiter's
 * own rate is below it) and no window is at risk.
 *
 * A window seen exhausted (used ≥ 1 with a future reset), or a 1308/1310 from upstream, blocks
 * admission until the reset: new requests are answered 429 at once instead of collecting 1308s.
 */

/** What pacing needs from the admission limiter (src/limits/admission.ts). */
export interface RateGate {
  setRateCap(rps: number | undefined): void;
  blockUntil(epochMs: number | undefined): void;
  /** `rate`: the request rate admitted now (the pacer takes the minimum with its own cap). */
  snapshot(): { rate: number };
}

export interface QuotaPacerOptions {
  /** never cap below this: interactive use must stay possible (e.g. 0.2 req/s) */
  floorRps: number;
  /** weight of the newest burn measurement in the EWMA, (0, 1]; default 0.3 */
  smoothing?: number;
  /** fraction of each window kept back from the projection; default 0.02 */
  reserveFraction?: number;
  /** the cap grows at most by this factor per sample; default 1.25 */
  maxIncrease?: number;
}

export interface PacerWindowState {
  window: string;
  limitType: string;
  usedRatio: number;
  resetAtMs: number;
  burnPerRps?: number;
  sustainableRps?: number;
  atRisk: boolean;
}

export interface PacerSnapshot {
  capRps?: number;
  blockedUntilMs?: number;
  windows: PacerWindowState[];
}

interface Tracked {
  usedRatio: number;
  atMs: number;
  resetAtMs: number;
  /** effective admitted rate from this sample until the next one */
  rateAfter: number;
  burnPerRps?: number;
}

/** A window whose reset moved forward by more than this has rolled over (the provider's stamp jitters by < 1 s). */
const ROLLOVER_MS = 60_000;
/** A reset further out than this from a 1308/1310 is not believed (a 1310 monthly limit is the longest). */
const MAX_BLOCK_MS = 32 * 86_400_000;
/** The cap "binds" while the limiter's own rate is at least this share of it. */
const BINDING_SHARE = 0.95;

export class QuotaPacer {
  private readonly floor: number;
  private readonly alpha: number;
  private readonly reserve: number;
  private readonly maxIncrease: number;
  private readonly tracked = new Map<string, Tracked>();
  private lastWindows: PacerWindowState[] = [];
  private cap: number | undefined;
  private sampleBlockUntil: number | undefined;
  private upstreamBlockUntil: number | undefined;
  private appliedBlock: number | undefined;

  constructor(
    private readonly gate: RateGate,
    opts: QuotaPacerOptions,
    private readonly clock: { now(): number } = Date,
  ) {
    if (!(opts.floorRps > 0) || !Number.isFinite(opts.floorRps)) throw new RangeError('quota pacing floorRps must be a positive number');
    this.floor = opts.floorRps;
    this.alpha = opts.smoothing ?? 0.3;
    this.reserve = opts.reserveFraction ?? 0.02;
    this.maxIncrease = opts.maxIncrease ?? 1.25;
    if (!(this.alpha > 0 && this.alpha <= 1)) throw new RangeError('quota pacing smoothing must be in (0, 1]');
    if (!(this.reserve >= 0 && this.reserve < 1)) throw new RangeError('quota pacing reserveFraction must be in [0, 1)');
    if (!(this.maxIncrease >= 1) || !Number.isFinite(this.maxIncrease)) throw new RangeError('quota pacing maxIncrease must be >= 1');
  }

  onSample(s: QuotaSample): void {
    const now = this.clock.now();
    const snapshotRate = this.gate.snapshot().rate;
    const rateNow = Math.min(snapshotRate, this.cap ?? Infinity);

    // Exhaustion confirmed by the endpoint itself.
    let exhaustedUntil: number | undefined;
    for (const l of s.limits) {
      if (l.usedRatio >= 1 && l.resetAtMs !== undefined && l.resetAtMs > now) {
        exhaustedUntil = Math.max(exhaustedUntil ?? 0, Math.min(l.resetAtMs, now + MAX_BLOCK_MS));
      }
    }
    this.sampleBlockUntil = exhaustedUntil;

    const windows: PacerWindowState[] = [];
    const present = new Set<string>();
    let anyRollover = false;
    for (const l of s.limits) {
      if (l.resetAtMs === undefined || l.resetAtMs <= now) continue; // nothing to pace towards
      const key = `${l.window}/${l.limitType}`;
      present.add(key);
      const prev = this.tracked.get(key);
      const next: Tracked = { usedRatio: l.usedRatio, atMs: s.fetchedAtMs, resetAtMs: l.resetAtMs, rateAfter: 0, burnPerRps: prev?.burnPerRps };
      if (prev && s.fetchedAtMs <= prev.atMs) continue; // same or older sample: nothing new
      const rolledOver = prev !== undefined && (l.usedRatio < prev.usedRatio || l.resetAtMs > prev.resetAtMs + ROLLOVER_MS);
      // While admission was blocked nothing was admitted: that interval says nothing about burn per request.
      const blockedDuring = prev !== undefined && this.appliedBlock !== undefined && this.appliedBlock > prev.atMs;
      if (rolledOver) anyRollover = true;
      if (prev && !rolledOver && !blockedDuring && prev.rateAfter > 0) {
        const seconds = (s.fetchedAtMs - prev.atMs) / 1000;
        const measured = (l.usedRatio - prev.usedRatio) / seconds / prev.rateAfter;
        next.burnPerRps = prev.burnPerRps === undefined ? measured : prev.burnPerRps + this.alpha * (measured - prev.burnPerRps);
      }
      // A rollover keeps the burn estimate: it describes the workload, not the window.
      this.tracked.set(key, next);

      const state: PacerWindowState = { window: l.window, limitType: l.limitType, usedRatio: l.usedRatio, resetAtMs: l.resetAtMs, atRisk: false };
      if (next.burnPerRps !== undefined && next.burnPerRps > 0) {
        const allowed = Math.max(0, 1 - l.usedRatio - this.reserve) / ((l.resetAtMs - now) / 1000);
        state.burnPerRps = next.burnPerRps;
        state.sustainableRps = allowed / next.burnPerRps;
        state.atRisk = next.burnPerRps * rateNow > allowed;
      } else if (next.burnPerRps !== undefined) {
        state.burnPerRps = next.burnPerRps;
      }
      windows.push(state);
    }
    for (const key of this.tracked.keys()) if (!present.has(key)) this.tracked.delete(key);
    this.lastWindows = windows;

    this.decideCap(windows, snapshotRate, anyRollover);
    const rateAfter = Math.min(snapshotRate, this.cap ?? Infinity);
    for (const key of present) this.tracked.get(key)!.rateAfter = rateAfter;
    this.applyBlock(now);
  }

  /** A 1308/1310 seen upstream: block admission until the reset it announced. */
  onQuotaExhausted(resetAtMs: number): void {
    const now = this.clock.now();
    if (!Number.isFinite(resetAtMs) || resetAtMs <= now) return;
    this.upstreamBlockUntil = Math.max(this.upstreamBlockUntil ?? 0, Math.min(resetAtMs, now + MAX_BLOCK_MS));
    this.applyBlock(now);
  }

  /** The quota sample went stale: pacing falls back to congestion-only control. Blocks stay (their resets are authoritative). */
  onStale(): void {
    this.tracked.clear();
    this.lastWindows = [];
    this.setCap(undefined);
  }

  snapshot(): PacerSnapshot {
    const now = this.clock.now();
    const blocked = Math.max(this.sampleBlockUntil ?? 0, this.upstreamBlockUntil ?? 0);
    const snap: PacerSnapshot = { windows: this.lastWindows.map((w) => ({ ...w })) };
    if (this.cap !== undefined) snap.capRps = this.cap;
    if (blocked > now) snap.blockedUntilMs = blocked;
    return snap;
  }

  private decideCap(windows: PacerWindowState[], snapshotRate: number, anyRollover: boolean): void {
    const sustainable = windows.map((w) => w.sustainableRps).filter((r): r is number => r !== undefined && Number.isFinite(r));
    const anyAtRisk = windows.some((w) => w.atRisk);
    if (sustainable.length === 0) return this.setCap(undefined);
    // A fresh window with a safe projection starts uncapped, rather than climbing back from the old cap.
    if (anyRollover && !anyAtRisk) return this.setCap(undefined);
    const target = Math.max(this.floor, Math.min(...sustainable));
    if (this.cap === undefined) {
      if (anyAtRisk) this.setCap(target);
      return;
    }
    const binding = snapshotRate >= this.cap * BINDING_SHARE;
    if (!anyAtRisk && !binding) return this.setCap(undefined);
    this.setCap(Math.max(this.floor, Math.min(target, this.cap * this.maxIncrease)));
  }

  private setCap(rps: number | undefined): void {
    if (rps === this.cap) return;
    this.cap = rps;
    this.gate.setRateCap(rps);
  }

  private applyBlock(now: number): void {
    const until = Math.max(this.sampleBlockUntil ?? 0, this.upstreamBlockUntil ?? 0);
    const effective = until > now ? until : undefined;
    if (effective === this.appliedBlock) return;
    this.appliedBlock = effective;
    this.gate.blockUntil(effective);
  }
}
