import { setMaxListeners } from 'node:events';
import { pino } from 'pino';
import { Admission, AdmissionRejected, admissionOptionsFrom, type AdmissionOptions, type AttemptOutcome, type Permit } from '../../limits/admission.js';
import { readProxyEnv } from '../../config/proxy.js';
import { ManualClock } from '../../limits/clock.js';
import { createMetrics } from '../../metrics/catalogue.js';
import { DEFAULT_RETRY_BASE_MS, retryDelayMs } from '../../zai/retry.js';
import { MemoryBudget, MemoryStore } from './memory-budget.js';
import { seededRandom, UpstreamModel, type ModelAnswer, type UpstreamWeather } from './upstream-model.js';

/**
 * Plays a weather scenario against the real admission (queue, token bucket, ceiling estimator,
 * concurrency limit) on a virtual clock: clients that retry like the proxy does, in front of
 * the model upstream. Thousands of windows take seconds, and a run is deterministic for its seed.
 */
export interface WeatherScenario {
  name: string;
  weather: UpstreamWeather;
  /** Mean latency of a successful answer (ms), for what the upstream can serve at most. */
  meanLatencyMs: number;
  /** Closed-loop clients: each sends its next request when the last one is answered. */
  clients?: number;
  /** More closed-loop clients that join at `at` (ms since start). */
  late?: { clients: number; at: number };
  /** Open-loop demand (req/s, Poisson arrivals); with `clients`, both run. */
  arrivalsRps?: (t: number) => number;
  windows: number;
  /** Transients (ms since start): recovery is measured from each end. */
  transients?: [number, number][];
  /** Windows from the start that are not judged (a cold start's climb). */
  settleWindows?: number;
  /** Quota pacing's cap on the admitted rate (req/s) at time t; undefined for none. */
  rateCap?: (t: number) => number | undefined;
  /** Replicas in front of the same upstream, each with its own share of the clients. */
  replicas?: number;
  /** The replicas share one budget and one learned state (REDIS_URL), held in memory here. */
  shared?: boolean;
  /** A ceiling already learned (state file or Redis) at start. */
  learned?: { ceiling: number; rate: number };
  admission?: Partial<AdmissionOptions>;
  maxRetries?: number;
  retryBaseMs?: number;
  seed?: number;
}

export interface WindowStat {
  /** Window end (ms since start). */
  t: number;
  delivered: number;
  /** What could have been delivered at most: min(demand, ceiling, concurrency) over the window. */
  achievable: number;
  proxyRefused: number;
  upstreamFailed: number;
  rate: number;
  ceiling: number;
  /** In-flight limit (summed over replicas). */
  concurrencyLimit: number;
}

export interface WeatherResult {
  name: string;
  windows: WindowStat[];
  waitsMs: number[];
  requests: number;
  upstream: Record<ModelAnswer, number>;
}

const MAX_RETRIES = 3;

/**
 * The proxy's limiter defaults, with what the scenarios need otherwise: 1 s windows (a scenario
 * on the defaults' 30 s windows says so), room for their 40+ clients, ceilings above
 * RATE_LIMIT_MAX's 50, and no state file or Redis.
 */
export const DEFAULT_WEATHER_ADMISSION: AdmissionOptions = {
  ...admissionOptionsFrom(readProxyEnv({})),
  stateFile: undefined,
  redisUrl: undefined,
  windowMs: 1000,
  maxWorkers: 64,
  maxRate: 200,
};

