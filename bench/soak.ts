// Soak: mixed traffic (both dialects, streaming and not) through a real `zai-proxy serve`
// process in front of the simulator for a long time, with faults injected at random through
// the simulator's control API. Prints a table over time of the proxy's RSS, heap used, active
// handles, requests in flight and queued; at the end, client-visible errors the upstream did
// not cause (must be 0) and anything lost (must be 0). Exit 1 when either is not 0.
// Usage: npm run soak [-- --minutes N] [-- --clients N] [-- --sample-seconds S] [-- --seed N] [-- --out FILE]
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { startSimulator, type SimFault } from '../src/sim/index.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const minutes = Number(flag('--minutes') ?? 30);
const clients = Math.max(1, Number(flag('--clients') ?? 12));
const runMs = Math.max(5_000, minutes * 60_000);
const sampleMs = Number(flag('--sample-seconds') ?? Math.min(60, Math.max(2, runMs / 10_000))) * 1000;
const out = flag('--out') ?? join(import.meta.dirname, 'results', 'soak.json');
let seed = Number(flag('--seed') ?? 20261202) >>> 0;
/** Deterministic choices (mulberry32): a run's fault schedule repeats; its timing does not. */
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

const KEY = 'soak-operator-key.0123456789abcdef';
/** The client's own give-up time: an answer later than this counts as lost (hung). */
const CLIENT_TIMEOUT_MS = 60_000;

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

// ---- the simulator (in this process, driven over its HTTP control API) and the proxy (a process of its own)
const sim = await startSimulator({ scenario: { requiredKey: KEY, streamChunks: 8, chunkIntervalMs: 5 } });
const control = async (patch: Record<string, unknown>) => {
  const res = await request(`${sim.url}/_sim/scenario`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });
  if (res.statusCode !== 200) throw new Error(`simulator refused ${JSON.stringify(patch)}: ${await res.body.text()}`);
  await res.body.dump();
};
const simStats = async () => (await (await request(`${sim.url}/_sim/stats`)).body.json()) as { byOutcome: Record<string, number>; inFlight: number };

