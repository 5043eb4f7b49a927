// Instructions per request: the proxy against the bare relay, counted by valgrind's callgrind
// instead of timed. Counts do not depend on what else the machine is doing, so changes of 1 %
// show where wall-clock rounds (npm run bench) spread by 10 % or more. They count user-space
// instructions only: not the kernel's socket work (the same for every target: two reads and
// two writes a request), not cache misses. Method: bench/README.md.
//
// Usage: npm run bench:instructions -- [--requests 3000] [--rounds 8] [--warm 15000]
//   [--concurrency 32] [--compare DIR] [--only bare,proxy,proxyWarn] [--out FILE]
//   [--stream CHUNKS]: streamed answers instead: every round counts `--requests` streams of one
//   chunk and as many of CHUNKS chunks (written --interval ms apart, default 20), and reports
//   instructions per stream (its start, first chunk and end) and per further chunk. Then, in
//   rounds of their own, up to 200 streams counted only to their first byte (a start alone:
//   what a burst of streams waits on for its first bytes), each held open --hold ms (default
//   20000) after it, on the connections the round before left open; with --fresh-connections,
//   on none (the upstream's idle ones closed first, as between the rounds of `npm run bench`).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { start, stopAll, waitUp } from './lib/processes.mjs';
import { benchProxyEnv } from './lib/proxy-env.mjs';
import { fmt, median, spread } from './lib/stats.mjs';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = argv.indexOf(name);
  return i === -1 ? fallback : argv[i + 1];
};
const opts = {
  requests: Number(flag('--requests', 3000)),
  rounds: Number(flag('--rounds', 8)),
  warm: Number(flag('--warm', 15_000)),
  concurrency: Number(flag('--concurrency', 32)),
  compare: flag('--compare', undefined),
  only: flag('--only', undefined)?.split(','),
  stream: flag('--stream') && Number(flag('--stream')),
  interval: Number(flag('--interval', 20)),
  hold: Number(flag('--hold', 20_000)),
  freshConnections: argv.includes('--fresh-connections'),
  out: flag('--out', undefined),
};
opts.out ??= `${root}bench/results/${opts.stream ? 'instructions-stream' : 'instructions'}.json`;
// Under valgrind a target runs ~50 times slower, so the pauses between rounds look to V8 like
// idle time: its memory reducer then collects the old generation and old bytecode is flushed
// and recompiled, which at full speed under steady load does not happen (one full collection
// in 60,000 requests, measured with --trace-gc). Both flags only keep that artefact out.
const NODE_FLAGS = ['--no-memory-reducer', '--no-flush-bytecode'];
// The first rounds still see V8 compiling the hot paths; they are counted but not used.
const SETTLING_ROUNDS = opts.rounds > 2 ? 2 : 0;

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('valgrind is not installed (apt-get install valgrind)');
  process.exit(2);
}

let nextPort = 19500 + (process.pid % 40) * 8;
const port = () => nextPort++;
const upstreamPort = port();
const upstreamBase = `http://127.0.0.1:${upstreamPort}`;
const BODY = JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'Say hello in five words.' }] });
const STREAM_BODY = JSON.stringify({ model: 'glm-4.7', stream: true, messages: [{ role: 'user', content: 'Stream me something.' }] });
const work = mkdtempSync(join(tmpdir(), 'zai-instructions-'));

/** Every target: how to start it, where its chat route is. */
function targetSpecs() {
  const proxy = (dir, env) => ({
    args: [`${dir}/bin/zai-proxy`, 'serve'],
    cwd: dir,
    path: '/v1/chat/completions',
    env: { ...benchProxyEnv(upstreamBase), ...env },
  });
  const all = {
    bare: { args: [`${root}bench/bare-passthrough.mjs`, '{port}', upstreamBase], path: '/api/paas/v4/chat/completions', env: {} },
    proxy: proxy(root, { LOG_LEVEL: 'info' }),
    proxyWarn: proxy(root, { LOG_LEVEL: 'warn' }),
    ...(opts.compare ? { base: proxy(opts.compare, { LOG_LEVEL: 'info' }) } : {}),
  };
  const names = opts.only ?? Object.keys(all);
  if (!names.includes('bare')) names.unshift('bare');
  return Object.fromEntries(names.map((n) => [n, all[n]]));
}

/**
 * Exactly `n` POSTs, `concurrency` at a time, each answered before the next on its lane; with
 * `chunks`, streamed answers of that many chunks.
 */
