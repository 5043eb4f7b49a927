import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamUsageReader } from '../../src/accounting/stream-usage.js';
import { collector } from '../support/heap.js';
import { openaiChat } from '../../src/dialects/openai-chat.js';
import { anthropicMessages } from '../../src/dialects/anthropic-messages.js';

const DIALECTS = { openai: openaiChat, anthropic: anthropicMessages };
type Dialect = keyof typeof DIALECTS;
import { OPENAI_STREAM, REAL_ANTHROPIC_STREAM, ZAI_ANTHROPIC_STREAM, withLineEnding } from './support.js';

function read(dialect: Dialect, text: string, opts?: { collectText?: boolean; maxTextBytes?: number }, chunkSize = 0) {
  const r = new StreamUsageReader(DIALECTS[dialect].streamEvents, opts);
  const bytes = Buffer.from(text);
  if (chunkSize <= 0) r.push(bytes);
  else for (let i = 0; i < bytes.length; i += chunkSize) r.push(bytes.subarray(i, i + chunkSize));
  return r.finish();
}

const sse = (...events: string[]) => events.map((e) => `data: ${e}\n\n`).join('');

test('OpenAI: usage from the final chunk, cached tokens split out; text, reasoning included, only when usage is missing', () => {
  const r = read('openai', OPENAI_STREAM, { collectText: true });
  assert.deepEqual(r.usage, { input: 20, output: 42, cacheRead: 100, cacheWrite: 0 });
  assert.equal(r.outputText, '', 'usage was reported: no estimate needs the text');
  assert.equal(r.complete, true);
  assert.equal(r.malformedEvents, 0);
  const withoutUsage = OPENAI_STREAM.replace(/"usage":\{[^}]*\}\}?/, '"usage":null');
  const estimated = read('openai', withoutUsage, { collectText: true });
  assert.equal(estimated.usage, undefined);
  assert.equal(estimated.outputText, 'Thinking éHello 世界 🌍!');
});

test('text events are parsed only if the stream ends without usage, or once they outgrow the hold', () => {
  const parsed: unknown[] = [];
  const countingEvents = () => {
    const events = openaiChat.streamEvents();
    const read = events.read.bind(events);
    events.read = (event, text) => {
      parsed.push(event);
      return read(event, text);
    };
    return events;
  };
  const counting = (holdBytes?: number) => new StreamUsageReader(countingEvents, { collectText: true, ...(holdBytes === undefined ? {} : { holdBytes }) });
  const text = (n: number) => Array.from({ length: n }, (_, i) => `{"choices":[{"delta":{"content":"t${i} "}}],"usage":null}`);
  const usage = '{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":30}}';
  let r = counting();
  r.push(Buffer.from(sse(...text(30), usage, '[DONE]')));
  assert.deepEqual(r.finish().usage, { input: 9, output: 30, cacheRead: 0, cacheWrite: 0 });
  assert.equal(parsed.length, 1, 'only the usage event');
  parsed.length = 0;
  r = counting();
  r.push(Buffer.from(sse(...text(30), '[DONE]')));
  assert.equal(
    r.finish().outputText,
    text(30)
      .map((_, i) => `t${i} `)
      .join(''),
  );
  assert.equal(parsed.length, 30, 'no usage: every text event, once');
  parsed.length = 0;
  r = counting(500);
  r.push(Buffer.from(sse(...text(30))));
  assert.ok(parsed.length >= 20, `past 500 held characters, events are parsed as they come (${parsed.length})`);
  r.push(Buffer.from(sse(usage, '[DONE]')));
  assert.equal(r.finish().outputText, '');
});

test('a held stream costs the JS heap nothing per event: its bytes are kept off it', () => {
  // Kept as one object per event, 200 streams of a few hundred events each were copied by
  // every young-generation collection while they lasted, and then promoted.
  const gc = collector();
  const event = Buffer.from(sse('{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tok "}}]}'));
  const heapWith = (events: number) => {
    const readers = Array.from({ length: 200 }, () => new StreamUsageReader(openaiChat.streamEvents, { collectText: true }));
    for (const r of readers) for (let i = 0; i < events; i++) r.push(Buffer.from(event));
    gc();
    const used = process.memoryUsage().heapUsed;
    for (const r of readers) assert.equal(r.finish().outputText, 'tok '.repeat(events), 'the held stream is read again whole');
    return used;
  };
  heapWith(5);
  const perEvent = (heapWith(105) - heapWith(5)) / (200 * 100);
  assert.ok(perEvent < 48, `${perEvent.toFixed(1)} bytes of JS heap per held event`);
});

test('OpenAI: usage on the chunk that also carries the finish reason', () => {
  const r = read(
    'openai',
    sse(
      '{"choices":[{"delta":{"content":"a"}}],"usage":null}',
      '{"choices":[{"delta":{"content":"b"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2}}',
      '[DONE]',
    ),
  );
  assert.deepEqual(r.usage, { input: 9, output: 2, cacheRead: 0, cacheWrite: 0 });
  assert.equal(r.outputText, '', 'text is only collected on request');
});

