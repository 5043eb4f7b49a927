// Preloaded into a proxy child process (spawnProxy's `memoryProbe` option: node --expose-gc
// --no-concurrent-array-buffer-sweeping --import this file) to measure the memory the process
// keeps alive, not what the allocator happens to hold: each sample runs a full garbage
// collection first, and array buffers are swept before gc() returns, so a sample is the
// process's live memory whatever the machine's load or the collector's timing. RSS is not a
// measure of that: garbage awaiting collection and freed pages malloc keeps both count in it.
//
// A loopback HTTP server of its own (unref'd, so it never keeps the process up) answers:
//   GET /sample  one sample now
//   POST /watch  start sampling every 200 ms, forgetting earlier peaks
//   GET /peak    the largest of each field since /watch (and stop sampling)
// Its URL is the first line on stdout: {"memoryProbe":"http://127.0.0.1:<port>"}.
import { createServer } from 'node:http';

if (typeof globalThis.gc !== 'function') throw new Error('memory-probe needs node --expose-gc');

const FIELDS = ['arrayBuffers', 'heapUsed', 'external', 'rss'];
// A full collection of the proxy's heap takes tens of milliseconds on a loaded machine: sampled
// more often, the proxy would do little else.
const WATCH_INTERVAL_MS = 200;

function sample() {
  globalThis.gc();
  const usage = process.memoryUsage();
  return Object.fromEntries(FIELDS.map((f) => [f, usage[f]]));
}

let peak;
let timer;
const watchTick = () => {
  const s = sample();
  for (const f of FIELDS) peak[f] = Math.max(peak[f], s[f]);
};

const server = createServer((req, res) => {
  let answer;
  if (req.method === 'GET' && req.url === '/sample') answer = sample();
  else if (req.method === 'POST' && req.url === '/watch') {
    clearInterval(timer);
    peak = sample();
    timer = setInterval(watchTick, WATCH_INTERVAL_MS);
    timer.unref();
    answer = peak;
  } else if (req.method === 'GET' && req.url === '/peak' && peak) {
    clearInterval(timer);
    watchTick();
    answer = peak;
  } else {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ memoryProbe: `http://127.0.0.1:${server.address().port}` })}\n`);
});
server.unref();
