// A lean stand-in for Z.AI that every target shares, so the bench measures the servers in
// front of it rather than the simulator's own work. OpenAI-shaped chat completions:
//   - plain JSON answer with usage (the common case);
//   - `?nousage=1`: the same without usage, so the proxy's estimator has to count the prompt;
//   - `"stream": true`: `?chunks=N&interval=MS` SSE chunks, each stamped with the time it was
//     written (`"t"`, ms on the shared wall clock) so a client can tell what the path added.
// Usage: node bench/upstream.mjs <port>
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const usage = '"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}';
const answer = (withUsage) =>
  `{"id":"bench","object":"chat.completion","created":1,"model":"glm-4.7","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, how are you?"},"finish_reason":"stop"}]${withUsage ? `,${usage}` : ''}}`;
const WITH_USAGE = answer(true);
const WITHOUT_USAGE = answer(false);

async function stream(res, chunks, interval) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (let i = 0; i < chunks; i++) {
    if (i > 0) await sleep(interval);
    if (res.destroyed) return;
    res.write(
      `data: {"id":"bench","object":"chat.completion.chunk","model":"glm-4.7","t":${now().toFixed(3)},"choices":[{"index":0,"delta":{"content":"tok${i} "}}]}\n\n`,
    );
  }
  res.end(
    `data: {"id":"bench","object":"chat.completion.chunk","model":"glm-4.7","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],${usage}}\n\ndata: [DONE]\n\n`,
  );
}

createServer((req, res) => {
  let size = 0;
  let head = '';
  req.on('data', (c) => {
    if (size < 256) head += c.toString('latin1', 0, Math.min(c.length, 256));
    size += c.length;
  });
  req.on('end', () => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'GET') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    if (/"stream"\s*:\s*true/.test(head)) {
      return void stream(res, Number(url.searchParams.get('chunks') ?? 50), Number(url.searchParams.get('interval') ?? 20));
    }
    const body = url.searchParams.get('nousage') ? WITHOUT_USAGE : WITH_USAGE;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}).listen(port, '127.0.0.1');
