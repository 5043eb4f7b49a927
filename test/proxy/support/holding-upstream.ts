// An upstream in its own process (so its objects stay out of the test's heap), for
// test/proxy/upstream-call.test.ts and stream-heap.test.ts: every request is answered with a
// few headers and one event, then held open until the parent sends any message, which ends
// them all with a usage event and the end of the stream.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const open = new Set<ServerResponse>();
const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'r'.repeat(32), 'x-a': '1', 'x-b': '2', 'x-c': '3' });
  res.write('data: {"choices":[]}\n\n');
  open.add(res);
});
server.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port));
process.on('message', () => {
  for (const res of open) res.end('data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\ndata: [DONE]\n\n');
  open.clear();
});
process.on('disconnect', () => process.exit(0));