export async function runWeather(s: WeatherScenario): Promise<WeatherResult> {
  const random = seededRandom(s.seed ?? 1);
  const clock = new ManualClock(1_700_000_000_000);
  const t0 = clock.now();
  const opts = { ...DEFAULT_WEATHER_ADMISSION, ...s.admission };
  const windowMs = opts.windowMs;
  const endAt = t0 + s.windows * windowMs;
  const upstream = new UpstreamModel(s.weather, random);
  const log = pino({ level: 'silent' });
  const replicas = Math.max(1, s.replicas ?? 1);
  const admissions: Admission[] = [];
  const store = s.shared ? new MemoryStore(clock) : undefined;
  for (let i = 0; i < replicas; i++) {
    const shared = store ? new MemoryBudget(store, windowMs) : undefined;
    const adm = new Admission({ ...opts, shared }, createMetrics('weather', { processMetrics: false }), log, clock);
    await adm.start();
    if (s.learned) adm.adopt({ rate: s.learned.rate, ceiling: s.learned.ceiling, cleanWindows: 0, probeStep: 0, proven: s.learned.ceiling });
    admissions.push(adm);
  }

  const windows: WindowStat[] = [];
  const waitsMs: number[] = [];
  let cur = { delivered: 0, proxyRefused: 0, upstreamFailed: 0 };
  let requests = 0;
  const sleep = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));
  const never = new AbortController().signal;
  setMaxListeners(0, never);
  const maxRetries = s.maxRetries ?? MAX_RETRIES;

  const oneRequest = async (adm: Admission, client: string): Promise<void> => {
    requests++;
    for (let attempt = 0; ; attempt++) {
      let permit: Permit;
      try {
        permit = adm.tryAcquire(client) ?? (await adm.acquire(client, never));
      } catch (err) {
        if (!(err instanceof AdmissionRejected)) throw err;
        cur.proxyRefused++;
        await sleep(err.retryAfterSeconds * 1000);
        return;
      }
      waitsMs.push(permit.waitedSeconds * 1000);
      const sent = upstream.send(clock.now() - t0);
      await sleep(sent.ms);
      sent.done();
      permit.release(OUTCOME[sent.answer]);
      if (sent.answer === 'ok') {
        if (clock.now() <= endAt) cur.delivered++;
        return;
      }
      if (attempt >= maxRetries) {
        cur.upstreamFailed++;
        return;
      }
      await sleep(retryDelayMs(attempt + 1, { class: CLASS[sent.answer] }, random, { baseMs: s.retryBaseMs ?? DEFAULT_RETRY_BASE_MS }));
    }
  };

  const loops: Promise<void>[] = [];
  const clients = s.clients ?? 0;
  const startClients = (n: number, at: number, first: number) => {
    for (let i = first; i < first + n; i++) {
      const adm = admissions[i % replicas]!;
      const client = `c${i % 16}`;
      loops.push(
        (async () => {
          // Spread the first requests over 100 ms, as clients starting together do.
          await sleep(at + random() * 100);
          while (clock.now() < endAt) await oneRequest(adm, client);
        })(),
      );
    }
  };
  startClients(clients, 0, 0);
  if (s.late) startClients(s.late.clients, s.late.at, clients);
  if (s.arrivalsRps) {
    const arrivals = s.arrivalsRps;
    loops.push(
      (async () => {
        let i = 0;
        while (clock.now() < endAt) {
          const rps = arrivals(clock.now() - t0);
          if (!(rps > 0)) {
            await sleep(100);
            continue;
          }
          await sleep(-Math.log(1 - random()) * (1000 / rps));
          void oneRequest(admissions[i % replicas]!, `c${i++ % 16}`);
        }
      })(),
    );
  }

  const closedDemand = (t: number) => ((clients + (s.late && t >= s.late.at ? s.late.clients : 0)) * 1000) / s.meanLatencyMs;
  const achievableAt = (t: number) => {
    const errs = Object.values(s.weather.randomErrors?.(t) ?? {}).reduce((a, p) => a + (p ?? 0), 0);
    const demand = closedDemand(t) + (s.arrivalsRps?.(t) ?? 0);
    const concurrency = Math.min(s.weather.concurrency?.(t) ?? Infinity, opts.maxWorkers * replicas);
    const served = Math.min(s.weather.ceiling(t) * (1 - errs), (concurrency * 1000) / s.meanLatencyMs, s.rateCap?.(t) ?? Infinity);
    return Math.min(demand, served);
  };

  const applyCap = () => {
    if (!s.rateCap) return;
    const cap = s.rateCap(clock.now() - t0);
    for (const adm of admissions) adm.setRateCap(cap === undefined ? undefined : cap / replicas);
  };
  applyCap();
  let nextWindow = t0 + windowMs;
  for (let guard = 0; guard < 50_000_000; guard++) {
    const at = Math.min(clock.nextTimerAt() ?? Infinity, nextWindow);
    if (at > endAt) break;
    clock.advance(Math.max(0, at - clock.now()));
    await new Promise<void>((r) => setImmediate(r));
    if (clock.now() >= nextWindow) {
      const t = nextWindow - t0;
      const snap = admissions.map((a) => a.snapshot());
      windows.push({
        t,
        ...cur,
        achievable: (achievableAt(t - windowMs / 2) * windowMs) / 1000,
        // Shared replicas each hold the key's whole rate; unshared ones each their own.
        rate: s.shared ? snap[0]!.rate : snap.reduce((a, x) => a + x.rate, 0),
        ceiling: s.shared ? snap[0]!.ceiling : snap.reduce((a, x) => a + x.ceiling, 0),
        concurrencyLimit: snap.reduce((a, x) => a + x.concurrencyLimit, 0),
      });
      cur = { delivered: 0, proxyRefused: 0, upstreamFailed: 0 };
      nextWindow += windowMs;
      applyCap();
    }
  }
  for (const adm of admissions) await adm.close();
  return { name: s.name, windows, waitsMs, requests, upstream: upstream.counts };
}

const OUTCOME: Record<ModelAnswer, AttemptOutcome> = { ok: 'ok', '1302': 'concurrency', '1303': 'frequency', '1305': 'overload', '500': 'overload' };
const CLASS = { ok: 'unknown', '1302': 'concurrency', '1303': 'frequency', '1305': 'overload', '500': 'unknown' } as const;