test('OpenAI: no usage in the stream gives undefined usage and the text for an estimate', () => {
  const r = read(
    'openai',
    sse('{"choices":[{"delta":{"content":"one "}}]}', '{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{\\"x\\":1}"}}]}}]}', '[DONE]'),
    {
      collectText: true,
    },
  );
  assert.equal(r.usage, undefined);
  assert.equal(r.outputText, 'one {"x":1}');
  assert.equal(r.complete, true);
});

test('OpenAI: split into 1..7-byte chunks with CRLF gives the same result', () => {
  const expected = read('openai', OPENAI_STREAM, { collectText: true });
  for (let size = 1; size <= 7; size++) {
    assert.deepEqual(read('openai', withLineEnding(OPENAI_STREAM, '\r\n'), { collectText: true }, size), expected, `chunk size ${size}`);
  }
});

test('Anthropic on Z.AI: zeros in message_start, two cumulative message_deltas: the last wins, never a sum', () => {
  const r = read('anthropic', ZAI_ANTHROPIC_STREAM, { collectText: true });
  assert.deepEqual(r.usage, { input: 300, output: 25, cacheRead: 50, cacheWrite: 0 });
  assert.equal(r.outputText, '');
  assert.equal(r.complete, true);
  assert.equal(r.malformedEvents, 0);
  const fast = read('anthropic', ZAI_ANTHROPIC_STREAM);
  assert.deepEqual(fast.usage, r.usage);
  assert.equal(fast.outputText, '');
});

test('real Anthropic: input and cache from message_start, output from message_delta', () => {
  const r = read('anthropic', REAL_ANTHROPIC_STREAM, {}, 5);
  assert.deepEqual(r.usage, { input: 25, output: 15, cacheRead: 400, cacheWrite: 30 });
  assert.equal(r.complete, true);
});

test('Anthropic events without an event: line are recognised by their type', () => {
  const stripped = ZAI_ANTHROPIC_STREAM.split('\n')
    .filter((l) => !l.startsWith('event:'))
    .join('\n');
  const r = read('anthropic', stripped, {}, 11);
  assert.deepEqual(r.usage, { input: 300, output: 25, cacheRead: 50, cacheWrite: 0 });
  assert.equal(r.complete, true);
});

test('a stream cut mid-way is incomplete, with the usage of what arrived', () => {
  const cutAt = ZAI_ANTHROPIC_STREAM.indexOf('"output_tokens":25');
  const r = read('anthropic', ZAI_ANTHROPIC_STREAM.slice(0, cutAt), { collectText: true });
  assert.equal(r.complete, false);
  assert.deepEqual(r.usage, { input: 300, output: 10, cacheRead: 50, cacheWrite: 0 }, 'the first delta arrived whole');
  const early = read('anthropic', ZAI_ANTHROPIC_STREAM.slice(0, ZAI_ANTHROPIC_STREAM.indexOf('event: message_delta')), { collectText: true });
  assert.equal(early.usage, undefined, 'zeros from message_start alone are no usage');
  assert.equal(early.outputText, 'Let me think: üBonjour 世界', 'so the text is there for an estimate');
  const openaiCut = read('openai', OPENAI_STREAM.slice(0, OPENAI_STREAM.indexOf('"usage"')), { collectText: true });
  assert.equal(openaiCut.complete, false);
  assert.equal(openaiCut.usage, undefined);
  assert.equal(openaiCut.outputText, 'Thinking éHello 世界 🌍!');
});

test('malformed events are counted and never throw', () => {
  const r = read('openai', sse('{"choices":[{"delta":{"content":"ok"}}]}', '{not json', '{"usage":{"prompt_tokens":3', '[1,2]', '[DONE]'), {
    collectText: true,
  });
  assert.equal(r.malformedEvents, 3);
  assert.equal(r.outputText, 'ok');
  const a = read('anthropic', 'event: message_delta\ndata: {oops\n\nevent: message_stop\ndata: {}\n\n');
  assert.equal(a.malformedEvents, 1);
  assert.equal(a.complete, true);
  // without text collection, unparseable events that cannot carry usage are not even looked at
  const fast = read('openai', sse('{not json', '[DONE]'));
  assert.equal(fast.malformedEvents, 0);
});

test('collected text stops at maxTextBytes on a character boundary', () => {
  const r = read('openai', sse('{"choices":[{"delta":{"content":"abc"}}]}', '{"choices":[{"delta":{"content":"世界"}}]}'), {
    collectText: true,
    maxTextBytes: 7,
  });
  assert.equal(r.outputText, 'abc世');
  assert.equal(r.textTruncated, true);
});

test('finish() is idempotent and later pushes are ignored', () => {
  const r = new StreamUsageReader(openaiChat.streamEvents);
  r.push(Buffer.from(sse('{"usage":{"prompt_tokens":1,"completion_tokens":1}}')));
  const first = r.finish();
  r.push(Buffer.from(sse('{"usage":{"prompt_tokens":5,"completion_tokens":5}}')));
  assert.equal(r.finish(), first);
  assert.deepEqual(first.usage, { input: 1, output: 1, cacheRead: 0, cacheWrite: 0 });
});