async function load(pool, path, n, chunks) {
  let left = n;
  let failed = 0;
  const body = chunks ? STREAM_BODY : BODY;
  if (chunks) path = `${path}?chunks=${chunks}&interval=${opts.interval}`;
  const lane = async () => {
    while (left-- > 0) {
      const r = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await r.body.arrayBuffer();
      if (r.statusCode !== 200) failed++;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  return failed;
}

/**
 * Before each count of starts: time for the last round's ends to be done with, or, for fresh
 * connections, longer than the bench upstream's keep-alive (5 s), so that none is left open.
 */
const SETTLE_MS = opts.freshConnections ? 6_000 : 500;
/** At most this many streams held at once: under the bench proxy's MAX_WORKERS, so none queues. */
const FIRST_BYTE_STREAMS = Math.min(opts.requests, 200);
/**
 * FIRST_BYTE_STREAMS streams, `concurrency` at a time, each held open once its first chunk is
 * in and the next opened; resolves to `ended` once every first chunk has arrived. Each
 * stream's second chunk, and its end, come `--hold` ms later: `ended()` waits for them and
 * refuses the count if any came while `counting()` was still true (ends counted as starts).
 */
async function firstBytes(client, path, counting) {
  const ends = [];
  let early = 0;
  let left = FIRST_BYTE_STREAMS;
  const lane = async () => {
    while (left-- > 0) {
      const r = await client.request({
        path: `${path}?chunks=2&interval=${opts.hold}`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: STREAM_BODY,
      });
      let chunks = 0;
      const first = new Promise((resolve, reject) => {
        r.body.on('error', reject);
        r.body.on('data', () => {
          if (++chunks === 1) resolve();
          else if (counting()) early++;
        });
      });
      ends.push(
        new Promise((resolve) => {
          r.body.on('end', () => resolve(r.statusCode === 200 && chunks > 1 ? 0 : 1));
          r.body.on('error', () => resolve(1));
        }),
      );
      await first;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  return async () => {
    const failed = (await Promise.all(ends)).reduce((a, f) => a + f, 0);
    if (early > 0) throw new Error(`${early} streams went on while their starts were counted: raise --hold`);
    return failed;
  };
}

/** The main thread's instruction count since the last zeroing (callgrind_control -e). */
function mainThreadInstructions(pid) {
  const out = execFileSync('callgrind_control', ['-e', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const m = /Th 1\s+([\d,]+)/.exec(out) ?? /Totals:\s+Ir\s*\n\s*([\d,]+)/.exec(out);
  if (!m) throw new Error(`no instruction count from callgrind_control: ${out}`);
  return Number(m[1].replaceAll(',', ''));
}

async function measure(name, spec) {
  const p = port();
  const args = spec.args.map((a) => a.replace('{port}', String(p)));
  const log = join(work, `${name}.log`);
  const child = start(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      '--smc-check=all-non-file',
      `--callgrind-out-file=${join(work, `${name}.out`)}`,
      `--log-file=${log}`,
      process.execPath,
      ...NODE_FLAGS,
      ...args,
    ],
    { cwd: spec.cwd, env: { PORT: String(p), ...spec.env } },
  );
  const origin = `http://127.0.0.1:${p}`;
  try {
    await waitUp(`${origin}/`, 1200);
  } catch (err) {
    console.error(readFileSync(log, 'utf8').slice(-2000));
    throw err;
  }
  const pool = new Pool(origin, { connections: opts.concurrency });
  // Instructions per request (or stream) while `work` runs: the count over the `n` it sends.
  const countWhile = async (work, n = opts.requests) => {
    execFileSync('callgrind_control', ['-z', String(child.pid)], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['-i', 'on', String(child.pid)], { stdio: 'ignore' });
    const result = await work();
    const count = mainThreadInstructions(child.pid) / n;
    execFileSync('callgrind_control', ['-i', 'off', String(child.pid)], { stdio: 'ignore' });
    return { count, result };
  };
  const counted = async (chunks) => {
    const { count, result } = await countWhile(() => load(pool, spec.path, opts.requests, chunks));
    failed += result;
    return count;
  };
  let startsPool;
  const countedStarts = async () => {
    let counting = true;
    const from = performance.now();
    startsPool ??= new Pool(origin, { connections: FIRST_BYTE_STREAMS });
    const { count, result: ended } = await countWhile(async () => {
      const ended = await firstBytes(startsPool, spec.path, () => counting);
      counting = false;
      return ended;
    }, FIRST_BYTE_STREAMS);
    const tookMs = performance.now() - from;
    failed += await ended();
    if (opts.freshConnections) {
      await startsPool.close();
      startsPool = undefined;
    }
    console.error(`${name}: starts counted in ${Math.round(tookMs)} ms (streams held ${opts.hold} ms)`);
    return count;
  };
  const perRequest = [];
  const perChunk = [];
  const perStart = [];
  let failed = await load(pool, spec.path, opts.stream ? opts.warm / 10 : opts.warm, opts.stream);
  if (opts.stream) failed += await load(pool, spec.path, opts.warm / 2, 1);
  for (let round = 0; round < opts.rounds; round++) {
    if (!opts.stream) {
      perRequest.push(await counted(undefined));
      continue;
    }
    const one = await counted(1);
    perRequest.push(one);
    perChunk.push(((await counted(opts.stream)) - one) / (opts.stream - 1));
  }
  // After the other rounds, not between them: the connections these open and close would
  // otherwise be set up and torn down inside their counts.
  if (opts.stream) await pool.close();
  for (let round = 0; opts.stream && round < opts.rounds; round++) {
    await sleep(SETTLE_MS);
    perStart.push(await countedStarts());
  }
  await (opts.stream ? startsPool?.close() : pool.close());
  child.kill('SIGTERM');
  await Promise.race([new Promise((r) => child.once('exit', r)), sleep(20_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
  const used = perRequest.slice(SETTLING_ROUNDS);
  const usedChunk = perChunk.slice(SETTLING_ROUNDS);
  const usedStart = perStart.slice(SETTLING_ROUNDS);
  console.error(`${name}: ${perRequest.map((v) => Math.round(v)).join(', ')} instructions/${opts.stream ? 'stream' : 'request'} by round`);
  if (opts.stream) {
    console.error(`${name}: ${perChunk.map((v) => Math.round(v)).join(', ')} instructions/further chunk by round`);
    console.error(`${name}: ${perStart.map((v) => Math.round(v)).join(', ')} instructions/stream to its first byte by round`);
  }
  return {
    perRequest: used,
    all: perRequest.map(Math.round),
    failed,
    median: median(used),
    ...(opts.stream ? { perChunk: usedChunk, chunkMedian: median(usedChunk), perStart: usedStart, startMedian: median(usedStart) } : {}),
  };
}

const up = start(process.execPath, [`${root}bench/upstream.mjs`, String(upstreamPort)]);
try {
  await waitUp(`${upstreamBase}/`);
  const results = {};
  for (const [name, spec] of Object.entries(targetSpecs())) results[name] = await measure(name, spec);
  const bare = results.bare;
  const inThousands = (v) => v / 1000;
  const thousands = (values) => spread(values.map(inThousands), 1);
  const rows = Object.entries(results).map(([name, r]) => ({
    name,
    thousands: thousands(r.perRequest),
    vsBare: spread(r.perRequest.map((v) => v / bare.median)),
    ...(opts.stream
      ? {
          chunk: thousands(r.perChunk),
          chunkVsBare: spread(r.perChunk.map((v) => v / bare.chunkMedian)),
          start: thousands(r.perStart),
          startOverBare: thousands(r.perStart.map((v) => v - bare.startMedian)),
        }
      : {}),
    failed: r.failed,
  }));
  const what = opts.stream ? `streams (of 1 and of ${opts.stream} chunks ${opts.interval} ms apart)` : 'requests';
  let table = `${opts.rounds} rounds of ${opts.requests} ${what} at c${opts.concurrency} after warming up; the first ${SETTLING_ROUNDS} not used\n\n`;
  if (opts.stream) {
    table += `| target | per stream of one chunk (thousands) | ÷ bare | per further chunk (thousands) | ÷ bare | to the first byte${opts.freshConnections ? ', fresh connections' : ''} (thousands) | − bare | non-2xx |\n|---|---|---|---|---|---|---|---|\n`;
    for (const r of rows)
      table += `| ${r.name} | ${fmt(r.thousands)} | ${fmt(r.vsBare)} | ${fmt(r.chunk)} | ${fmt(r.chunkVsBare)} | ${fmt(r.start)} | ${fmt(r.startOverBare)} | ${r.failed} |\n`;
  } else {
    table += '| target | instructions per request (thousands) | ÷ bare (median of bare) | non-2xx |\n|---|---|---|---|\n';
    for (const r of rows) table += `| ${r.name} | ${fmt(r.thousands)} | ${fmt(r.vsBare)} | ${r.failed} |\n`;
  }
  console.log(table);
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify({ opts, results, rows, table }, null, 2)}\n`);
} finally {
  up.kill();
  stopAll();
  rmSync(work, { recursive: true, force: true });
}
