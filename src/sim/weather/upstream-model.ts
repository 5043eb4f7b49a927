/**
 * Z.AI as the limiter meets it, in virtual time: a request-rate ceiling over a sliding second
 * (1303 past it), a concurrency limit (1302 past it), a latency distribution and random errors
 * by code, each a function of time so a scenario can change them mid-run. Deterministic for a
 * given random source.
 */
export type ModelAnswer = 'ok' | '1302' | '1303' | '1305' | '500';

export interface UpstreamWeather {
  /** True request-rate ceiling (req/s) at time t (ms since the run began). */
  ceiling(t: number): number;
  /** True concurrency limit at time t; Infinity when the key has none that matters. */
  concurrency?(t: number): number;
  /** Share of answers that are each error, independent of the rate, at time t. */
  randomErrors?(t: number): Partial<Record<'1305' | '500' | '1303' | '1302', number>>;
  /** Latency of a successful answer (ms); u is uniform in [0, 1). */
  latencyMs(u: number, t: number): number;
  /** Latency of a refusal (ms). */
  refusalMs?: number;
}

const SLIDING_MS = 1000;

export class UpstreamModel {
  /** Start times of accepted requests in the last second, oldest first. */
  private readonly accepted: number[] = [];
  private head = 0;
  private inFlight = 0;
  readonly counts: Record<ModelAnswer, number> = { ok: 0, '1302': 0, '1303': 0, '1305': 0, '500': 0 };

  constructor(
    private readonly weather: UpstreamWeather,
    private readonly random: () => number,
  ) {}

  /** Answers one attempt sent at t: what it gets and how long until the answer is complete. */
  send(t: number): { answer: ModelAnswer; ms: number; done: () => void } {
    const answer = this.decide(t);
    this.counts[answer]++;
    if (answer !== 'ok') return { answer, ms: this.weather.refusalMs ?? 30, done: () => undefined };
    this.accepted.push(t);
    this.inFlight++;
    let finished = false;
    return {
      answer,
      ms: Math.max(1, this.weather.latencyMs(this.random(), t)),
      done: () => {
        if (!finished) this.inFlight--;
        finished = true;
      },
    };
  }

  private decide(t: number): ModelAnswer {
    for (const [code, p] of Object.entries(this.weather.randomErrors?.(t) ?? {})) {
      if (p !== undefined && this.random() < p) return code as ModelAnswer;
    }
    if (this.inFlight >= (this.weather.concurrency?.(t) ?? Infinity)) return '1302';
    while (this.head < this.accepted.length && this.accepted[this.head]! <= t - SLIDING_MS) this.head++;
    if (this.head > 4096) {
      this.accepted.splice(0, this.head);
      this.head = 0;
    }
    if (this.accepted.length - this.head >= this.weather.ceiling(t) * (SLIDING_MS / 1000)) return '1303';
    return 'ok';
  }
}

/** A small, fast, seedable generator (mulberry32), so a run is the same every time. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