const port = await freePort();
const proxyUrl = `http://127.0.0.1:${port}`;
const bin = new URL('../bin/zai-proxy', import.meta.url).pathname;
const proxy = spawn(process.execPath, [bin, 'serve'], {
  env: {
    PATH: process.env.PATH,
    PORT: String(port),
    HOST: '127.0.0.1',
    ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl,
    ZAI_ANTHROPIC_BASE_URL: sim.anthropicBaseUrl,
    ZAI_API_KEY: KEY,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_STATE_FILE: 'none',
    // The soak is about surviving faults, not about pacing: the limiter is on but opened wide.
    RATE_LIMIT_MIN: '200',
    RATE_LIMIT_INITIAL: '500',
    RATE_LIMIT_MAX: '1000',
    MAX_WORKERS: '64',
    MAX_RETRIES: '2',
    RETRY_BASE_DELAY: '20ms',
    UPSTREAM_BODY_TIMEOUT: '2s',
    REQUEST_TIMEOUT: '10s',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let warnLines = 0;
let errorLines = 0;
proxy.stdout!.setEncoding('utf8');
proxy.stdout!.on('data', (d: string) => {
  warnLines += (d.match(/"level":40/g) ?? []).length;
  errorLines += (d.match(/"level":(50|60)/g) ?? []).length;
});
let proxyExited: string | undefined;
proxy.once('exit', (code, signal) => (proxyExited = `exited (${code ?? signal})`));
for (let i = 0; ; i++) {
  if (proxyExited) throw new Error(`the proxy ${proxyExited} before listening`);
  const up = await request(`${proxyUrl}/health`).then(
    (r) => r.body.dump().then(() => true),
    () => false,
  );
  if (up) break;
  if (i > 300) throw new Error('the proxy did not come up');
  await sleep(100);
}

// ---- what the proxy looks like from outside
interface Row {
  t: number;
  requests: number;
  ok: number;
  failed: number;
  rssMb: number;
  heapMb: number;
  handles: number;
  inFlight: number;
  queued: number;
}
async function sampleProxy(): Promise<Omit<Row, 't' | 'requests' | 'ok' | 'failed'>> {
  const text = await (await request(`${proxyUrl}/metrics`)).body.text();
  const metric = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  const health = (await (await request(`${proxyUrl}/health`)).body.json()) as { inFlight: number; limiter: { queueDepth: number } };
  return {
    rssMb: metric('process_resident_memory_bytes') / 2 ** 20,
    heapMb: metric('nodejs_heap_size_used_bytes') / 2 ** 20,
    handles: metric('nodejs_active_handles'),
    inFlight: health.inFlight,
    queued: health.limiter.queueDepth,
  };
}

// ---- faults: clean phases and fault phases, one fault kind per phase, a few uses each
const FAULTS: (() => SimFault)[] = [
  () => ({ kind: 'zaiError', code: pick([1302, 1303, 1305, 1312]), times: between(1, 6) }),
  () => ({ kind: 'zaiError', code: pick([1113, 1301, 1308, 1310, 1313]), times: between(1, 3) }),
  () => ({ kind: 'status', status: pick([500, 502, 503, 504]), times: between(1, 6) }),
  () => ({ kind: 'resetBeforeHeaders', times: between(1, 6) }),
  () => ({ kind: 'resetMidStream', afterChunks: between(0, 6), times: between(1, 4) }),
  () => ({ kind: 'stallMidStream', afterChunks: between(0, 6), times: between(1, 3) }),
  () => ({ kind: 'headersThenSilence', times: between(1, 3) }),
  () => ({ kind: 'slowFirstByte', delayMs: between(100, 3000), times: between(1, 6) }),
  () => ({ kind: 'malformedJson', times: between(1, 4) }),
  () => ({ kind: 'malformedSse', times: between(1, 4) }),
  () => ({ kind: 'truncated', times: between(1, 4) }),
  () => ({ kind: 'emptyBody', times: between(1, 4) }),
  () => ({ kind: 'echoKey', times: between(1, 3) }),
];
/** Phase number; odd phases have faults set. A request is "clean" when it started and ended in one even phase. */
let phase = 0;
const injected: Record<string, number> = {};
const startedAt = Date.now();
const endAt = startedAt + runMs;
const injector = (async () => {
  while (Date.now() < endAt) {
    await sleep(between(3_000, 8_000));
    if (Date.now() >= endAt) break;
    const fault = pick(FAULTS)();
    injected[fault.kind] = (injected[fault.kind] ?? 0) + 1;
    phase++;
    await control({ faults: [fault] });
    await sleep(between(1_000, 4_000));
    await control({ faults: [] });
    phase++;
  }
})();

// ---- clients
type Outcome = 'ok' | 'error-status' | 'stream-error' | 'cut' | 'connect-error' | 'silent-truncation' | 'hung';
const outcomes: Record<string, number> = {};
const unexplained: string[] = [];
let requests = 0;
let failedInFaultPhases = 0;
let relayedIncomplete = 0;
const agent = new Agent({ connections: 64 });

const BODIES = {
  openai: (stream: boolean) =>
    JSON.stringify({ model: 'glm-4.7', stream, ...(stream ? { stream_options: { include_usage: true } } : {}), messages: [{ role: 'user', content: 'soak' }] }),
  anthropic: (stream: boolean) => JSON.stringify({ model: 'glm-4.7', max_tokens: 64, stream, messages: [{ role: 'user', content: 'soak' }] }),
};

async function once(dialect: 'openai' | 'anthropic', stream: boolean): Promise<{ outcome: Outcome; detail: string }> {
  const path = dialect === 'openai' ? '/v1/chat/completions' : '/v1/messages';
  let res: Dispatcher.ResponseData;
  try {
    res = await request(`${proxyUrl}${path}`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: BODIES[dialect](stream),
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    });
  } catch (err) {
    const e = err as Error;
    return { outcome: e.name === 'TimeoutError' ? 'hung' : 'connect-error', detail: `${e.name}: ${e.message}` };
  }
  let text = '';
  try {
    for await (const c of res.body) text += (c as Buffer).toString('utf8');
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError') return { outcome: 'hung', detail: `${res.statusCode} after ${text.length} bytes` };
    return { outcome: res.statusCode === 200 && stream ? 'stream-error' : 'cut', detail: `${res.statusCode}: ${e.message}` };
  }
  if (res.statusCode !== 200) return { outcome: 'error-status', detail: `${res.statusCode} ${text.slice(0, 160)}` };
  if (stream) {
    if (/^data: \{"error"|^event: error/m.test(text)) return { outcome: 'stream-error', detail: text.slice(-160) };
    const done = dialect === 'openai' ? text.includes('data: [DONE]') : text.includes('event: message_stop');
    return done ? { outcome: 'ok', detail: '' } : { outcome: 'silent-truncation', detail: text.slice(-160) };
  }
  try {
    const body = JSON.parse(text) as { choices?: unknown[]; content?: unknown[] };
    if ((body.choices ?? body.content)?.length) return { outcome: 'ok', detail: '' };
  } catch {
    // falls through
  }
  return { outcome: 'silent-truncation', detail: text.slice(0, 160) };
}

const clientLoops = Array.from({ length: clients }, async () => {
  for (let i = 0; Date.now() < endAt && i < 10_000_000; i++) {
    const dialect = random() < 0.5 ? 'openai' : 'anthropic';
    const stream = random() < 0.5;
    const before = phase;
    const r = await once(dialect, stream);
    const clean = before === phase && before % 2 === 0;
    requests++;
    outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    if (r.outcome === 'ok') continue;
    if (clean || r.outcome === 'hung') {
      if (unexplained.length < 1000) unexplained.push(`${dialect} ${stream ? 'stream' : 'json'} ${r.outcome}${clean ? ' in a clean phase' : ''}: ${r.detail}`);
    } else {
      failedInFaultPhases++;
      // A complete, well-framed 200 whose JSON the upstream cut (malformedJson) is relayed as
      // sent: the client's parser fails on it. Counted apart, next to the faults that make it.
      if (r.outcome === 'silent-truncation') relayedIncomplete++;
    }
  }
});

// ---- the table over time
const rows: Row[] = [];
const fmt = (r: Row) =>
  `| ${(r.t / 60_000).toFixed(1).padStart(6)} | ${String(r.requests).padStart(8)} | ${String(r.ok).padStart(8)} | ${String(r.failed).padStart(6)} | ${r.rssMb.toFixed(1).padStart(7)} | ${r.heapMb.toFixed(1).padStart(7)} | ${String(r.handles).padStart(7)} | ${String(r.inFlight).padStart(9)} | ${String(r.queued).padStart(6)} |`;
console.log(`soak: ${minutes} min, ${clients} clients, both dialects, streaming and not, faults at random; proxy pid ${proxy.pid}`);
console.log('|    min | requests |       ok | failed | RSS MiB | heap MiB | handles | in flight | queued |');
console.log('|---|---|---|---|---|---|---|---|---|');
const sampleRow = async () => {
  const s = await sampleProxy();
  const ok = outcomes.ok ?? 0;
  const row = { t: Date.now() - startedAt, requests, ok, failed: requests - ok, ...s };
  rows.push(row);
  console.log(fmt(row));
};
await sampleRow();
while (Date.now() < endAt && !proxyExited) {
  await sleep(Math.min(sampleMs, Math.max(0, endAt - Date.now())));
  await sampleRow();
}

// ---- settle: traffic stops, faults are cleared, everything in flight ends
await injector;
await control({ faults: [] });
await Promise.all(clientLoops);
let settled = false;
for (let i = 0; i < 300 && !settled; i++) {
  const s = await sampleProxy();
  settled = s.inFlight === 0 && s.queued === 0 && (await simStats()).inFlight === 0;
  if (!settled) await sleep(100);
}
await sleep(1_000); // let sockets the clients left close
await agent.close();
await sleep(500);
await sampleRow();
const final = rows.at(-1)!;

const up = (await simStats()).byOutcome;
const upstreamFailures = Object.entries(up)
  .filter(([k]) => (k.startsWith('fault:') && k !== 'fault:slowFirstByte') || /^\d+$/.test(k))
  .reduce((n, [, v]) => n + v, 0);
const metricsText = await (await request(`${proxyUrl}/metrics`)).body.text();
const counted = [...metricsText.matchAll(/^zai_proxy_requests_total\{[^}]*\} (\S+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
// Lost: a hang, a truncation in a clean phase (already among the unexplained), or a request the proxy never counted.
const lost =
  (outcomes.hung ?? 0) + (outcomes['silent-truncation'] ?? 0) - relayedIncomplete + Math.max(0, requests - (outcomes['connect-error'] ?? 0) - counted);
// Incomplete 200s beyond the malformedJson answers the upstream sent were cut by the proxy, not the upstream.
const notUpstream =
  unexplained.length + Math.max(0, failedInFaultPhases - upstreamFailures) + Math.max(0, relayedIncomplete - (up['fault:malformedJson'] ?? 0));

console.log('');
console.log(`requests: ${requests} (${JSON.stringify(outcomes)})`);
console.log(`faults injected: ${JSON.stringify(injected)}; upstream failed attempts: ${upstreamFailures} (${JSON.stringify(up)})`);
console.log(`client failures in fault phases: ${failedInFaultPhases} (≤ upstream failed attempts: ${failedInFaultPhases <= upstreamFailures ? 'yes' : 'NO'})`);
console.log(`incomplete 200s relayed as a broken upstream sent them (malformedJson faults: ${up['fault:malformedJson'] ?? 0}): ${relayedIncomplete}`);
console.log(`proxy counted ${counted} requests in zai_proxy_requests_total (clients sent ${requests}, ${outcomes['connect-error'] ?? 0} never connected)`);
console.log(`proxy log: ${warnLines} warn lines, ${errorLines} error lines`);
const first = rows[0]!;
const peakRss = Math.max(...rows.map((r) => r.rssMb));
console.log(
  `RSS ${first.rssMb.toFixed(1)} → ${final.rssMb.toFixed(1)} MiB (peak ${peakRss.toFixed(1)}); heap ${first.heapMb.toFixed(1)} → ${final.heapMb.toFixed(1)} MiB; handles ${first.handles} → ${final.handles}; in flight ${final.inFlight}, queued ${final.queued} at the end`,
);
console.log(`errors clients saw that the upstream did not cause: ${notUpstream}`);
for (const u of unexplained.slice(0, 20)) console.log(`  ${u}`);
console.log(`lost (hung, silently truncated, or never counted): ${lost}`);

mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    {
      minutes,
      clients,
      rows,
      outcomes,
      injected,
      upstream: up,
      upstreamFailures,
      failedInFaultPhases,
      relayedIncomplete,
      counted,
      notUpstream,
      unexplained,
      lost,
      warnLines,
      errorLines,
    },
    null,
    2,
  ),
);
proxy.kill('SIGTERM');
await sim.close();
process.exit(notUpstream === 0 && lost === 0 && !proxyExited && final.inFlight === 0 && final.queued === 0 ? 0 : 1);
