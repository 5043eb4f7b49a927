import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatRequestFromResponses, type ResponsesContext } from '../../src/dialects/responses/request.js';
import { ResponsesStream } from '../../src/dialects/responses/stream.js';

function translated(request: unknown) {
  const t = chatRequestFromResponses(request);
  assert.ok('body' in t, `refused: ${JSON.stringify(t)}`);
  return t;
}

function refusal(request: unknown) {
  const t = chatRequestFromResponses(request);
  assert.ok('refusal' in t, `translated: ${JSON.stringify(t)}`);
  return t.refusal;
}

test('input items become chat messages: developer → system, images kept, reasoning dropped, calls joined to one assistant turn', () => {
  const { body } = translated({
    model: 'glm-4.7',
    instructions: 'SYS',
    input: [
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'DEV' }] },
      {
        role: 'user',
        content: [
          { type: 'input_text', text: 'look' },
          { type: 'input_image', image_url: 'data:image/png;base64,AAAA' },
        ],
      },
      { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'opaque' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'I will run two things.' }] },
      { type: 'function_call', call_id: 'c1', name: 'shell', arguments: '{"command":"ls"}' },
      { type: 'custom_tool_call', call_id: 'c2', name: 'apply_patch', input: 'PATCH' },
      { type: 'function_call_output', call_id: 'c1', output: 'a.txt' },
      { type: 'custom_tool_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'applied' }] },
    ],
  });
  assert.deepEqual(body.messages, [
    { role: 'system', content: 'SYS' },
    { role: 'system', content: 'DEV' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'look' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
      ],
    },
    {
      role: 'assistant',
      content: 'I will run two things.',
      tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'shell', arguments: '{"command":"ls"}' } },
        { id: 'c2', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"PATCH"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'c1', content: 'a.txt' },
    { role: 'tool', tool_call_id: 'c2', content: 'applied' },
  ]);
});

test('parameters carry over; built-in tools are dropped; streaming asks for usage', () => {
  const { body, context } = translated({
    model: 'glm-4.7',
    input: 'hi',
    stream: true,
    max_output_tokens: 99,
    temperature: 0.2,
    top_p: 0.9,
    user: 'u1',
    tool_choice: { type: 'function', name: 'shell' },
    parallel_tool_calls: false,
    tools: [
      { type: 'function', name: 'shell', parameters: { type: 'object', properties: {} } },
      { type: 'web_search' },
      { type: 'custom', name: 'apply_patch', description: 'Patch', format: { type: 'grammar', syntax: 'lark', definition: 'start: "x"' } },
    ],
    text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true } },
    reasoning: { effort: 'minimal' },
  });
  assert.equal(body.max_tokens, 99);
  assert.equal(body.temperature, 0.2);
  assert.equal(body.top_p, 0.9);
  assert.equal(body.user, 'u1');
  assert.deepEqual(body.tool_choice, { type: 'function', function: { name: 'shell' } });
  assert.equal(body.parallel_tool_calls, false);
  assert.deepEqual(
    (body.tools as Array<{ function: { name: string } }>).map((t) => t.function.name),
    ['shell', 'apply_patch'],
  );
  assert.match((body.tools as Array<{ function: { description: string } }>)[1]!.function.description, /Patch Format \(lark\): start: "x"/);
  assert.deepEqual(body.response_format, { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } });
  assert.deepEqual(body.thinking, { type: 'disabled' });
  assert.deepEqual(body.stream_options, { include_usage: true });
  assert.deepEqual([...context.customTools], ['apply_patch']);
});

