import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { MAX_MODEL_LABELS } from '../../src/metrics/labels.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { metricValue } from '../support/metric-values.js';

/**
 * Token accounting end to end: the simulator reports known usage, the proxy's counters must
 * hold exactly those numbers per direction, model and variant.
 */
describe('token accounting through the proxy', () => {
  let sim: Simulator;
  let proxy: TestProxy;

  before(async () => {
    sim = await startSimulator({ scenario: { outputTokens: 7, cachedTokens: 0, streamChunks: 3 } });
    proxy = await startProxyFor(sim, {
      DEPLOYMENT_VARIANT: 'canary',
      RATE_LIMIT_ENABLED: 'false',
      MAX_RETRIES: '0',
    });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  const call = async (path: string, body: Record<string, unknown>) => {
    const res = await request(`${proxy.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.body.text();
    return { res, text };
  };
  const tokens = (model: string, direction: string) => metricValue(proxy.metrics, 'zai_proxy_tokens_total', { model, direction, variant: 'canary' });

  it('counts reported OpenAI usage, with cached prompt tokens as cache_read and never twice', async () => {
    sim.setScenario({ cachedTokens: 4, outputTokens: 7 });
    const { res, text } = await call('/v1/chat/completions', { model: 'GLM-4.7-Acct', messages: [{ role: 'user', content: 'count this prompt please' }] });
    const usage = JSON.parse(text).usage;
    assert.equal(res.headers['x-zai-proxy-usage-source'], 'reported');
    assert.equal(res.headers['x-zai-proxy-input-tokens'], String(usage.prompt_tokens));
    assert.equal(res.headers['x-zai-proxy-output-tokens'], '7');
    assert.equal(await tokens('glm-4.7-acct', 'input'), usage.prompt_tokens - 4);
    assert.equal(await tokens('glm-4.7-acct', 'cache_read'), 4);
    assert.equal(await tokens('glm-4.7-acct', 'output'), 7);
    assert.equal(await metricValue(proxy.metrics, 'zai_proxy_usage_source_total', { source: 'reported' }), 1);
    const cost = await metricValue(proxy.metrics, 'zai_proxy_estimated_cost_usd_total', { model: 'glm-4.7-acct', direction: 'output' });
    assert.ok(cost > 0);
  });

  it('counts a streamed OpenAI answer from its final usage chunk', async () => {
    sim.setScenario({ cachedTokens: 0, outputTokens: 9 });
    const { text } = await call('/v1/chat/completions', { model: 'glm-stream-o', stream: true, messages: [{ role: 'user', content: 'x' }] });
    assert.ok(text.includes('[DONE]'));
    const usageLine = text
      .split('\n')
      .filter((l) => l.includes('"usage"'))
      .at(-1)!;
    const usage = JSON.parse(usageLine.slice(6)).usage;
    await waitForValue(() => tokens('glm-stream-o', 'output'), 9);
    assert.equal(await tokens('glm-stream-o', 'input'), usage.prompt_tokens);
  });

  it('counts Anthropic streams from the last cumulative message_delta, not a sum', async () => {
    sim.setScenario({ outputTokens: 11, cachedTokens: 2, cacheCreationTokens: 5, streamChunks: 4 });
    const { text } = await call('/v1/messages', { model: 'glm-stream-a', stream: true, max_tokens: 50, messages: [{ role: 'user', content: 'x' }] });
    assert.ok((text.match(/event: message_delta/g) ?? []).length >= 2, 'the simulator sends cumulative deltas');
    await waitForValue(() => tokens('glm-stream-a', 'output'), 11);
    assert.equal(await tokens('glm-stream-a', 'cache_read'), 2);
    assert.equal(await tokens('glm-stream-a', 'cache_write'), 5);
  });

  it('estimates a stream that reports no usage, and says so', async () => {
    sim.setScenario({ streamUsage: 'none', cachedTokens: 0, cacheCreationTokens: 0 });
    const before = await metricValue(proxy.metrics, 'zai_proxy_usage_source_total', { source: 'estimated' });
    await call('/v1/chat/completions', { model: 'glm-no-usage', stream: true, messages: [{ role: 'user', content: 'estimate the tokens of this prompt' }] });
    await waitForValue(() => metricValue(proxy.metrics, 'zai_proxy_usage_source_total', { source: 'estimated' }), before + 1);
    assert.ok((await tokens('glm-no-usage', 'input')) > 0);
    assert.ok((await tokens('glm-no-usage', 'output')) > 0);
    sim.setScenario({ streamUsage: 'final_chunk' });
  });

  it('does not count count_tokens or model listings as consumption', async () => {
    const beforeTotal = await metricValue(proxy.metrics, 'zai_proxy_tokens_total');
    const beforeSources = await metricValue(proxy.metrics, 'zai_proxy_usage_source_total');
    await call('/v1/messages/count_tokens', { model: 'glm-4.7', messages: [{ role: 'user', content: 'how many' }] });
    await (await request(`${proxy.url}/v1/models`)).body.dump();
    assert.equal(await metricValue(proxy.metrics, 'zai_proxy_tokens_total'), beforeTotal);
    assert.equal(await metricValue(proxy.metrics, 'zai_proxy_usage_source_total'), beforeSources);
  });

  it('keeps the model label set bounded under a flood of names', async () => {
    for (let i = 0; i < MAX_MODEL_LABELS + 20; i++) {
      await call('/v1/chat/completions', { model: `glm-flood-${i}`, messages: [{ role: 'user', content: 'x' }] });
    }
    const data = await proxy.metrics.zai_proxy_tokens_total.get();
    const models = new Set(data.values.map((v) => String(v.labels.model)));
    assert.ok(models.size <= MAX_MODEL_LABELS + 1, `${models.size} model labels`);
    assert.ok(models.has('other'));
  });
});

/** Accounting settles after the answer is sent; wait for it by polling a bounded number of times. */
async function waitForValue(read: () => Promise<number>, want: number): Promise<void> {
  let last = NaN;
  for (let i = 0; i < 500; i++) {
    last = await read();
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(last, want);
}

describe('token accounting edge cases', () => {
  it('counts a stream cut mid-way once, from its partial output, and nothing when estimation is off', async () => {
    const sim = await startSimulator({ scenario: { streamUsage: 'final_chunk', streamChunks: 6 } });
    const estimating = await startProxyFor(sim, { RATE_LIMIT_ENABLED: 'false', MAX_RETRIES: '0' });
    const silent = await startProxyFor(sim, { RATE_LIMIT_ENABLED: 'false', MAX_RETRIES: '0', TOKEN_COUNTING_ENABLED: 'Off' });
    try {
      for (const proxy of [estimating, silent]) {
        // The stream dies after three content chunks, before the usage chunk.
        sim.setScenario({ faults: [{ kind: 'resetMidStream', afterChunks: 3 }] });
        const res = await request(`${proxy.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'glm-cut', stream: true, messages: [{ role: 'user', content: 'a prompt to estimate' }] }),
        });
        let text = '';
        await assert.rejects(async () => {
          for await (const chunk of res.body) text += (chunk as Buffer).toString('utf8');
        }, 'the proxy aborts the transfer of a cut stream');
        assert.ok(!text.includes('[DONE]'), 'the stream was cut');
      }
      const sources = (proxy: TestProxy, source: string) => metricValue(proxy.metrics, 'zai_proxy_usage_source_total', { source });
      await waitForValue(() => sources(estimating, 'estimated'), 1);
      assert.equal(await sources(estimating, 'reported'), 0);
      const output = await metricValue(estimating.metrics, 'zai_proxy_tokens_total', { model: 'glm-cut', direction: 'output' });
      assert.ok(output > 0 && output < 20, `partial output estimated: ${output} tokens`);
      await waitForValue(() => sources(silent, 'none'), 1);
      assert.equal(await metricValue(silent.metrics, 'zai_proxy_tokens_total'), 0, 'TOKEN_COUNTING_ENABLED=Off estimates nothing');
      assert.equal(await metricValue(estimating.metrics, 'zai_proxy_upstream_errors_total', { error_type: 'stream_aborted' }), 1);
    } finally {
      await estimating.close();
      await silent.close();
      await sim.close();
    }
  });
});
