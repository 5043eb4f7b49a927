import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import OpenAI from 'openai';
import { REASONING_TEXT, simContent, startSimulator, type Simulator } from '../../src/sim/index.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { metricValue } from '../support/metric-values.js';

/**
 * The Responses API through the proxy, with the official openai client's responses.create
 * and responses.stream, against a simulator whose OpenAI base has no Responses endpoint (as
 * Z.AI has none): everything here works only through the translation onto chat completions.
 */
const KEY = 'zai-operator-key-responses-2f7e';
const CHAT = '/api/paas/v4/chat/completions';
const SHELL: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'shell',
  description: 'Runs a shell command',
  parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
  strict: false,
};

describe('POST /v1/responses, translated to Z.AI chat completions', () => {
  let sim: Simulator;
  let proxy: TestProxy;
  let openai: OpenAI;

  before(async () => {
    sim = await startSimulator({ scenario: { requiredKey: KEY } });
    proxy = await startProxyFor(sim, {
      ZAI_API_KEY: KEY,
      MAX_RETRIES: '1',
      RETRY_BASE_DELAY: '10ms',
      RATE_LIMIT_ENABLED: 'false',
    });
    openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'client-placeholder', maxRetries: 0 });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });
  beforeEach(() => {
    sim.resetScenario();
    sim.resetStats();
  });

  const tokens = (model: string, direction: string) => metricValue(proxy.metrics, 'zai_proxy_tokens_total', { model, direction });

  /** Token counter deltas across `fn` for one model. */
  async function counted<T>(model: string, fn: () => Promise<T>) {
    const before = { input: await tokens(model, 'input'), cacheRead: await tokens(model, 'cache_read'), output: await tokens(model, 'output') };
    const result = await fn();
    return {
      result,
      input: (await tokens(model, 'input')) - before.input,
      cacheRead: (await tokens(model, 'cache_read')) - before.cacheRead,
      output: (await tokens(model, 'output')) - before.output,
    };
  }

  it('text: output_text, usage and the token counters moved by exactly that usage; path label /v1/responses', async () => {
    sim.setScenario({ outputTokens: 11, cachedTokens: 2 });
    const requestsBefore = await metricValue(proxy.metrics, 'zai_proxy_requests_total', { path: '/v1/responses', status_code: '200' });
    const { result: r, ...moved } = await counted('glm-4.7', () =>
      openai.responses.create({ model: 'glm-4.7', instructions: 'Be brief.', input: 'hello there' }),
    );
    assert.equal(r.object, 'response');
    assert.equal(r.status, 'completed');
    assert.equal(r.output_text, simContent(5));
    assert.equal(r.usage?.output_tokens, 11);
    assert.equal(r.usage?.input_tokens_details.cached_tokens, 2);
    assert.deepEqual(moved, { input: r.usage!.input_tokens - 2, cacheRead: 2, output: 11 });
    const sent = sim.stats().lastBody as { messages: unknown[] };
    assert.deepEqual(sent.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hello there' },
    ]);
    assert.equal(await metricValue(proxy.metrics, 'zai_proxy_requests_total', { path: '/v1/responses', status_code: '200' }), requestsBefore + 1);
  });

  it('streaming: the full Responses event sequence, reasoning first, usage on response.completed', async () => {
    sim.setScenario({ reasoning: true, streamChunks: 3, outputTokens: 9 });
    const stream = openai.responses.stream({ model: 'glm-4.7', input: 'stream please' });
    const types: string[] = [];
    stream.on('event', (e) => types.push(e.type));
    const { result: final, ...moved } = await counted('glm-4.7', () => stream.finalResponse());
    assert.deepEqual(types, [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.reasoning_text.delta',
      'response.reasoning_text.delta',
      'response.reasoning_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    assert.equal(final.output_text, simContent(3));
    const reasoning = final.output[0];
    assert.ok(reasoning?.type === 'reasoning');
    assert.equal(reasoning.content?.[0]?.text, REASONING_TEXT);
    assert.equal(final.usage?.output_tokens, 9);
    assert.deepEqual(moved, { input: final.usage!.input_tokens, cacheRead: 0, output: 9 });
  });

  it('function tools: streamed argument deltas, a function_call item, then function_call_output back to a text answer', async () => {
    sim.setScenario({ toolCalls: [{ name: 'shell', arguments: { command: 'ls -la' } }] });
    const stream = openai.responses.stream({ model: 'glm-4.7', input: 'list files', tools: [SHELL] });
    const argDeltas: string[] = [];
    stream.on('response.function_call_arguments.delta', (e) => argDeltas.push(e.delta));
    const { result: first, ...movedFirst } = await counted('glm-4.7', () => stream.finalResponse());
    const call = first.output.find((o) => o.type === 'function_call');
    assert.ok(call?.type === 'function_call');
    assert.equal(call.name, 'shell');
    assert.deepEqual(JSON.parse(call.arguments), { command: 'ls -la' });
    assert.ok(argDeltas.length > 1 && argDeltas.join('') === call.arguments, 'arguments streamed in pieces');
    assert.equal(movedFirst.output, first.usage!.output_tokens);
    const upstreamTools = (sim.stats().lastBody as { tools: unknown }).tools;
    assert.deepEqual(upstreamTools, [{ type: 'function', function: { name: 'shell', description: SHELL.description, parameters: SHELL.parameters } }]);

    const { result: second, ...movedSecond } = await counted('glm-4.7', () =>
      openai.responses.create({
        model: 'glm-4.7',
        tools: [SHELL],
        input: [
          { role: 'user', content: 'list files' },
          { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
          { type: 'function_call_output', call_id: call.call_id, output: 'a.txt\nb.txt' },
        ],
      }),
    );
    assert.equal(second.output_text, simContent(5));
    assert.deepEqual(movedSecond, { input: second.usage!.input_tokens, cacheRead: 0, output: second.usage!.output_tokens });
    const messages = (sim.stats().lastBody as { messages: unknown[] }).messages;
    assert.deepEqual(messages.slice(1), [
      { role: 'assistant', content: null, tool_calls: [{ id: call.call_id, type: 'function', function: { name: 'shell', arguments: call.arguments } }] },
      { role: 'tool', tool_call_id: call.call_id, content: 'a.txt\nb.txt' },
    ]);
  });

  it('custom (free-form) tools come back as custom_tool_call items with their raw input', async () => {
    sim.setScenario({ toolCalls: [{ name: 'apply_patch', arguments: { input: '*** Begin Patch\n*** End Patch' } }] });
    const r = await openai.responses.create({
      model: 'glm-4.7',
      input: 'patch it',
      tools: [{ type: 'custom', name: 'apply_patch', description: 'Applies a patch' }],
    });
    const call = r.output[0];
    assert.ok(call?.type === 'custom_tool_call', JSON.stringify(r.output));
    assert.equal(call.input, '*** Begin Patch\n*** End Patch');
  });

  it('max_output_tokens: status incomplete with reason max_output_tokens', async () => {
    sim.setScenario({ outputTokens: 20 });
    const r = await openai.responses.create({ model: 'glm-4.7', input: 'a long story', max_output_tokens: 5 });
    assert.equal(r.status, 'incomplete');
    assert.equal(r.incomplete_details?.reason, 'max_output_tokens');
    assert.equal((sim.stats().lastBody as { max_tokens: number }).max_tokens, 5);
  });

  it('previous_response_id is refused with a clear 400 in the Responses error shape, before any upstream call', async () => {
    const err = await openai.responses.create({ model: 'glm-4.7', input: 'and then?', previous_response_id: 'resp_123' }).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError);
    assert.equal(err.code, 'unsupported_parameter');
    assert.match(err.message, /previous_response_id.*not supported.*stores no responses/);
    assert.equal(sim.stats().byRoute[CHAT], undefined);
  });

  it('upstream errors arrive in the Responses error shape with the Z.AI code: 1211 unknown model, 1302 after retries', async () => {
    const unknown = await openai.responses.create({ model: 'gpt-4o', input: 'hi' }).catch((e: unknown) => e);
    assert.ok(unknown instanceof OpenAI.BadRequestError);
    assert.equal(unknown.code, '1211');

    sim.setScenario({ faults: [{ kind: 'zaiError', code: 1302, times: -1 }] });
    const r = await request(`${proxy.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'glm-4.7', input: 'hi', stream: true }),
    });
    const body = JSON.parse(await r.body.text());
    assert.equal(r.statusCode, 429);
    assert.equal(r.headers['x-should-retry'], 'false');
    assert.equal(body.error.code, '1302');
    assert.equal(body.error.type, 'rate_limit_error');
    assert.equal(typeof body.error.message, 'string');
  });

  it('a stream cut mid-way ends in response.failed and an aborted transfer, not a silent end', async () => {
    sim.setScenario({ faults: [{ kind: 'resetMidStream', afterChunks: 2 }] });
    const r = await request(`${proxy.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'glm-4.7', input: 'hi', stream: true }),
    });
    let text = '';
    await assert.rejects(async () => {
      for await (const chunk of r.body) text += chunk.toString();
    }, /other side closed|terminated|aborted/i);
    const types = [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    assert.equal(types[0], 'response.created');
    assert.equal(types.at(-1), 'response.failed');
    assert.ok(types.includes('response.output_text.delta'));
  });

  it('a non-JSON or non-object body gets a 400 in the Responses shape', async () => {
    const r = await request(`${proxy.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1,2]' });
    const body = JSON.parse(await r.body.text());
    assert.equal(r.statusCode, 400);
    assert.equal(body.error.type, 'invalid_request_error');
  });
});
