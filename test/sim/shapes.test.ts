import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MODEL_NAMES, REASONING_TEXT, promptTokensFor, simContent, startSimulator, type Simulator } from '../../src/sim/index.js';
import { estimateTokensSync, promptText } from '../../src/accounting/estimate.js';
import { MESSAGES, anthropicStream, get, openaiStream, post } from './support.js';

describe('simulator answers both Z.AI shapes', () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator();
  });
  after(() => sim.close());
  beforeEach(() => {
    sim.resetScenario();
    sim.resetStats();
  });

  const prompt = promptTokensFor({ messages: MESSAGES });

  it("counts prompt tokens over system, tools and messages with the proxy's tokenizer", () => {
    assert.equal(prompt, estimateTokensSync(promptText({ messages: MESSAGES })));
    const withSystemAndTools = promptTokensFor({
      system: 'You are a careful assistant.',
      tools: [{ name: 'read_file', description: 'Reads a file', input_schema: { type: 'object', properties: { path: { type: 'string' } } } }],
      messages: MESSAGES,
    });
    assert.ok(withSystemAndTools > prompt + 10, `${withSystemAndTools} vs ${prompt}`);
  });

  it('OpenAI non-streaming: echoes the model, deterministic content, exact usage with cached tokens', async () => {
    sim.setScenario({ outputTokens: 7, cachedTokens: 3 });
    const r = await post(`${sim.openaiBaseUrl}/chat/completions`, { model: 'glm-4.6', messages: MESSAGES });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    const body = JSON.parse(r.text);
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, 'glm-4.6');
    assert.equal(body.choices[0].message.content, simContent(5));
    assert.equal(body.choices[0].finish_reason, 'stop');
    assert.deepEqual(body.usage, { prompt_tokens: prompt, completion_tokens: 7, total_tokens: prompt + 7, prompt_tokens_details: { cached_tokens: 3 } });
    assert.deepEqual(sim.stats().byOutcome, { ok: 1 });
  });

  it('serves the Coding Plan path too and records it as its own route', async () => {
    const r = await post(`${sim.url}/api/coding/paas/v4/chat/completions`, { model: 'glm-4.7', messages: MESSAGES });
    assert.equal(r.status, 200);
    assert.equal(sim.stats().byRoute['/api/coding/paas/v4/chat/completions'], 1);
  });

  it('OpenAI streaming: usage on the last content chunk by default, then [DONE]', async () => {
    sim.setScenario({ outputTokens: 9, cachedTokens: 2, streamChunks: 4 });
    const r = await post(`${sim.openaiBaseUrl}/chat/completions`, { model: 'glm-5', messages: MESSAGES, stream: true });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/event-stream/);
    const { chunks, done } = openaiStream(r.text);
    assert.equal(chunks.length, 4);
    assert.equal(done, true);
    assert.equal(chunks.map((c) => c.choices[0]!.delta.content).join(''), simContent(4));
    assert.ok(chunks.every((c) => c.model === 'glm-5' && c.object === 'chat.completion.chunk'));
    assert.deepEqual(
      chunks.map((c) => c.choices[0]!.finish_reason),
      [null, null, null, 'stop'],
    );
    assert.deepEqual(
      chunks.slice(0, 3).map((c) => c.usage),
      [undefined, undefined, undefined],
    );
    assert.deepEqual(chunks[3]!.usage, { prompt_tokens: prompt, completion_tokens: 9, total_tokens: prompt + 9, prompt_tokens_details: { cached_tokens: 2 } });
    assert.equal(sim.stats().chunksSent, 4);
  });

  it('OpenAI streaming: separate usage chunk with empty choices, or no usage at all', async () => {
    sim.setScenario({ streamUsage: 'separate_chunk', streamChunks: 2 });
    let events = openaiStream((await post(`${sim.openaiBaseUrl}/chat/completions`, { model: 'glm-4.7', messages: MESSAGES, stream: true })).text);
    assert.equal(events.chunks.length, 3);
    assert.equal(events.done, true);
    assert.equal(events.chunks[1]!.usage, undefined);
    assert.deepEqual(events.chunks[2]!.choices, []);
    assert.equal(events.chunks[2]!.usage?.completion_tokens, 20);

    sim.setScenario({ streamUsage: 'none' });
    events = openaiStream((await post(`${sim.openaiBaseUrl}/chat/completions`, { model: 'glm-4.7', messages: MESSAGES, stream: true })).text);
    assert.equal(events.chunks.length, 2);
    assert.equal(events.done, true);
    assert.ok(events.chunks.every((e) => e.usage === undefined));
  });

  it('OpenAI reasoning arrives as reasoning_content before the content', async () => {
    sim.setScenario({ reasoning: true, streamChunks: 2 });
    const events = openaiStream((await post(`${sim.openaiBaseUrl}/chat/completions`, { model: 'glm-4.7', messages: MESSAGES, stream: true })).text).chunks;
    assert.equal(
      events
        .slice(0, 2)
        .map((e) => e.choices[0]!.delta.reasoning_content)
        .join(''),
      REASONING_TEXT,
    );
    assert.equal(
      events
        .slice(2, 4)
        .map((e) => e.choices[0]!.delta.content)
        .join(''),
      simContent(2),
    );
    const plain = JSON.parse((await post(`${sim.openaiBaseUrl}/chat/completions`, { model: 'glm-4.7', messages: MESSAGES })).text);
    assert.equal(plain.choices[0].message.reasoning_content, REASONING_TEXT);
  });

  it('Anthropic non-streaming: usage with cache read and creation', async () => {
    sim.setScenario({ outputTokens: 11, cachedTokens: 4, cacheCreationTokens: 6 });
    const r = await post(`${sim.anthropicBaseUrl}/v1/messages`, { model: 'glm-4.7', max_tokens: 100, messages: MESSAGES });
    assert.equal(r.status, 200);
    const body = JSON.parse(r.text);
    assert.equal(body.type, 'message');
    assert.equal(body.model, 'glm-4.7');
    assert.equal(body.content[0].text, simContent(5));
    assert.deepEqual(body.usage, { input_tokens: prompt, output_tokens: 11, cache_read_input_tokens: 4, cache_creation_input_tokens: 6 });
  });

  it('Anthropic streaming: zero usage in message_start, cumulative message_delta twice, the last one total', async () => {
    sim.setScenario({ outputTokens: 10, cachedTokens: 1, cacheCreationTokens: 2, streamChunks: 3 });
    const r = await post(`${sim.anthropicBaseUrl}/v1/messages`, { model: 'glm-4.7', max_tokens: 100, messages: MESSAGES, stream: true });
    assert.match(String(r.headers['content-type']), /^text\/event-stream/);
    assert.match(r.text, /^event: message_start\n/);
    const events = anthropicStream(r.text);
    const types = events.map((e) => e.type);
    assert.deepEqual(types, [
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_delta',
      'message_stop',
    ]);
    assert.deepEqual(events[0]?.message?.usage, { input_tokens: 0, output_tokens: 0 });
    assert.equal(
      events
        .filter((e) => e.type === 'content_block_delta')
        .map((e) => e.delta?.text)
        .join(''),
      simContent(3),
    );
    const deltas = events.filter((e) => e.type === 'message_delta');
    assert.equal(deltas[0]?.usage?.output_tokens, 5);
    assert.equal(deltas[0]?.delta?.stop_reason, null);
    assert.deepEqual(deltas[1]?.usage, { input_tokens: prompt, output_tokens: 10, cache_read_input_tokens: 1, cache_creation_input_tokens: 2 });
    assert.equal(deltas[1]?.delta?.stop_reason, 'end_turn');
    // Summing the deltas would over-count: the last one alone is the total.
    assert.notEqual(
      deltas.reduce((n, d) => n + (d.usage?.output_tokens ?? 0), 0),
      10,
    );
  });

  it('Anthropic streaming with two chunks sends one message_delta; streamUsage none reports zeros', async () => {
    sim.setScenario({ streamChunks: 2, streamUsage: 'none' });
    const events = anthropicStream((await post(`${sim.anthropicBaseUrl}/v1/messages`, { model: 'glm-4.7', messages: MESSAGES, stream: true })).text);
    const deltas = events.filter((e) => e.type === 'message_delta');
    assert.equal(deltas.length, 1);
    assert.deepEqual(deltas[0]?.usage, { input_tokens: 0, output_tokens: 0 });
  });

  it('count_tokens and models', async () => {
    const c = await post(`${sim.anthropicBaseUrl}/v1/messages/count_tokens`, { model: 'glm-4.7', messages: MESSAGES });
    assert.deepEqual(JSON.parse(c.text), { input_tokens: prompt });
    const m = await get(`${sim.openaiBaseUrl}/models`);
    const list = JSON.parse(m.text);
    assert.equal(list.object, 'list');
    assert.deepEqual(
      list.data.map((d: { id: string }) => d.id),
      [...MODEL_NAMES],
    );
  });

  it('unknown paths get 404 in the Z.AI error shape', async () => {
    const r = await get(`${sim.openaiBaseUrl}/nope`);
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.text).error.code, '404');
    const other = await get(`${sim.url}/elsewhere?x=1`);
    assert.equal(other.status, 404);
    assert.equal(sim.stats().lastQuery, 'x=1');
  });
});
