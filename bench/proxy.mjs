// The proxy against a bare node:http + undici relay, nginx and a direct call, all in front of
// one lean upstream (bench/upstream.mjs), in one run. Every scenario runs in rounds; in each
// round every target is measured once, in an order rotated per round, so a slow spell of this
// shared machine hits all targets alike; each figure is the median over rounds of a ratio (or
// difference) taken within one round, with its spread (min–max). Method: bench/README.md.
//
// Usage: npm run bench -- [--rounds 5] [--duration 5] [--streams 200] [--chunks 50]
//   [--interval 20] [--ramp 1000] [--requests 100000] [--soak MINUTES] [--compare DIR] [--workers N]
//   [--only throughput,stream,large,memory] [--out FILE] [--profile DIR] [--twin]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { nginxCommand, nginxInstalled } from './nginx.mjs';
import { rssMb, start, stopAll, treeCpuSeconds, treeRssMb, waitUp } from './lib/processes.mjs';
import { benchProxyEnv } from './lib/proxy-env.mjs';
import { fmt, pooledQuantile, spread } from './lib/stats.mjs';
import { wrk, wrkScript } from './lib/wrk.mjs';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = argv.indexOf(name);
  return i === -1 ? fallback : argv[i + 1];
};
const num = (name, fallback) => Number(flag(name, fallback));
const opts = {
  rounds: num('--rounds', 5),
  durationS: num('--duration', 5),
  streams: num('--streams', 200),
  chunks: num('--chunks', 50),
  intervalMs: num('--interval', 20),
  rampMs: num('--ramp', 1000),
  requests: num('--requests', 100_000),
  soakMin: num('--soak', 0),
  compare: flag('--compare', undefined),
  workers: num('--workers', 0),
  only: new Set(String(flag('--only', 'throughput,stream,large,memory')).split(',')),
  out: flag('--out', `${root}bench/results/proxy.json`),
  // The `proxy` target writes a V8 CPU profile here when it stops (bench/profile-top.mjs reads it).
  profile: flag('--profile', undefined),
  twin: argv.includes('--twin'),
};

let nextPort = 19200 + (process.pid % 50) * 16;
const port = () => nextPort++;
const upstreamPort = port();
const upstreamBase = `http://127.0.0.1:${upstreamPort}`;
const CHAT = '/api/paas/v4/chat/completions';

/** Every server under test: name → { url of its chat route, pid, proxy: has /metrics }. */
const targets = {};

function proxyTarget(name, env, dir = root, nodeFlags = []) {
  const p = port();
  const child = start(process.execPath, [...nodeFlags, `${dir}/bin/zai-proxy`, 'serve'], {
    cwd: dir,
    env: {
      PORT: String(p),
      ...benchProxyEnv(upstreamBase),
      ...env,
    },
  });
  targets[name] = {
    url: `http://127.0.0.1:${p}/v1/chat/completions`,
    health: `http://127.0.0.1:${p}/health`,
    metrics: `http://127.0.0.1:${p}/metrics`,
    pid: child.pid,
    proxy: true,
  };
}

function bareTarget(name) {
  const p = port();
  targets[name] = {
    url: `http://127.0.0.1:${p}${CHAT}`,
    health: `http://127.0.0.1:${p}/`,
    pid: start(process.execPath, [`${root}bench/bare-passthrough.mjs`, String(p), upstreamBase]).pid,
  };
}

