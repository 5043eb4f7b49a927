// Throughput and added latency of the proxy against the simulator, next to a direct call and
// a bare node:http + undici pass-through, measured in one run with wrk (Debian package).
// Each server runs in its own process. Ratios matter; absolute numbers move with the machine.
// Usage: npm run bench [-- --duration 10 --rounds 3]
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const root = new URL('..', import.meta.url).pathname;
const arg = (name, fallback) => Number(process.argv[process.argv.indexOf(name) + 1]) || fallback;
const duration = arg('--duration', 10);
const rounds = arg('--rounds', 3);
const ports = { sim: 19101, bare: 19102, proxy: 19103, proxyOff: 19104, proxyQuiet: 19105 };
const children = [];

function start(cmd, args, env = {}) {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}

async function waitUp(url) {
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`${url} did not come up`);
}

const body = JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'Say hello in five words.' }] });
writeFileSync('/tmp/zai-bench.lua', `wrk.method = "POST"\nwrk.body = '${body}'\nwrk.headers["Content-Type"] = "application/json"\n`);

function wrk(url, connections) {
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${duration}s`, '--latency', '-s', '/tmp/zai-bench.lua', url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = /50%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p50ms = p50 ? Number(p50[1]) * ({ us: 0.001, ms: 1, s: 1000 }[p50[2]]) : NaN;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p50ms, non2xx };
}

try {
  start(process.execPath, ['bin/zai-proxy', 'sim', '--port', String(ports.sim)]);
  await waitUp(`http://127.0.0.1:${ports.sim}/_sim/stats`);
  const openaiBase = `http://127.0.0.1:${ports.sim}/api/paas/v4`;
  start(process.execPath, ['bench/bare-passthrough.mjs', String(ports.bare), `http://127.0.0.1:${ports.sim}`]);
  const proxyEnv = {
    ZAI_OPENAI_BASE_URL: openaiBase,
    LOG_LEVEL: 'info',
    RATE_LIMIT_STATE_FILE: 'none',
    // Limits on but out of the way: the bench measures the proxy's cost, not the limiter's holds.
    RATE_LIMIT_MAX: '1000000',
    RATE_LIMIT_INITIAL: '1000000',
    MAX_WORKERS: '256',
  };
  start(process.execPath, ['bin/zai-proxy', 'serve'], { ...proxyEnv, PORT: String(ports.proxy) });
  start(process.execPath, ['bin/zai-proxy', 'serve'], {
    ...proxyEnv,
    PORT: String(ports.proxyOff),
    TOKEN_COUNTING_ENABLED: 'false',
    RATE_LIMIT_ENABLED: 'false',
  });
  // The same proxy without its per-request access line, to show what logging costs.
  start(process.execPath, ['bin/zai-proxy', 'serve'], { ...proxyEnv, PORT: String(ports.proxyQuiet), LOG_LEVEL: 'warn' });
  await Promise.all([ports.bare, ports.proxy, ports.proxyOff, ports.proxyQuiet].map((p) => waitUp(`http://127.0.0.1:${p}/health`).catch(() => waitUp(`http://127.0.0.1:${p}/`))));

  const targets = {
    direct: `${openaiBase}/chat/completions`,
    bare: `http://127.0.0.1:${ports.bare}/api/paas/v4/chat/completions`,
    proxy: `http://127.0.0.1:${ports.proxy}/v1/chat/completions`,
    proxyNoLimitsNoEstimate: `http://127.0.0.1:${ports.proxyOff}/v1/chat/completions`,
    proxyNoAccessLog: `http://127.0.0.1:${ports.proxyQuiet}/v1/chat/completions`,
  };
  // Warm up every path (JIT, connection pools) before measuring.
  for (const url of Object.values(targets)) wrk(url, 8);
  // Rounds interleave the targets so a slow spell of this shared machine hits all of them;
  // each figure is the median over the rounds.
  const samples = Object.fromEntries(Object.keys(targets).map((name) => [name, { rps32: [], p50msAt1: [], non2xx: 0 }]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, url] of Object.entries(targets)) {
      const c32 = wrk(url, 32);
      const c1 = wrk(url, 1);
      samples[name].rps32.push(c32.rps);
      samples[name].p50msAt1.push(c1.p50ms);
      samples[name].non2xx += c32.non2xx + c1.non2xx;
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const results = {};
  for (const [name, s] of Object.entries(samples)) {
    results[name] = { rps32: Math.round(median(s.rps32)), p50msAt1: median(s.p50msAt1), non2xx: s.non2xx, rounds: s.rps32.map(Math.round) };
  }
  const added = (name) => +(results[name].p50msAt1 - results.direct.p50msAt1).toFixed(3);
  const summary = {
    duration,
    rounds,
    results,
    proxyVsBareRps: +(results.proxy.rps32 / results.bare.rps32).toFixed(3),
    proxyNoAccessLogVsBareRps: +(results.proxyNoAccessLog.rps32 / results.bare.rps32).toFixed(3),
    addedP50ms: Object.fromEntries(Object.keys(targets).filter((n) => n !== 'direct').map((n) => [n, added(n)])),
  };
  mkdirSync(`${root}/bench/results`, { recursive: true });
  writeFileSync(`${root}/bench/results/proxy.json`, JSON.stringify(summary, null, 2));
  console.log(JSON.stringify(summary, null, 2));
} finally {
  for (const c of children) c.kill('SIGTERM');
}
