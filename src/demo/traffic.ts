/**
 * Synthetic client traffic for the demo: a realistic mix of both API shapes, streaming and not,
 * several models and prompt sizes, at a bounded rate with a bounded number in flight, so the
 * demo never becomes a load test of the machine it runs on.
 */

export type Shape = 'openai' | 'anthropic' | 'count_tokens' | 'models';

export interface PlannedRequest {
  readonly target: number;
  readonly shape: Shape;
  readonly stream: boolean;
  readonly model: string;
  /** Rough prompt size in words; the simulator counts tokens from the text. */
  readonly promptWords: number;
}

export interface TrafficMix {
  /** Share of requests per target (e.g. stable 0.65, canary 0.35). */
  readonly targetWeights: readonly number[];
  readonly models: readonly string[];
}

/** Picks one request from the mix; `rand` is injected so tests can pin the distribution. */
export function planRequest(mix: TrafficMix, rand: () => number): PlannedRequest {
  const target = pickWeighted(mix.targetWeights, rand());
  const r = rand();
  const shape: Shape = r < 0.5 ? 'openai' : r < 0.9 ? 'anthropic' : r < 0.97 ? 'count_tokens' : 'models';
  const stream = (shape === 'openai' || shape === 'anthropic') && rand() < 0.55;
  // Mostly one model with a long tail, as coding agents use them.
  const m = rand();
  const model = mix.models[m < 0.6 ? 0 : 1 + Math.floor(rand() * (mix.models.length - 1))] ?? mix.models[0]!;
  // Prompt sizes are heavy-tailed: many short turns, some with a whole file pasted in.
  const promptWords = Math.round(20 + 1500 * rand() ** 3);
  return { target, shape, stream, model, promptWords };
}

function pickWeighted(weights: readonly number[], x: number): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  for (let i = 0; i < weights.length; i += 1) {
    acc += weights[i]! / total;
    if (x < acc) return i;
  }
  return weights.length - 1;
}

const WORDS = ['refactor', 'the', 'function', 'so', 'that', 'it', 'handles', 'errors', 'return', 'value', 'test', 'case', 'async', 'stream', 'token', 'proxy'];

function prompt(words: number, seed: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i += 1) out.push(WORDS[(seed + i * 7) % WORDS.length]!);
  return out.join(' ');
}

/** The HTTP request for a plan, against a proxy base URL. */
export function requestFor(base: string, p: PlannedRequest, seed: number): { url: string; init: RequestInit } {
  const text = prompt(p.promptWords, seed);
  const json = (path: string, body: unknown): { url: string; init: RequestInit } => ({
    url: `${base}${path}`,
    init: { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: JSON.stringify(body) },
  });
  switch (p.shape) {
    case 'openai':
      return json('/v1/chat/completions', {
        model: p.model,
        stream: p.stream,
        ...(p.stream ? { stream_options: { include_usage: true } } : {}),
        messages: [
          { role: 'system', content: 'You are a careful coding assistant.' },
          { role: 'user', content: text },
        ],
      });
    case 'anthropic':
      return json('/v1/messages', { model: p.model, max_tokens: 1024, stream: p.stream, messages: [{ role: 'user', content: text }] });
    case 'count_tokens':
      return json('/v1/messages/count_tokens', { model: p.model, messages: [{ role: 'user', content: text }] });
    case 'models':
      return { url: `${base}/v1/models`, init: { method: 'GET' } };
  }
}

export interface TrafficOptions {
  readonly bases: readonly string[];
  readonly mix: TrafficMix;
  /** Requests started per second, on average. */
  readonly ratePerSecond: number;
  /**
   * Most requests in flight at once, shared out between the targets by their weights; beyond
   * its share a target's requests are skipped, not queued. Per target, so a proxy that holds
   * its clients back cannot take the other's clients hostage.
   */
  readonly maxInFlight: number;
  readonly rand?: () => number;
  readonly fetch?: typeof fetch;
}

export interface TargetStats {
  started: number;
  /** Answers read to their end, whatever their status. */
  finished: number;
  /** Answers with a 2xx status: what the client got served. */
  ok: number;
  failed: number;
  skipped: number;
  inFlight: number;
}

export interface TrafficStats extends TargetStats {
  /** The same counts per target, in the order of `bases`. */
  byTarget: TargetStats[];
}

export interface Traffic {
  /** Sends `n` extra requests at once, past the in-flight bound (a burst that trips the upstream's rate ceiling). */
  burst(n: number): void;
  setRate(perSecond: number): void;
  stats(): TrafficStats;
  stop(): Promise<void>;
}

/** Starts the generator: every 100 ms it starts the requests due, reading every body to its end. */
export function startTraffic(o: TrafficOptions): Traffic {
  const rand = o.rand ?? Math.random;
  const doFetch = o.fetch ?? fetch;
  const controller = new AbortController();
  const inFlight = new Set<Promise<void>>();
  const zero = () => ({ started: 0, finished: 0, ok: 0, failed: 0, skipped: 0, inFlight: 0 });
  const counts = zero();
  const byTarget = o.bases.map(zero);
  const weightTotal = o.mix.targetWeights.reduce((a, b) => a + b, 0);
  const caps = o.bases.map((_, i) => Math.max(1, Math.round((o.maxInFlight * (o.mix.targetWeights[i] ?? 0)) / (weightTotal || 1))));
  let rate = o.ratePerSecond;
  let credit = 0;
  let seq = 0;

  const send = (extra = false) => {
    const p = planRequest(o.mix, rand);
    const target = Math.min(p.target, o.bases.length - 1);
    const t = byTarget[target]!;
    if (!extra && (inFlight.size >= o.maxInFlight || t.inFlight >= caps[target]!)) {
      counts.skipped += 1;
      t.skipped += 1;
      return;
    }
    const { url, init } = requestFor(o.bases[target]!, p, (seq += 1));
    counts.started += 1;
    t.started += 1;
    t.inFlight += 1;
    const job = (async () => {
      try {
        const res = await doFetch(url, { ...init, signal: controller.signal });
        // Drain the body (streams included) so the proxy sees a complete exchange.
        await res.arrayBuffer();
        counts.finished += 1;
        t.finished += 1;
        if (res.ok) {
          counts.ok += 1;
          t.ok += 1;
        }
      } catch {
        counts.failed += 1;
        t.failed += 1;
      }
    })();
    inFlight.add(job);
    void job.finally(() => {
      inFlight.delete(job);
      t.inFlight -= 1;
    });
  };

  const timer = setInterval(() => {
    credit += rate / 10;
    // Poisson-ish jitter: the whole credit is not always spent on the same tick.
    while (credit >= 1) {
      credit -= 1;
      if (rand() < 0.9) send();
      else credit += 0.5;
    }
  }, 100);

  return {
    burst(n) {
      for (let i = 0; i < n; i += 1) send(true);
    },
    setRate(perSecond) {
      rate = Math.max(0, perSecond);
    },
    stats: () => ({ ...counts, inFlight: inFlight.size, byTarget: byTarget.map((t) => ({ ...t })) }),
    async stop() {
      clearInterval(timer);
      controller.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}
