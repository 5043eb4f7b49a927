// Clients in their own process (so their objects stay out of the test's heap), for
// test/proxy/stream-heap.test.ts: `node holding-client.ts <url> <streams>` opens that many
// streamed chat completions at once, tells the parent `held` once each has its first event,
// and `ended` once every one has ended.
import { Agent, request } from 'node:http';

const [url, count] = process.argv.slice(2);
const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
const body = JSON.stringify({ model: 'glm-4.7', stream: true, messages: [{ role: 'user', content: 'hold' }] });

function run(streams: number): void {
  let held = 0;
  let ended = 0;
  for (let i = 0; i < streams; i++) {
    const req = request(url!, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.once('data', () => {
        if (++held === streams) process.send?.('held');
      });
      res.on('end', () => {
        if (++ended === streams) process.send?.('ended');
      });
    });
    req.on('error', (err) => process.send?.(`error: ${err.message}`));
    req.end(body);
  }
}

process.on('message', () => run(Number(count)));
process.on('disconnect', () => process.exit(0));
process.send?.('ready');
