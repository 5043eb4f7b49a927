import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, type SseEvent } from '../../src/accounting/sse.js';
import { OPENAI_STREAM, ZAI_ANTHROPIC_STREAM, withLineEnding } from './support.js';

function parseChunks(chunks: Buffer[], opts?: { maxEventBytes?: number }): { events: SseEvent[]; dropped: number } {
  const events: SseEvent[] = [];
  const p = new SseParser((e) => events.push(e), opts);
  for (const c of chunks) p.push(c);
  p.end();
  return { events, dropped: p.droppedEvents };
}

const whole = (text: string) => parseChunks([Buffer.from(text)]).events;

test('parses data, event names, comments and a field without a space after the colon', () => {
  const events = whole(OPENAI_STREAM);
  assert.equal(events.length, 5);
  assert.equal(events[0]!.event, undefined);
  assert.match(events[0]!.data, /"reasoning_content":"Thinking é"/);
  assert.match(events[2]!.data, /^\{"id":"c1"/, 'data:{ without a space keeps its first character');
  assert.equal(events[4]!.data, '[DONE]');
  const anthropic = whole(ZAI_ANTHROPIC_STREAM);
  assert.deepEqual(
    anthropic.map((e) => e.event),
    ['message_start', 'ping', 'content_block_start', 'content_block_delta', 'content_block_delta', 'message_delta', 'message_delta', 'message_stop'],
  );
});

test('multi-line data joins with LF; id, retry and unknown fields are ignored; a name without colon is a field', () => {
  const events = whole('id: 7\nretry: 100\ndata: a\ndata:b\ndata\nfoo: bar\n\nevent: x\n\n');
  assert.deepEqual(events, [{ data: 'a\nb\n' }]);
});

test('an event with no data line is not dispatched; a BOM at stream start is skipped', () => {
  assert.deepEqual(whole('\uFEFFevent: e\ndata: 1\n\nevent: only\n\n'), [{ event: 'e', data: '1' }]);
});

for (const [name, text] of [
  ['openai', OPENAI_STREAM],
  ['anthropic', ZAI_ANTHROPIC_STREAM],
] as const) {
  for (const eol of ['\n', '\r\n', '\r'] as const) {
    test(`${name} stream with ${JSON.stringify(eol)} split at every byte offset gives the same events`, () => {
      const bytes = Buffer.from(withLineEnding(text, eol));
      const expected = whole(text);
      assert.deepEqual(parseChunks([bytes]).events, expected);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const got = parseChunks([bytes.subarray(0, cut), bytes.subarray(cut)]).events;
        assert.deepEqual(got, expected, `split at byte ${cut}`);
      }
      // and in three pieces around every offset, with a one-byte middle (splits a CRLF and a UTF-8 sequence both ways)
      for (let cut = 0; cut + 1 <= bytes.length; cut++) {
        const got = parseChunks([bytes.subarray(0, cut), bytes.subarray(cut, cut + 1), bytes.subarray(cut + 1)]).events;
        assert.deepEqual(got, expected, `three pieces at byte ${cut}`);
      }
      const oneByte = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
      assert.deepEqual(parseChunks(oneByte).events, expected, 'one byte per chunk');
    });
  }
}

test('the parser copies a pending partial line, so a caller reusing its buffer cannot corrupt it', () => {
  const events: SseEvent[] = [];
  const p = new SseParser((e) => events.push(e));
  const buf = Buffer.from('data: hel');
  p.push(buf);
  buf.fill(0x78);
  p.push(Buffer.from('lo\n\n'));
  assert.deepEqual(events, [{ data: 'hello' }]);
});

test('end(): terminated lines without the closing blank line still dispatch; an unterminated last line is a cut', () => {
  assert.deepEqual(parseChunks([Buffer.from('data: [DONE]\n')]).events, [{ data: '[DONE]' }]);
  assert.deepEqual(parseChunks([Buffer.from('data: 1\n\ndata: {"trunc')]).events, [{ data: '1' }]);
});

test('an event over the size bound is dropped, not buffered, and the stream recovers after it', () => {
  const max = 1024;
  const big = 'x'.repeat(600);
  // the big event arrives as two lines and in many small chunks
  const text = `data: small\n\ndata: ${big}\ndata: ${big}\n\ndata: after\n\n`;
  const bytes = Buffer.from(text);
  const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
  const r = parseChunks(chunks, { maxEventBytes: max });
  assert.deepEqual(r.events, [{ data: 'small' }, { data: 'after' }]);
  assert.equal(r.dropped, 1);
  // the oversized line ends exactly at a chunk boundary: its terminator is not a blank line
  const edge = parseChunks([Buffer.from(`data: ${big}${big}`), Buffer.from('\ndata: tail\n\ndata: after\n\n')], { maxEventBytes: max });
  assert.deepEqual(edge.events, [{ data: 'after' }]);
  assert.equal(edge.dropped, 1);
  // a single line longer than the bound, never terminated before more data: pending bytes stay bounded
  const p = new SseParser(() => undefined, { maxEventBytes: max });
  for (let i = 0; i < 1000; i++) p.push(Buffer.alloc(100, 0x61));
  const pending = (p as unknown as { partialBytes: number }).partialBytes;
  assert.ok(pending <= max, `pending ${pending} bytes`);
});

test('a listener that throws does not corrupt the parser state', () => {
  const seen: string[] = [];
  const p = new SseParser((e) => {
    seen.push(e.data);
    if (e.data === 'boom') throw new Error('listener');
  });
  assert.throws(() => p.push(Buffer.from('data: boom\n\n')));
  p.push(Buffer.from('data: next\n\n'));
  assert.deepEqual(seen, ['boom', 'next']);
});
