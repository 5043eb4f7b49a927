// The real-time part of `npm run bench:limits -- --live`: two weathers through a real proxy in
// front of the simulator over loopback, with half-second windows. Wall-clock figures on a shared
// machine move between runs; the virtual-time table is the one to compare changes by.
import { Writable } from 'node:stream';
import { Agent, request } from 'undici';
import { readProxyEnv } from '../src/config/proxy.js';
import { createLogger } from '../src/log/logger.js';
import { startProxy } from '../src/proxy/server.js';
import { startSimulator } from '../src/sim/index.js';

const KEY = 'bench-operator-key-limits-live';
const WINDOW_MS = 500;
/** The simulator counts requests over a sliding half second: 10 per 500 ms is 20 req/s. */
const CEILING = 20;
const BODY = JSON.stringify({ model: 'glm-4.7', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });

export interface LiveRow {
  name: string;
  /** Upstream-accepted req/s over the judged seconds ÷ the ceiling. */
  goodput: number;
  /** Seconds from the spell's start (60 answers take about three) until a second accepted ≥ 90 % of the ceiling. */
  recoverySeconds: number;
  clientAnswers: number;
  client429: number;
}

export async function runLive(): Promise<LiveRow[]> {
  return [await live('steady ceiling (live)', false), await live('1305 spell of 60 answers (live)', true)];
}

async function live(name: string, spell: boolean): Promise<LiveRow> {
  const sim = await startSimulator({ scenario: { rateLimit: { rps: CEILING / 2, windowMs: WINDOW_MS } } });
  const sink = new Writable({ write: (_c, _e, done) => done() });
  const env = readProxyEnv({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_STATE_FILE: 'none',
    ZAI_API_KEY: KEY,
    ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl,
    ZAI_ANTHROPIC_BASE_URL: sim.anthropicBaseUrl,
    RATE_LIMIT_WINDOW: `${WINDOW_MS}ms`,
    RETRY_BASE_DELAY: '100ms',
    MAX_WORKERS: '64',
    QUEUE_MAX: '1000',
  });
  const proxy = await startProxy(env, { log: createLogger('warn', sink) });
  const url = `http://127.0.0.1:${(proxy.server.address() as { port: number }).port}/v1/chat/completions`;
  const agent = new Agent({ connections: 64 });
  let running = true;
  const seen = { answers: 0, r429: 0 };
  const clients = Array.from({ length: 40 }, async () => {
    for (let i = 0; running && i < 100_000; i++) {
      const res = await request(url, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: BODY }).catch(() => undefined);
      if (!res) continue;
      await res.body.text();
      seen.answers++;
      if (res.statusCode === 429) seen.r429++;
    }
  });
  const perSecond: number[] = [];
  let last = sim.stats().byOutcome.ok ?? 0;
  const seconds = 40;
  for (let s = 0; s < seconds; s++) {
    if (spell && s === 20) sim.setScenario({ faults: [{ kind: 'zaiError', code: 1305, times: 60 }] });
    await new Promise((r) => setTimeout(r, 1000));
    const ok = sim.stats().byOutcome.ok ?? 0;
    perSecond.push(ok - last);
    last = ok;
  }
  running = false;
  await Promise.all(clients);
  await proxy.shutdown(0);
  await sim.close();
  await agent.close();
  const judged = perSecond.slice(10, spell ? 20 : seconds);
  const after = perSecond.slice(21);
  const back = after.findIndex((n) => n >= 0.9 * CEILING);
  return {
    name,
    goodput: judged.reduce((a, b) => a + b, 0) / judged.length / CEILING,
    recoverySeconds: spell ? (back < 0 ? after.length : back + 1) : 0,
    clientAnswers: seen.answers,
    client429: seen.r429,
  };
}
