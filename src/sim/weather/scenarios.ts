import type { WeatherScenario } from './run.js';
import type { UpstreamWeather } from './upstream-model.js';

/**
 * The named weather the limiter is held to (by the weather tests and `npm run bench:limits`).
 * Unless a scenario says otherwise: a true ceiling of 20 req/s, 40 clients each sending its next
 * request when the last is answered (answers take 300–700 ms, so demand is ~80 req/s, four times
 * the ceiling), 1 s windows, and the proxy's retry policy (3 retries, 1 s base backoff).
 */
const CEILING = 20;
const S = 1000;

const latency = (u: number) => 300 + 400 * u;
const steadyWeather = (o: Partial<UpstreamWeather> = {}): UpstreamWeather => ({ ceiling: () => CEILING, latencyMs: latency, ...o });
const base = { meanLatencyMs: 500, clients: 40 } as const;

/** Ceiling `a` before `at` ms, `b` after. */
const step = (at: number, a: number, b: number) => (t: number) => (t < at ? a : b);

export const SCENARIOS: WeatherScenario[] = [
  { name: 'steady ceiling', ...base, weather: steadyWeather(), windows: 300 },
  {
    name: 'cold start on the defaults (30 s windows)',
    ...base,
    weather: steadyWeather(),
    windows: 30,
    admission: { windowMs: 30 * S },
    settleWindows: 3,
  },
  {
    name: 'ceiling halves',
    ...base,
    weather: steadyWeather({ ceiling: step(100 * S, CEILING, CEILING / 2) }),
    windows: 250,
    transients: [[100 * S, 101 * S]],
  },
  {
    name: 'ceiling doubles',
    ...base,
    weather: steadyWeather({ ceiling: step(100 * S, CEILING, 2 * CEILING) }),
    windows: 250,
    // Finding a higher ceiling waits for the next probe (every RATE_LIMIT_PROBE_INTERVAL windows)
    // and then climbs geometrically: judged from 20 windows after the change.
    transients: [[100 * S, 120 * S]],
  },
  { name: '2 % random 1305', ...base, weather: steadyWeather({ randomErrors: () => ({ '1305': 0.02 }) }), windows: 300 },
  { name: '5 % random 1305', ...base, weather: steadyWeather({ randomErrors: () => ({ '1305': 0.05 }) }), windows: 300 },
  {
    name: '1305 spell (40 % for 15 s)',
    ...base,
    weather: steadyWeather({ randomErrors: (t) => (t >= 60 * S && t < 75 * S ? { '1305': 0.4 } : {}) }),
    windows: 200,
    transients: [[60 * S, 75 * S]],
  },
  {
    name: '1302 storm (another user holds the key: concurrency 3 for 15 s)',
    ...base,
    weather: steadyWeather({ concurrency: (t) => (t >= 60 * S && t < 75 * S ? 3 : Infinity) }),
    windows: 200,
    transients: [[60 * S, 75 * S]],
  },
  {
    name: 'errors right after start at low traffic, then demand',
    meanLatencyMs: 500,
    // A quiet start (2 req/s) in which 1305s answer half of everything for 5 s; 40 clients at 20 s.
    arrivalsRps: (t) => (t < 20 * S ? 2 : 0),
    clients: 0,
    weather: steadyWeather({ randomErrors: (t) => (t < 5 * S ? { '1305': 0.5 } : {}) }),
    windows: 150,
    learned: { ceiling: CEILING, rate: CEILING * 0.98 },
    late: { clients: 40, at: 20 * S },
    transients: [[0, 20 * S]],
  },
  {
    name: 'slow first bytes (10 % of answers take 5–10 s)',
    ...base,
    meanLatencyMs: 0.9 * 500 + 0.1 * 7500,
    weather: steadyWeather({ latencyMs: (u) => (u < 0.1 ? 5000 + 50_000 * u : 300 + 400 * ((u - 0.1) / 0.9)) }),
    windows: 300,
  },
  {
    name: 'quota pacing caps the rate at 8 req/s for 60 s',
    ...base,
    weather: steadyWeather(),
    rateCap: (t) => (t >= 60 * S && t < 120 * S ? 8 : undefined),
    windows: 250,
    transients: [
      [60 * S, 61 * S],
      [120 * S, 121 * S],
    ],
  },
  {
    name: 'demand under the ceiling (12 req/s, 5 % random 1305)',
    meanLatencyMs: 500,
    arrivalsRps: () => 12,
    weather: steadyWeather({ randomErrors: () => ({ '1305': 0.05 }) }),
    windows: 300,
  },
  {
    name: '5× above the ceiling (a stale learned ceiling)',
    ...base,
    weather: steadyWeather(),
    learned: { ceiling: 5 * CEILING, rate: 5 * CEILING * 0.98 },
    windows: 200,
    settleWindows: 2,
  },
  {
    name: 'two replicas sharing one budget (Redis)',
    ...base,
    replicas: 2,
    shared: true,
    weather: steadyWeather(),
    windows: 300,
  },
  {
    name: 'two replicas, each learning alone',
    ...base,
    replicas: 2,
    weather: steadyWeather(),
    windows: 300,
  },
];
