import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { collector, objectBytes } from '../support/heap.js';
import { startTestProxy } from '../support/proxy.js';

const support = (name: string, args: string[] = []) => fork(join(import.meta.dirname, 'support', name), args, { execArgv: ['--import', 'tsx'] });

async function message(child: ChildProcess, expected: string): Promise<void> {
  const [got] = (await once(child, 'message')) as [string];
  assert.equal(got, expected);
}

test('a stream in flight keeps little of the proxy heap: no request-path frame waits on it, no closure of its body reader stays', async () => {
  // Every young collection copies what the streams in flight keep alive, and promotes it:
  // with 200 streams that sets the tail of the delay each chunk meets.
  const gc = collector();
  const upstream = support('holding-upstream.ts');
  const streams = 300;
  const [port] = (await once(upstream, 'message')) as [number];
  const proxy = await startTestProxy({
    ZAI_OPENAI_BASE_URL: `http://127.0.0.1:${port}/api/paas/v4`,
    UPSTREAM_CONNECTIONS: String(2 * streams),
    RATE_LIMIT_INITIAL: '1000000',
    RATE_LIMIT_MAX: '1000000',
    MAX_WORKERS: String(2 * streams),
    QUEUE_MAX: '10000',
  });
  const clients = support('holding-client.ts', [`${proxy.url}/v1/chat/completions`, String(streams)]);
  try {
    await message(clients, 'ready');
    const hold = async () => {
      clients.send('go');
      await message(clients, 'held');
    };
    const end = async () => {
      upstream.send('end');
      await message(clients, 'ended');
    };
    // Twice first: every connection of the pool open and idle, the code paths compiled.
    for (let i = 0; i < 2; i++) {
      await hold();
      await end();
    }
    gc();
    const before = objectBytes();
    await hold();
    gc();
    const perStream = (objectBytes() - before) / streams;
    await end();
    // 9.1–10.8 KB here (client and upstream sockets included); 12.1–12.8 KB while the request
    // body's listeners were closures of their own, kept as long as the request; 14.9–17.0 KB
    // while the request handler, the forwarder, its attempt and the stream relay each awaited
    // the end of the stream.
    assert.ok(perStream < 11_500, `${perStream.toFixed(0)} bytes of JS heap per stream in flight`);
  } finally {
    clients.kill();
    upstream.kill();
    await proxy.close();
  }
});
