import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { totalTokens, usageFromResponseBody } from '../../src/accounting/usage.js';
import { openaiChat } from '../../src/dialects/openai-chat.js';
import { anthropicMessages } from '../../src/dialects/anthropic-messages.js';
import { runs } from './support.js';

/**
 * A non-streaming answer's usage is read from its usage object alone when that stands last
 * (src/accounting/usage.ts), the whole body parsed otherwise:
 * for any JSON answer it must be what a full parse gives the dialect's reader.
 */

function parsedUsage(readUsage: typeof openaiChat.usage, text: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const usage = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? readUsage((parsed as { usage?: unknown }).usage) : undefined;
  return usage && totalTokens(usage) > 0 ? usage : undefined;
}

const count = fc.oneof(
  fc.nat(),
  fc.nat({ max: 200_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -10, max: 10 }),
  fc.constantFrom('12', null, true, {}, [3], 1e21, 0.5),
);
const details = fc.oneof(fc.record({ cached_tokens: count }, { requiredKeys: [] }), fc.constantFrom(null, 0, 'x', []));
const usage = fc.record(
  {
    prompt_tokens: count,
    completion_tokens: count,
    total_tokens: count,
    prompt_tokens_details: details,
    input_tokens: count,
    output_tokens: count,
    cache_read_input_tokens: count,
    cache_creation_input_tokens: count,
    server_tool_use: fc.constantFrom({ web_search_requests: 1 }, '"usage": {"prompt_tokens": 9}'),
  },
  { requiredKeys: [] },
);
/** An answer whose usage stands last (as both APIs send it) or anywhere, pretty-printed or not. */
const answer = fc.tuple(usage, fc.boolean(), fc.constantFrom(undefined, 2), fc.constantFrom('', '\n', '  \n')).map(([u, last, indent, tail]) => {
  const rest = { id: 'a', choices: [{ message: { content: 'the "usage": {"prompt_tokens": 5} key' } }] };
  const body = last ? { ...rest, usage: u } : { usage: u, ...rest };
  return JSON.stringify(body, null, indent) + tail;
});

describe('fuzz: usage of a whole answer', () => {
  for (const [name, dialect] of [
    ['OpenAI', openaiChat],
    ['Anthropic', anthropicMessages],
  ] as const)
    it(`is what a full parse gives the ${name} reader`, () => {
      fc.assert(
        fc.property(answer, (text) => {
          assert.deepEqual(usageFromResponseBody(dialect.usage, Buffer.from(text)), parsedUsage(dialect.usage, text));
        }),
        runs(3000),
      );
    });
});
