import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { metricValue } from '../support/metric-values.js';

const KEY = 'zai-test-key-3f9a1c77d2';

describe('official SDKs through the proxy, unchanged', () => {
  let sim: Simulator;
  let proxy: TestProxy;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    sim = await startSimulator({ scenario: { requiredKey: KEY, outputTokens: 12, cachedTokens: 3, streamChunks: 4 } });
    proxy = await startProxyFor(sim, {
      ZAI_API_KEY: KEY,
    });
    openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'client-side-placeholder', maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: proxy.url, apiKey: 'client-side-placeholder', maxRetries: 0 });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  it('OpenAI chat completion: content and usage arrive intact', async () => {
    const direct = await new OpenAI({ baseURL: sim.openaiBaseUrl, apiKey: KEY, maxRetries: 0 }).chat.completions.create({
      model: 'glm-4.7',
      messages: [{ role: 'user', content: 'hello there' }],
    });
    const viaProxy = await openai.chat.completions.create({ model: 'glm-4.7', messages: [{ role: 'user', content: 'hello there' }] });
    assert.equal(viaProxy.choices[0]!.message.content, direct.choices[0]!.message.content);
    assert.deepEqual(viaProxy.usage, direct.usage);
    assert.equal(viaProxy.usage!.completion_tokens, 12);
    assert.equal(viaProxy.usage!.prompt_tokens_details?.cached_tokens, 3);
  });

  it('OpenAI streaming: every chunk and the final usage arrive', async () => {
    const stream = await openai.chat.completions.create({
      model: 'glm-4.7',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.ok(chunks >= 4, `got ${chunks} chunks`);
    assert.ok(text.length > 0);
    assert.equal(usage?.completion_tokens, 12);
  });

  it('OpenAI models listing passes through', async () => {
    const models = await openai.models.list();
    const ids = models.data.map((m) => m.id);
    assert.ok(ids.includes('glm-4.7'), ids.join(','));
  });

  it('Anthropic message: content and usage arrive intact', async () => {
    const msg = await anthropic.messages.create({
      model: 'glm-4.7',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hello there' }],
    });
    assert.equal(msg.type, 'message');
    assert.equal(msg.usage.output_tokens, 12);
    assert.equal(msg.usage.cache_read_input_tokens, 3);
    assert.ok(msg.content.some((b) => b.type === 'text' && b.text.length > 0));
  });

  it('Anthropic streaming: events in order and the final cumulative usage', async () => {
    const stream = anthropic.messages.stream({
      model: 'glm-4.7',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'stream please' }],
    });
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    const final = await stream.finalMessage();
    assert.equal(types[0], 'message_start');
    assert.equal(types.at(-1), 'message_stop');
    assert.equal(final.usage.output_tokens, 12);
  });

  it('Anthropic count_tokens passes through', async () => {
    const counted = await anthropic.messages.countTokens({
      model: 'glm-4.7',
      messages: [{ role: 'user', content: 'count me' }],
    });
    assert.ok(counted.input_tokens > 0);
  });

  it('Anthropic models listing comes in the Anthropic shape (the client sends anthropic-version)', async () => {
    const page = await anthropic.models.list();
    const glm = page.data.find((m) => m.id === 'glm-4.7');
    assert.equal(glm?.type, 'model');
    assert.equal(glm?.display_name, 'GLM-4.7');
    assert.ok(!Number.isNaN(Date.parse(glm!.created_at)));
    assert.equal(page.has_more, false);
    const one = page.data[0]!;
    assert.equal((page as unknown as { first_id: string }).first_id, one.id);
  });

  it('OpenAI tool round trip: tool_calls streamed, the tool result answered, usage counted for both calls', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } } },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'look it up' }];
    const before = await metricValue(proxy.metrics, 'zai_proxy_tokens_total', { direction: 'output', model: 'glm-4.7' });
    const runner = openai.chat.completions.stream({ model: 'glm-4.7', messages, tools, stream_options: { include_usage: true } });
    const first = await runner.finalChatCompletion();
    const call = first.choices[0]!.message.tool_calls![0]!;
    assert.equal(first.choices[0]!.finish_reason, 'tool_calls');
    assert.ok(call.type === 'function' && call.function.name === 'lookup');
    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: 'found it' });
    const second = await openai.chat.completions.create({ model: 'glm-4.7', messages, tools });
    assert.equal(second.choices[0]!.finish_reason, 'stop');
    const after = await metricValue(proxy.metrics, 'zai_proxy_tokens_total', { direction: 'output', model: 'glm-4.7' });
    assert.equal(after - before, first.usage!.completion_tokens + second.usage!.completion_tokens);
  });

  it('Anthropic tool round trip with thinking: tool_use streamed, tool_result answered, usage counted for both calls', async () => {
    const tools: Anthropic.Tool[] = [{ name: 'lookup', input_schema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } }];
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'look it up' }];
    const before = await metricValue(proxy.metrics, 'zai_proxy_tokens_total', { direction: 'output', model: 'glm-4.7' });
    const first = await anthropic.messages
      .stream({ model: 'glm-4.7', max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 1024 }, tools, messages })
      .finalMessage();
    assert.equal(first.stop_reason, 'tool_use');
    assert.deepEqual(
      first.content.map((b) => b.type),
      ['thinking', 'tool_use'],
    );
    const use = first.content[1]!;
    assert.ok(use.type === 'tool_use');
    messages.push(
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'found it' }] },
    );
    const second = await anthropic.messages.create({ model: 'glm-4.7', max_tokens: 4096, tools, messages });
    assert.equal(second.stop_reason, 'end_turn');
    const after = await metricValue(proxy.metrics, 'zai_proxy_tokens_total', { direction: 'output', model: 'glm-4.7' });
    assert.equal(after - before, first.usage.output_tokens + second.usage.output_tokens);
  });

  it('replaces the client credential with the operator key, in the header each flavour expects', async () => {
    const auth = sim.stats().lastAuth;
    const openaiAuth = Object.entries(auth).find(([route]) => route.includes('chat/completions'))?.[1];
    const anthropicAuth = Object.entries(auth).find(([route]) => route.endsWith('/v1/messages'))?.[1];
    assert.equal(openaiAuth?.authorization, `Bearer ${KEY}`);
    assert.equal(openaiAuth?.['x-api-key'], undefined);
    assert.equal(anthropicAuth?.['x-api-key'], KEY);
    assert.equal(anthropicAuth?.authorization, undefined);
  });

  it('never writes the key to logs or metrics', async () => {
    const metrics = await proxy.metricsText();
    assert.ok(!metrics.includes(KEY));
    assert.ok(!proxy.logs().includes(KEY));
    assert.ok(proxy.logs().includes('"route":"/v1/messages"'), 'access lines are written');
  });
});
