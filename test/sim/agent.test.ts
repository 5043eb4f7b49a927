import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { estimateTokensSync, promptText } from '../../src/accounting/estimate.js';
import { REASONING_TEXT, THINKING_SIGNATURE, promptTokensFor, simContent, startSimulator, type Simulator } from '../../src/sim/index.js';
import { post } from './support.js';

const SHELL_OPENAI: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'shell',
    description: 'Runs a command',
    parameters: { type: 'object', properties: { command: { type: 'array', items: { type: 'string' } }, workdir: { type: 'string' } }, required: ['command'] },
  },
};
const READ_ANTHROPIC: Anthropic.Tool = {
  name: 'Read',
  description: 'Reads a file',
  input_schema: { type: 'object', properties: { file_path: { type: 'string' }, limit: { type: 'number' } }, required: ['file_path'] },
};

describe('simulator plays an agent loop', () => {
  let sim: Simulator;
  let openai: OpenAI;
  let anthropic: Anthropic;
  before(async () => {
    sim = await startSimulator();
    openai = new OpenAI({ baseURL: sim.openaiBaseUrl, apiKey: 'k', maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: sim.anthropicBaseUrl, apiKey: 'k', maxRetries: 0 });
  });
  after(() => sim.close());
  beforeEach(() => {
    sim.resetScenario();
    sim.resetStats();
  });

  it('OpenAI: tools offered → a streamed tool call with argument deltas and finish_reason tool_calls; the tool result → text', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'list the files' }];
    const stream = await openai.chat.completions.create({ model: 'glm-4.7', messages, tools: [SHELL_OPENAI], stream: true });
    const argDeltas: string[] = [];
    let id = '';
    let name = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      const call = chunk.choices[0]?.delta.tool_calls?.[0];
      if (call?.id) id = call.id;
      if (call?.function?.name) name = call.function.name;
      if (call?.function?.arguments) argDeltas.push(call.function.arguments);
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(name, 'shell');
    assert.ok(argDeltas.length > 1, 'arguments arrive in pieces');
    assert.deepEqual(JSON.parse(argDeltas.join('')), { command: ['sim'] }, 'required arguments made from the schema');
    assert.equal(finish, 'tool_calls');

    messages.push({ role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name, arguments: argDeltas.join('') } }] });
    messages.push({ role: 'tool', tool_call_id: id, content: 'a.txt\nb.txt' });
    const answer = await openai.chat.completions.create({ model: 'glm-4.7', messages, tools: [SHELL_OPENAI] });
    assert.equal(answer.choices[0]!.finish_reason, 'stop');
    assert.equal(answer.choices[0]!.message.content, simContent(5));
  });

  it('OpenAI non-streaming tool call, scripted by the scenario, in order', async () => {
    sim.setScenario({
      toolCalls: [
        { name: 'shell', arguments: { command: ['ls', '-la'] } },
        { name: 'shell', arguments: { command: ['pwd'] } },
      ],
    });
    const call = async () => {
      const r = await openai.chat.completions.create({ model: 'glm-4.7', messages: [{ role: 'user', content: 'go' }], tools: [SHELL_OPENAI] });
      assert.equal(r.choices[0]!.finish_reason, 'tool_calls');
      const tc = r.choices[0]!.message.tool_calls![0]!;
      assert.equal(tc.type, 'function');
      return tc.type === 'function' ? JSON.parse(tc.function.arguments) : undefined;
    };
    assert.deepEqual(await call(), { command: ['ls', '-la'] });
    assert.deepEqual(await call(), { command: ['pwd'] });
    assert.deepEqual(await call(), { command: ['sim'] }, 'then the schema default');
  });

  it('toolUse: none and tool_choice: none answer text despite tools', async () => {
    const r = await openai.chat.completions.create({
      model: 'glm-4.7',
      messages: [{ role: 'user', content: 'go' }],
      tools: [SHELL_OPENAI],
      tool_choice: 'none',
    });
    assert.equal(r.choices[0]!.finish_reason, 'stop');
    sim.setScenario({ toolUse: 'none' });
    const a = await anthropic.messages.create({ model: 'glm-4.7', max_tokens: 100, messages: [{ role: 'user', content: 'go' }], tools: [READ_ANTHROPIC] });
    assert.equal(a.stop_reason, 'end_turn');
  });

  it('Anthropic: thinking block, then tool_use with input_json_delta and stop_reason tool_use; tool_result → end_turn', async () => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'read the readme' }];
    const stream = anthropic.messages.stream({
      model: 'glm-4.7',
      max_tokens: 32000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      tools: [READ_ANTHROPIC],
      messages,
    });
    const deltaTypes = new Set<string>();
    stream.on('streamEvent', (e) => {
      if (e.type === 'content_block_delta') deltaTypes.add(e.delta.type);
    });
    const msg = await stream.finalMessage();
    assert.deepEqual([...deltaTypes].sort(), ['input_json_delta', 'signature_delta', 'thinking_delta']);
    assert.equal(msg.stop_reason, 'tool_use');
    const [thinking, toolUse] = msg.content;
    assert.ok(thinking?.type === 'thinking' && thinking.thinking === REASONING_TEXT && thinking.signature === THINKING_SIGNATURE);
    assert.ok(toolUse?.type === 'tool_use');
    assert.equal(toolUse.name, 'Read');
    assert.deepEqual(toolUse.input, { file_path: 'sim' });

    messages.push({ role: 'assistant', content: msg.content });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: '# README' }] });
    const done = await anthropic.messages.create({ model: 'glm-4.7', max_tokens: 4096, tools: [READ_ANTHROPIC], messages });
    assert.equal(done.stop_reason, 'end_turn');
    assert.ok(done.content.some((b) => b.type === 'text' && b.text === simContent(5)));
  });

  it('max_tokens below the answer stops there: finish_reason length / stop_reason max_tokens', async () => {
    sim.setScenario({ outputTokens: 20 });
    const o = await openai.chat.completions.create({ model: 'glm-4.7', max_tokens: 3, messages: [{ role: 'user', content: 'long story' }] });
    assert.equal(o.choices[0]!.finish_reason, 'length');
    assert.equal(o.usage!.completion_tokens, 3);
    const a = await anthropic.messages.create({ model: 'glm-4.7', max_tokens: 4, messages: [{ role: 'user', content: 'long story' }] });
    assert.equal(a.stop_reason, 'max_tokens');
    assert.equal(a.usage.output_tokens, 4);
  });

  it("an unknown model gets Z.AI's 400 / 1211 on both shapes and count_tokens", async () => {
    const o = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    assert.ok(o instanceof OpenAI.BadRequestError);
    assert.equal((o.error as { code?: string }).code, '1211');
    const a = await post(`${sim.anthropicBaseUrl}/v1/messages`, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(a.status, 400);
    assert.equal(JSON.parse(a.text).error.code, '1211');
    const c = await post(`${sim.anthropicBaseUrl}/v1/messages/count_tokens`, { model: 'nope', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(c.status, 400);
    assert.equal(sim.stats().byOutcome['1211'], 3);
  });

  it('has no Responses endpoint on its OpenAI base, as Z.AI has none', async () => {
    const r = await post(`${sim.openaiBaseUrl}/responses`, { model: 'glm-4.7', input: 'hi' });
    assert.equal(r.status, 404);
  });

  it('counts prompt tokens over system, tools and messages as the proxy estimates them', async () => {
    const tools = Array.from({ length: 24 }, (_, i) => ({ ...READ_ANTHROPIC, name: `Tool${i}`, description: `Tool number ${i}. `.repeat(40) }));
    const body = {
      model: 'glm-4.7',
      max_tokens: 32000,
      system: 'You are Claude Code. '.repeat(200),
      tools,
      messages: [{ role: 'user' as const, content: 'hi' }],
    };
    const counted = await anthropic.messages.countTokens(body);
    assert.equal(counted.input_tokens, estimateTokensSync(promptText(body)));
    assert.equal(counted.input_tokens, promptTokensFor(body));
    assert.ok(counted.input_tokens > 5000, `${counted.input_tokens} tokens for a request of ${JSON.stringify(body).length} bytes`);
  });
});
