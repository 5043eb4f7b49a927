import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usageFromResponseBody } from '../../src/accounting/usage.js';
import { openaiChat } from '../../src/dialects/openai-chat.js';
import { anthropicMessages } from '../../src/dialects/anthropic-messages.js';

const body = (v: unknown) => Buffer.from(JSON.stringify(v));

test('OpenAI usage: cached tokens are split out of prompt_tokens so nothing counts twice', () => {
  const u = usageFromResponseBody(
    openaiChat.usage,
    body({ choices: [], usage: { prompt_tokens: 1000, completion_tokens: 55, total_tokens: 1055, prompt_tokens_details: { cached_tokens: 800 } } }),
  );
  assert.deepEqual(u, { input: 200, output: 55, cacheRead: 800, cacheWrite: 0 });
});

test('OpenAI usage without details has no cache read', () => {
  assert.deepEqual(usageFromResponseBody(openaiChat.usage, body({ usage: { prompt_tokens: 12, completion_tokens: 3 } })), {
    input: 12,
    output: 3,
    cacheRead: 0,
    cacheWrite: 0,
  });
});

test('Anthropic usage maps cache read and cache creation to their own directions', () => {
  const u = usageFromResponseBody(
    anthropicMessages.usage,
    body({ type: 'message', content: [], usage: { input_tokens: 20, output_tokens: 7, cache_read_input_tokens: 500, cache_creation_input_tokens: 40 } }),
  );
  assert.deepEqual(u, { input: 20, output: 7, cacheRead: 500, cacheWrite: 40 });
});

test('junk values clamp to whole non-negative numbers', () => {
  const u = usageFromResponseBody(
    anthropicMessages.usage,
    body({ usage: { input_tokens: -5, output_tokens: 7.9, cache_read_input_tokens: '12', cache_creation_input_tokens: null } }),
  );
  assert.deepEqual(u, { input: 0, output: 7, cacheRead: 0, cacheWrite: 0 });
  // cached_tokens larger than the prompt cannot make input negative
  const o = usageFromResponseBody(openaiChat.usage, body({ usage: { prompt_tokens: 10, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 50 } } }));
  assert.deepEqual(o, { input: 0, output: 1, cacheRead: 10, cacheWrite: 0 });
  const nan = usageFromResponseBody(openaiChat.usage, Buffer.from('{"usage":{"prompt_tokens":1e400,"completion_tokens":4}}'));
  assert.deepEqual(nan, { input: 0, output: 4, cacheRead: 0, cacheWrite: 0 });
});

test('no usage, all-zero usage, non-objects and non-JSON give undefined', () => {
  assert.equal(usageFromResponseBody(openaiChat.usage, body({ choices: [] })), undefined);
  assert.equal(usageFromResponseBody(openaiChat.usage, body({ usage: null })), undefined);
  assert.equal(usageFromResponseBody(openaiChat.usage, body({ usage: [1, 2] })), undefined);
  assert.equal(usageFromResponseBody(anthropicMessages.usage, body({ usage: { input_tokens: 0, output_tokens: 0 } })), undefined);
  assert.equal(usageFromResponseBody(anthropicMessages.usage, body([{ usage: { input_tokens: 3 } }])), undefined);
  assert.equal(usageFromResponseBody(openaiChat.usage, Buffer.from('not json')), undefined);
  assert.equal(usageFromResponseBody(openaiChat.usage, Buffer.alloc(0)), undefined);
  assert.equal(usageFromResponseBody(openaiChat.usage, Buffer.from('data: {"usage":{}}')), undefined);
});

test('usage is read wherever it stands among the members, with any whitespace', () => {
  const want = { input: 3, output: 2, cacheRead: 0, cacheWrite: 0 };
  const usage = { prompt_tokens: 3, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 0 } };
  for (const text of [
    JSON.stringify({ id: 'a', usage }),
    JSON.stringify({ id: 'a', usage }, null, 2),
    `${JSON.stringify({ id: 'a', usage })}\n`,
    JSON.stringify({ usage, model: 'glm-4.7' }),
    JSON.stringify({ usage, extra: { nested: { a: 1 } } }),
    JSON.stringify({ choices: [{ message: { content: 'the "usage": {} key' } }], usage }),
  ])
    assert.deepEqual(usageFromResponseBody(openaiChat.usage, Buffer.from(text)), want, text);
});
