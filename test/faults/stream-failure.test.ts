import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { request } from 'undici';
import { startSimulator, type Simulator, type SimFault } from '../../src/sim/index.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { metricValue } from '../support/metric-values.js';
import { rawExchange, rawPost } from '../support/raw-http.js';

/**
 * A stream that breaks after it reached the client must not look complete: the client gets an
 * error event in its own dialect and then an aborted transfer, so both SDKs and plain HTTP
 * clients raise. Covers an upstream reset and an upstream that goes silent (idle timeout).
 */
const KEY = 'zai-operator-key-stream-failure-77ab';
const BODY_TIMEOUT_MS = 400;

describe('a stream cut or stalled mid-way fails visibly', () => {
  let sim: Simulator;
  let proxy: TestProxy;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    sim = await startSimulator({ scenario: { streamChunks: 6 } });
    proxy = await startProxyFor(sim, {
      ZAI_API_KEY: KEY,
      RATE_LIMIT_ENABLED: 'false',
      MAX_RETRIES: '0',
      UPSTREAM_BODY_TIMEOUT: `${BODY_TIMEOUT_MS}ms`,
    });
    openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'placeholder', maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: proxy.url, apiKey: 'placeholder', maxRetries: 0 });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  const faults: [string, SimFault][] = [
    ['reset', { kind: 'resetMidStream', afterChunks: 2 }],
    ['stall', { kind: 'stallMidStream', afterChunks: 2 }],
  ];

  for (const [name, fault] of faults) {
    it(`OpenAI SDK raises on a ${name} mid-stream, after the chunks that did arrive`, async () => {
      sim.setScenario({ faults: [fault] });
      const before = await metricValue(proxy.metrics, 'zai_proxy_upstream_errors_total', { error_type: 'stream_aborted' });
      const disconnects = await metricValue(proxy.metrics, 'zai_proxy_client_disconnects_total');
      const stream = await openai.chat.completions.create({ model: 'glm-4.7', messages: [{ role: 'user', content: 'hi' }], stream: true });
      let text = '';
      await assert.rejects(async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      }, /interrupted|terminated|aborted|other side closed/i);
      assert.ok(text.length > 0, 'the chunks before the cut were delivered');
      assert.equal(await metricValue(proxy.metrics, 'zai_proxy_upstream_errors_total', { error_type: 'stream_aborted' }), before + 1);
      assert.equal(await metricValue(proxy.metrics, 'zai_proxy_client_disconnects_total'), disconnects, 'the proxy cut it, not the client');
    });

    it(`Anthropic SDK raises on a ${name} mid-stream`, async () => {
      sim.setScenario({ faults: [fault] });
      const stream = await anthropic.messages.create({ model: 'glm-4.7', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true });
      const types: string[] = [];
      await assert.rejects(async () => {
        for await (const ev of stream) types.push(ev.type);
      }, /interrupted|terminated|aborted|other side closed/i);
      assert.ok(types.includes('content_block_delta'));
      assert.ok(!types.includes('message_stop'));
    });
  }

  it('a plain HTTP client sees the error event and an aborted chunked transfer (no terminating chunk)', async () => {
    sim.setScenario({ faults: [{ kind: 'resetMidStream', afterChunks: 2 }] });
    const res = await request(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'glm-4.7', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.statusCode, 200);
    let text = '';
    await assert.rejects(async () => {
      for await (const chunk of res.body) text += (chunk as Buffer).toString('utf8');
    });
    assert.match(text, /data: \{"error":\{"message":"The upstream stream was interrupted/);

    sim.setScenario({ faults: [{ kind: 'resetMidStream', afterChunks: 2 }] });
    const raw = await rawExchange(
      proxy.url,
      rawPost('/v1/messages', { model: 'glm-4.7', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'hi' }] }, { keepAlive: true }),
    );
    assert.match(raw, /^HTTP\/1\.1 200/);
    assert.match(raw, /event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
    assert.ok(!raw.endsWith('0\r\n\r\n'), 'no terminating zero-length chunk');
  });

  it('serves normally afterwards', async () => {
    sim.setScenario({ faults: [] });
    const stream = await openai.chat.completions.create({ model: 'glm-4.7', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let n = 0;
    for await (const _ of stream) n++;
    assert.ok(n >= 6);
  });
});
