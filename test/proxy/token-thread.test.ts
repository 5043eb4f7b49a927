import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { startTestProxy } from '../support/proxy.js';
import { metricValue } from '../support/metric-values.js';

// The tokenizer is tens of megabytes in some hundred thousand objects: in the proxy's heap,
// every full collection marked them, and came more often, pausing every stream in flight.
// The proxy runs in this thread here, in front of an upstream that reports no usage (the
// simulator would count its prompts with the tokenizer in this thread too).
test('the proxy estimates usage with the tokenizer on its own thread, never in its own heap', async () => {
  const upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {"choices":[{"index":0,"delta":{"content":"Hello there, how are you?"}}]}\n\ndata: [DONE]\n\n');
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/api/paas/v4`;
  const proxy = await startTestProxy({ ZAI_OPENAI_BASE_URL: base, RATE_LIMIT_ENABLED: 'false', MAX_RETRIES: '0' });
  try {
    const res = await request(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'glm-4.7', stream: true, messages: [{ role: 'user', content: 'Say hello in five words.' }] }),
    });
    assert.match(await res.body.text(), /Hello there/);
    const output = () => metricValue(proxy.metrics, 'zai_proxy_tokens_total', { model: 'glm-4.7', direction: 'output' });
    for (let i = 0; i < 200 && (await output()) === 0; i++) await sleep(25);
    assert.equal(await output(), 7, 'the answer was counted (cl100k: 7 tokens)');
    assert.equal(await metricValue(proxy.metrics, 'zai_proxy_usage_source_total', { source: 'estimated' }), 1);
    const loadedHere = Object.keys(createRequire(import.meta.url).cache).filter((path) => path.includes('gpt-tokenizer'));
    assert.deepEqual(loadedHere, [], 'no tokenizer module in the thread the proxy runs on');
  } finally {
    await proxy.close();
    upstream.close();
  }
});