function startAll() {
  const up = start(process.execPath, [`${root}bench/upstream.mjs`, String(upstreamPort)]);
  targets.direct = { url: `${upstreamBase}${CHAT}`, health: `${upstreamBase}/`, pid: up.pid };
  if (nginxInstalled()) {
    const p = port();
    const [cmd, args] = nginxCommand(p, upstreamPort);
    targets.nginx = { url: `http://127.0.0.1:${p}${CHAT}`, health: `http://127.0.0.1:${p}/`, pid: start(cmd, args).pid };
  }
  bareTarget('bare');
  // A second, identical bare relay: its ratios to `bare` are what the harness reads as a
  // difference when there is none (its noise floor, per figure).
  if (opts.twin) bareTarget('bareTwin');
  proxyTarget('proxy', { LOG_LEVEL: 'info' }, root, opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${opts.profile}`] : []);
  proxyTarget('proxyWarn', { LOG_LEVEL: 'warn' });
  if (opts.compare) proxyTarget('base', { LOG_LEVEL: 'info' }, opts.compare);
  if (opts.workers > 1) proxyTarget(`proxy${opts.workers}w`, { LOG_LEVEL: 'info', PROXY_WORKERS: String(opts.workers) });
}

const rotated = (names, round) => names.map((_, i) => names[(i + round) % names.length]);
const names = () => Object.keys(targets);
const r3 = (v) => +v.toFixed(3);

async function eventLoopP99Ms(name) {
  if (!targets[name].metrics) return NaN;
  const text = await (await fetch(targets[name].metrics)).text();
  return Number(/^nodejs_eventloop_lag_p99_seconds\{[^}]*\} ([\d.e+-]+)/m.exec(text)?.[1]) * 1000;
}

// ---- scenarios ----

function throughput(script) {
  const rows = Object.fromEntries(names().map((n) => [n, []]));
  for (let round = 0; round < opts.rounds; round++) {
    for (const name of rotated(names(), round)) {
      const t = targets[name];
      const cpu0 = treeCpuSeconds(t.pid);
      const c32 = wrk(t.url, { connections: 32, durationS: opts.durationS, script });
      const cpuMsPerReq = ((treeCpuSeconds(t.pid) - cpu0) * 1000) / Math.max(1, c32.requests);
      const c1 = wrk(t.url, { connections: 1, durationS: opts.durationS, script });
      rows[name].push({ rps: c32.rps, p99ms: c32.p99ms, p50msC1: c1.p50ms, cpuMsPerReq, errors: c32.errors + c1.errors });
    }
  }
  const out = {};
  for (const name of names()) {
    const rs = rows[name];
    const per = (f) => rs.map((r, i) => f(r, rows.bare[i], rows.direct[i]));
    out[name] = {
      rps32: spread(
        per((r) => r.rps),
        0,
      ),
      p99msC32: spread(per((r) => r.p99ms)),
      addedP50msC1: spread(per((r, _b, d) => r.p50msC1 - d.p50msC1)),
      cpuMsPerRequest: spread(
        per((r) => r.cpuMsPerReq),
        4,
      ),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      vsBare: {
        rpsRatio: spread(per((r, b) => r.rps / b.rps)),
        addedP50ms: spread(per((r, b) => r.p50msC1 - b.p50msC1)),
        cpuRatio: spread(per((r, b) => r.cpuMsPerReq / b.cpuMsPerReq)),
      },
    };
    if (name === 'proxy' && rows.proxyWarn) {
      out[name].vsWarn = {
        rpsRatio: spread(rs.map((r, i) => r.rps / rows.proxyWarn[i].rps)),
        addedP50ms: spread(rs.map((r, i) => r.p50msC1 - rows.proxyWarn[i].p50msC1)),
      };
    }
  }
  return out;
}

/** One batch of streams against `name`: opened at once, or spread evenly over `rampMs`. */
function streamRun(name, rampMs = 0) {
  const t = targets[name];
  const args = [`${root}bench/stream-client.mjs`, t.url, String(opts.streams), String(opts.chunks), String(opts.intervalMs), String(rampMs)];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }));
}

const pooledP99 = (runs) =>
  pooledQuantile(
    runs.map((r) => r.delayBins.counts),
    runs[0].delayBins.widthMs,
    0.99,
  );

async function streaming(rampMs) {
  const rows = Object.fromEntries(names().map((n) => [n, []]));
  for (let round = 0; round < opts.rounds; round++) {
    for (const name of rotated(names(), round)) {
      // RSS while the most streams are held: halfway through streams opened at once, at the
      // end of the ramp for the others.
      const t = targets[name];
      let rssHolding = NaN;
      const sampler = sleep(rampMs > 0 ? rampMs : (opts.chunks * opts.intervalMs) / 2).then(() => (rssHolding = treeRssMb(t.pid)));
      const run = await new Promise((resolve, reject) =>
        setImmediate(() => {
          try {
            resolve(streamRun(name, rampMs));
          } catch (e) {
            reject(e);
          }
        }),
      );
      await sampler;
      rows[name].push({ ...run, rssHolding });
    }
  }
  const out = {};
  for (const name of names()) {
    const rs = rows[name];
    const per = (f) => rs.map((r, i) => f(r, rows.bare[i], rows.direct[i]));
    const pooled = pooledP99(rs);
    out[name] = {
      ttfbP50ms: spread(per((r) => r.ttfbMs.p50)),
      ttfbP99ms: spread(per((r) => r.ttfbMs.p99)),
      addedTtfbP99msOverDirect: spread(per((r, _b, d) => r.ttfbMs.p99 - d.ttfbMs.p99)),
      addedTtfbP50msOverBare: spread(per((r, b) => r.ttfbMs.p50 - b.ttfbMs.p50)),
      chunkDelayMs: { p50: spread(per((r) => r.chunkDelayMs.p50)), p99: spread(per((r) => r.chunkDelayMs.p99)), max: spread(per((r) => r.chunkDelayMs.max)) },
      chunkP99RatioVsBare: spread(per((r, b) => r.chunkDelayMs.p99 / b.chunkDelayMs.p99)),
      // p99 of every chunk of every round together, against the bare relay's the same way.
      chunkP99PooledMs: pooled,
      chunkP99PooledRatioVsBare: +(pooled / pooledP99(rows.bare)).toFixed(3),
      coalescedChunks: rs.reduce((a, r) => a + r.coalescedChunks, 0),
      failedStreams: rs.reduce((a, r) => a + r.failed, 0),
      rssHoldingMb: spread(
        rs.map((r) => r.rssHolding),
        1,
      ),
    };
  }
  return out;
}

async function largePrompts(script) {
  const rows = Object.fromEntries(names().map((n) => [n, []]));
  for (let round = 0; round < opts.rounds; round++) {
    for (const name of rotated(names(), round)) {
      await eventLoopP99Ms(name); // a scrape resets the event-loop delay histogram
      const r = wrk(`${targets[name].url}?nousage=1`, { connections: 8, durationS: opts.durationS, script });
      rows[name].push({ rps: r.rps, p99ms: r.p99ms, loopP99ms: await eventLoopP99Ms(name), errors: r.errors });
    }
  }
  const out = {};
  for (const name of names()) {
    const rs = rows[name];
    out[name] = {
      rps: spread(
        rs.map((r) => r.rps),
        1,
      ),
      rpsRatioVsBare: spread(rs.map((r, i) => r.rps / rows.bare[i].rps)),
      p99ms: spread(rs.map((r) => r.p99ms)),
      eventLoopP99ms: targets[name].proxy ? spread(rs.map((r) => r.loopP99ms)) : undefined,
      errors: rs.reduce((a, r) => a + r.errors, 0),
    };
  }
  return out;
}

function memory(script) {
  const out = {};
  for (const name of names()) {
    const t = targets[name];
    const afterWarmup = treeRssMb(t.pid);
    let done = 0;
    while (done < opts.requests) done += wrk(t.url, { connections: 32, durationS: Math.max(1, opts.durationS), script }).requests;
    out[name] = { rssAfterWarmupMb: afterWarmup, requests: done, rssAfterMb: treeRssMb(t.pid) };
  }
  return out;
}

async function soak(script, largeScript) {
  const samples = [];
  const until = Date.now() + opts.soakMin * 60_000;
  const pid = targets.proxy.pid;
  while (Date.now() < until) {
    wrk(targets.proxy.url, { connections: 16, durationS: 10, script });
    streamRun('proxy');
    wrk(`${targets.proxy.url}?nousage=1`, { connections: 4, durationS: 5, script: largeScript });
    samples.push({ atS: Math.round((Date.now() - (until - opts.soakMin * 60_000)) / 1000), rssMb: rssMb(pid) });
  }
  const first = samples[0]?.rssMb;
  const last = samples.at(-1)?.rssMb;
  return { minutes: opts.soakMin, samples, growthMb: r3(last - first) };
}

// ---- report ----

function table(result) {
  const lines = [];
  const t = result.throughput;
  if (t) {
    lines.push(
      '| target | req/s c32 | p99 c32 ms | added p50 c1 ms | CPU ms/req | req/s ÷ bare | p50 − bare ms | CPU ÷ bare |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const [n, r] of Object.entries(t))
      lines.push(
        `| ${n} | ${fmt(r.rps32)} | ${fmt(r.p99msC32)} | ${fmt(r.addedP50msC1)} | ${fmt(r.cpuMsPerRequest)} | ${fmt(r.vsBare.rpsRatio)} | ${fmt(r.vsBare.addedP50ms)} | ${fmt(r.vsBare.cpuRatio)} |`,
      );
    if (t.proxy?.vsWarn)
      lines.push('', `access log on vs LOG_LEVEL=warn: req/s ratio ${fmt(t.proxy.vsWarn.rpsRatio)}, p50 c1 difference ${fmt(t.proxy.vsWarn.addedP50ms)} ms`);
  }
  for (const [s, title] of [
    [result.streaming, `${opts.streams} streams opened at once`],
    [result.streamingRamp, `${opts.streams} streams opened over ${opts.rampMs} ms`],
  ]) {
    if (!s) continue;
    lines.push(
      '',
      title,
      '',
      '| target | TTFB p50 ms | TTFB p99 ms | TTFB p99 − direct | TTFB p50 − bare | chunk delay p50 / p99 / max ms | chunk p99 ÷ bare | pooled chunk p99 ms, ÷ bare | coalesced | failed | RSS holding MB |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const [n, r] of Object.entries(s)) {
      lines.push(
        `| ${n} | ${fmt(r.ttfbP50ms)} | ${fmt(r.ttfbP99ms)} | ${fmt(r.addedTtfbP99msOverDirect)} | ${fmt(r.addedTtfbP50msOverBare)} | ${r.chunkDelayMs.p50.median} / ${r.chunkDelayMs.p99.median} / ${r.chunkDelayMs.max.median} | ${fmt(r.chunkP99RatioVsBare)} | ${r.chunkP99PooledMs}, ${r.chunkP99PooledRatioVsBare} | ${r.coalescedChunks} | ${r.failedStreams} | ${fmt(r.rssHoldingMb)} |`,
      );
    }
  }
  const l = result.largePrompts;
  if (l) {
    lines.push('', '| target (1 MB, no usage) | req/s c8 | ÷ bare | p99 ms | event-loop p99 ms |', '|---|---|---|---|---|');
    for (const [n, r] of Object.entries(l))
      lines.push(`| ${n} | ${fmt(r.rps)} | ${fmt(r.rpsRatioVsBare)} | ${fmt(r.p99ms)} | ${r.eventLoopP99ms ? fmt(r.eventLoopP99ms) : '—'} |`);
  }
  const m = result.memory;
  if (m) {
    lines.push('', '| target | RSS after warm-up MB | requests | RSS after MB |', '|---|---|---|---|');
    for (const [n, r] of Object.entries(m)) lines.push(`| ${n} | ${r.rssAfterWarmupMb} | ${r.requests} | ${r.rssAfterMb} |`);
  }
  if (result.soak)
    lines.push('', `soak: ${result.soak.minutes} min mixed, RSS growth ${result.soak.growthMb} MB (${result.soak.samples.map((x) => x.rssMb).join(' → ')})`);
  return lines.join('\n');
}

process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});
try {
  startAll();
  await Promise.all(names().map((n) => waitUp(targets[n].health)));
  const load = (await import('node:os')).loadavg().map((v) => +v.toFixed(2));
  const small = wrkScript('small', JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'Say hello in five words.' }] }));
  const filler = 'lorem ipsum dolor sit amet '.repeat(Math.ceil((1024 * 1024) / 27)).slice(0, 1024 * 1024);
  const large = wrkScript('large', JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: filler }] }));
  // Warm every path (JIT, connection pools, tokenizer) before measuring.
  for (const n of names()) wrk(targets[n].url, { connections: 8, durationS: Math.min(2, opts.durationS), script: small });
  const result = { opts: { ...opts, only: [...opts.only] }, loadBefore: load, targets: names() };
  if (opts.only.has('throughput')) result.throughput = throughput(small);
  if (opts.only.has('stream')) {
    result.streaming = await streaming(0);
    result.streamingRamp = await streaming(opts.rampMs);
  }
  if (opts.only.has('large')) result.largePrompts = await largePrompts(large);
  if (opts.only.has('memory')) result.memory = memory(small);
  if (opts.soakMin > 0) result.soak = await soak(small, large);
  result.loadAfter = (await import('node:os')).loadavg().map((v) => +v.toFixed(2));
  result.table = table(result);
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(result, null, 2));
  console.log(`load average before ${result.loadBefore.join(' ')}, after ${result.loadAfter.join(' ')}; ${opts.rounds} rounds of ${opts.durationS} s\n`);
  console.log(result.table);
} finally {
  stopAll();
}
