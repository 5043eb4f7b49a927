// Opens many concurrent streams against one target and reports, per stream, the time to first
// byte and, per chunk, the delay between the upstream writing it (its "t" stamp) and its
// arrival here. A socket read holding more than one stamped chunk means something on the path
// held chunks back and sent them together (coalescing). The streams open at once, or with
// <ramp ms> evenly spread over that many milliseconds.
// Usage: node bench/stream-client.mjs <url> <streams> <chunks> <interval ms> [ramp ms]  → JSON on stdout
import { request, Agent } from 'node:http';
import { quantile } from './lib/stats.mjs';

const [url, streamsArg, chunksArg, intervalArg, rampArg = '0'] = process.argv.slice(2);
const streams = Number(streamsArg);
const chunks = Number(chunksArg);
const interval = Number(intervalArg);
const ramp = Number(rampArg);
const now = () => performance.timeOrigin + performance.now();
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
const body = JSON.stringify({ model: 'glm-4.7', stream: true, messages: [{ role: 'user', content: 'Stream me something.' }] });
const target = new URL(url);
target.searchParams.set('chunks', String(chunks));
target.searchParams.set('interval', String(interval));
const STAMP = /"t":([\d.]+)/g;

function one() {
  return new Promise((resolve, reject) => {
    const sent = now();
    const result = { ttfbMs: NaN, delays: [], coalesced: 0, stamped: 0, status: 0 };
    const req = request(
      target,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        result.status = res.statusCode;
        res.setEncoding('latin1');
        res.on('data', (text) => {
          const at = now();
          if (Number.isNaN(result.ttfbMs)) result.ttfbMs = at - sent;
          let inRead = 0;
          for (const m of text.matchAll(STAMP)) {
            result.delays.push(at - Number(m[1]));
            inRead++;
          }
          result.stamped += inRead;
          if (inRead > 1) result.coalesced += inRead - 1;
        });
        res.on('end', () => resolve(result));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const startAfter = (i) => (ramp > 0 ? new Promise((r) => setTimeout(r, (i * ramp) / streams)).then(one) : one());
const results = await Promise.all(Array.from({ length: streams }, (_, i) => startAfter(i)));
const ttfb = results.map((r) => r.ttfbMs);
const delays = results.flatMap((r) => r.delays);
const r3 = (v) => +v.toFixed(3);
// Every delay in DELAY_BIN_MS bins, [bin, count] for the bins hit: the runner pools them over
// rounds, so a tail quantile can be read from all of a target's chunks at once.
const DELAY_BIN_MS = 0.1;
const bins = new Map();
for (const d of delays) {
  const b = Math.max(0, Math.round(d / DELAY_BIN_MS));
  bins.set(b, (bins.get(b) ?? 0) + 1);
}
process.stdout.write(
  JSON.stringify({
    streams,
    failed: results.filter((r) => r.status !== 200 || r.stamped !== chunks).length,
    ttfbMs: { p50: r3(quantile(ttfb, 0.5)), p99: r3(quantile(ttfb, 0.99)), max: r3(Math.max(...ttfb)) },
    chunkDelayMs: { p50: r3(quantile(delays, 0.5)), p99: r3(quantile(delays, 0.99)), max: r3(Math.max(...delays)) },
    coalescedChunks: results.reduce((a, r) => a + r.coalesced, 0),
    chunks: delays.length,
    delayBins: { widthMs: DELAY_BIN_MS, counts: [...bins].sort((a, b) => a[0] - b[0]) },
  }),
);
