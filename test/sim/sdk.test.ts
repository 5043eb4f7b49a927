import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { after, before, describe, it } from 'node:test';
import { promptTokensFor, simContent, startSimulator, type Simulator } from '../../src/sim/index.js';

// The official clients, unchanged, must accept what the simulator sends: the proxy tests
// put the proxy between them, so any incompatibility here would be blamed on the proxy.
describe('official SDKs against the simulator directly', () => {
  let sim: Simulator;
  const messages = [{ role: 'user' as const, content: 'hi' }];
  const prompt = promptTokensFor({ messages });
  before(async () => {
    sim = await startSimulator({ scenario: { outputTokens: 8, cachedTokens: 2, cacheCreationTokens: 1, streamChunks: 4 } });
  });
  after(() => sim.close());

  it('openai: completion and stream', async () => {
    const client = new OpenAI({ apiKey: 'k', baseURL: sim.openaiBaseUrl, maxRetries: 0 });
    const c = await client.chat.completions.create({ model: 'glm-4.7', messages });
    assert.equal(c.choices[0]?.message.content, simContent(4));
    assert.equal(c.usage?.prompt_tokens_details?.cached_tokens, 2);
    const stream = await client.chat.completions.create({ model: 'glm-4.7', messages, stream: true });
    let text = '';
    let completion = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) completion = chunk.usage.completion_tokens;
    }
    assert.equal(text, simContent(4));
    assert.equal(completion, 8);
  });

  it('anthropic: message and stream with cumulative usage', async () => {
    const client = new Anthropic({ apiKey: 'k', baseURL: sim.anthropicBaseUrl, maxRetries: 0 });
    const m = await client.messages.create({ model: 'glm-4.7', max_tokens: 50, messages });
    assert.equal(m.content[0]?.type === 'text' ? m.content[0].text : '', simContent(4));
    const stream = client.messages.stream({ model: 'glm-4.7', max_tokens: 50, messages });
    const final = await stream.finalMessage();
    assert.equal(final.content[0]?.type === 'text' ? final.content[0].text : '', simContent(4));
    assert.equal(final.usage.output_tokens, 8);
    assert.equal(final.stop_reason, 'end_turn');
    const count = await client.messages.countTokens({ model: 'glm-4.7', messages });
    assert.equal(count.input_tokens, prompt);
  });
});