test('what needs stored state is refused with a 400 that says why', () => {
  for (const request of [
    { model: 'glm-4.7', input: 'hi', previous_response_id: 'resp_1' },
    { model: 'glm-4.7', input: 'hi', conversation: 'conv_1' },
    { model: 'glm-4.7', input: [{ type: 'item_reference', id: 'msg_1' }] },
  ]) {
    const r = refusal(request);
    assert.equal(r.status, 400);
    assert.equal(r.code, 'unsupported_parameter');
    assert.match(r.message, /stores no responses/);
  }
  assert.match(refusal({ model: 'glm-4.7', input: 'hi', background: true }).message, /background/);
  assert.equal(refusal({ input: 'hi' }).code, 'missing_required_parameter');
  assert.match(refusal({ model: 'glm-4.7', input: [{ type: 'computer_call', id: 'x' }] }).message, /computer_call/);
  assert.match(refusal({ model: 'glm-4.7', input: [{ role: 'critic', content: 'x' }] }).message, /critic/);
  assert.equal(refusal({ model: 'glm-4.7', input: 42 }).code, 'invalid_value');
});

const CTX: ResponsesContext = { model: 'glm-4.7', stream: true, customTools: new Set(['apply_patch']), echo: {} };
const chunk = (delta: Record<string, unknown>, finish: string | null = null, usage?: unknown) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`;

function events(text: string) {
  return text
    .split('\n\n')
    .filter((b) => b.startsWith('event: '))
    .map(
      (b) =>
        JSON.parse(b.slice(b.indexOf('data: ') + 6)) as {
          type: string;
          sequence_number: number;
          output_index?: number;
          item?: Record<string, unknown>;
          response?: Record<string, unknown>;
          delta?: string;
        },
    );
}

test('stream: two tool calls become two items in order, a custom tool call keeps its raw input, usage lands on response.completed', () => {
  const s = new ResponsesStream(CTX);
  let out = '';
  for (const c of [
    chunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'shell', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"command":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"ls"}' } }] }),
    chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"P"}' } }] }),
    chunk({}, 'tool_calls', { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14, prompt_tokens_details: { cached_tokens: 3 } }),
    'data: [DONE]\n\n',
  ]) {
    // Split every chunk in two, wherever: the translator must not care.
    const bytes = Buffer.from(c);
    out += s.push(bytes.subarray(0, 7)) + s.push(bytes.subarray(7));
  }
  out += s.end(true);
  const evs = events(out);
  assert.deepEqual(
    evs.map((e) => e.sequence_number),
    evs.map((_, i) => i),
  );
  const done = evs.filter((e) => e.type === 'response.output_item.done').map((e) => e.item!);
  assert.deepEqual(
    done.map((i) => [i.type, i.call_id, i.arguments ?? i.input]),
    [
      ['function_call', 'call_a', '{"command":"ls"}'],
      ['custom_tool_call', 'call_b', 'P'],
    ],
  );
  assert.deepEqual(
    evs.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta),
    ['{"command":', '"ls"}'],
  );
  const completed = evs.at(-1)!;
  assert.equal(completed.type, 'response.completed');
  assert.deepEqual(completed.response!.usage, {
    input_tokens: 10,
    input_tokens_details: { cached_tokens: 3 },
    output_tokens: 4,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 14,
  });
  assert.equal((completed.response!.output as unknown[]).length, 2);
});

test('stream: finish_reason length ends in response.incomplete; an error event or a cut ends in response.failed', () => {
  const length = new ResponsesStream(CTX);
  const a = length.push(Buffer.from(`${chunk({ content: 'abc' }) + chunk({}, 'length')}data: [DONE]\n\n`)) + length.end(true);
  const last = events(a).at(-1)!;
  assert.equal(last.type, 'response.incomplete');
  assert.deepEqual(last.response!.incomplete_details, { reason: 'max_output_tokens' });

  const failing = new ResponsesStream(CTX);
  const b = failing.push(Buffer.from(`${chunk({ content: 'abc' })}data: {"error":{"message":"upstream broke"}}\n\n`)) + failing.end(true);
  const failed = events(b).at(-1)!;
  assert.equal(failed.type, 'response.failed');
  assert.deepEqual((failed.response!.error as { message: string }).message, 'upstream broke');

  const cut = new ResponsesStream(CTX);
  const c = cut.push(Buffer.from(chunk({ content: 'abc' }))) + cut.end(false);
  assert.deepEqual(
    events(c)
      .map((e) => e.type)
      .slice(-4),
    ['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.failed'],
  );
});
