import { test } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import {
  approximateTokens,
  estimateTokens,
  estimateTokensSync,
  hasLongRun,
  mayHaveLongRun,
  promptText,
  sliceEnd,
  warmTokenizer,
  SYNC_MAX_CHARS,
} from '../../src/accounting/estimate.js';

test('known cl100k counts', () => {
  assert.equal(estimateTokensSync(''), 0);
  assert.equal(estimateTokensSync('Hello'), 1);
  assert.equal(estimateTokensSync('Hello, world!'), 4);
  const fox = estimateTokensSync('The quick brown fox jumps over the lazy dog');
  assert.ok(fox >= 9 && fox <= 12, `fox: ${fox}`);
  const mixed = estimateTokensSync('Hello 世界! 🌍');
  assert.ok(mixed >= 5 && mixed <= 12, `mixed: ${mixed}`);
  // special-token text in a prompt is plain text, not an error
  assert.ok(estimateTokensSync('a <|endoftext|> b') > 3);
});

test('the async estimate agrees with one-call counting to within a few tokens per MB', async () => {
  const text = Array.from({ length: 6000 }, (_, i) => `line ${i}: {"key_${i}": [${i}, ${i * 7}], "ok": true} and some prose here.`).join('\n');
  assert.ok(text.length > SYNC_MAX_CHARS * 10);
  const whole = estimateTokensSync(text);
  const sliced = await estimateTokens(text);
  assert.ok(Math.abs(whole - sliced) <= Math.ceil(text.length / 1e6) * 50 + 10, `whole ${whole} vs sliced ${sliced}`);
  assert.equal(await estimateTokens('Hello, world!'), 4);
});

test('slices end at whitespace and never split a surrogate pair', () => {
  const emoji = '🌍'.repeat(5000);
  for (let start = 0; start < emoji.length; ) {
    const end = sliceEnd(emoji, start, 101);
    assert.ok(end > start);
    assert.ok(!(emoji.charCodeAt(end) >= 0xdc00 && emoji.charCodeAt(end) <= 0xdfff), `cut inside a pair at ${end}`);
    start = end;
  }
  const words = 'word '.repeat(100);
  assert.equal(words[sliceEnd(words, 0, 52)], ' ');
});

test('estimating a 1 MB prompt does not hold the event loop', async () => {
  warmTokenizer(); // the one-off load is not what this measures
  const unit = 'function add(a: number, b: number) { return a + b; } // {"k":[1,2,3]} The quick brown fox.\n';
  const text = unit.repeat(Math.ceil((1024 * 1024) / unit.length));
  let timerFiredDuring = false;
  let done = false;
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const timer = setTimeout(() => {
    timerFiredDuring = !done;
  }, 0);
  const tokens = await estimateTokens(text);
  done = true;
  h.disable();
  clearTimeout(timer);
  assert.ok(tokens > 200_000 && tokens < 400_000, `tokens ${tokens}`);
  assert.ok(timerFiredDuring, 'a timer due during the estimate ran before it finished');
  const maxMs = h.max / 1e6;
  // A property bound, generous for a shared 2-core machine: one unsliced count takes 150–650 ms here.
  assert.ok(maxMs < 100, `event loop held for ${maxMs.toFixed(1)} ms`);
});

test('long runs (padding, one huge word) are counted in pieces, so BPE cannot go quadratic', async () => {
  warmTokenizer();
  const runs = [
    ' '.repeat(SYNC_MAX_CHARS),
    'a'.repeat(SYNC_MAX_CHARS),
    '='.repeat(SYNC_MAX_CHARS),
    '世'.repeat(SYNC_MAX_CHARS),
    '🌍'.repeat(SYNC_MAX_CHARS / 2),
  ];
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const counts: number[] = [];
  for (const run of runs) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    counts.push(estimateTokensSync(run));
  }
  await new Promise<void>((resolve) => setTimeout(resolve, 2));
  h.disable();
  // Unpieced, one 16 K run of spaces or letters held the loop for 200–330 ms here.
  assert.ok(h.max / 1e6 < 100, `event loop held for ${(h.max / 1e6).toFixed(1)} ms`);
  assert.ok(counts[1]! >= SYNC_MAX_CHARS / 16 && counts[1]! <= SYNC_MAX_CHARS, `letters: ${counts[1]}`);
  assert.ok(counts[3]! >= SYNC_MAX_CHARS / 2, `CJK: ${counts[3]}`);
  assert.ok(counts[4]! >= SYNC_MAX_CHARS / 2, `emoji: ${counts[4]}`);
  // text without long runs is counted exactly as the tokenizer counts it in one call
  const prose = 'An ordinary sentence, with punctuation and numbers like 1234.\n'.repeat(200);
  assert.equal(estimateTokensSync(prose), countTokens(prose));
});

test('a run of megabytes (one 8 MiB letter run, as a padded prompt) is counted, not a regex stack overflow', async () => {
  const run = 'x'.repeat(8 * 1024 * 1024);
  assert.equal(estimateTokensSync(run), estimateTokensSync('x'.repeat(64)) * (run.length / 64));
  assert.ok((await estimateTokens(run)) > 0);
});

test('promptText: Anthropic system blocks, tool definitions, tool_use input and tool results; no image base64', () => {
  const text = promptText({
    model: 'glm-4.7',
    system: [{ type: 'text', text: 'SYSTEM-PROMPT' }],
    tools: [{ name: 'read_file', description: 'READS-A-FILE', input_schema: { type: 'object', properties: { path: { type: 'string' } } } }],
    messages: [
      { role: 'user', content: 'USER-STRING' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'THOUGHT' },
          { type: 'tool_use', id: 't1', name: 'read_file', input: { path: '/INPUT-PATH' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'RESULT-TEXT' }] },
          { type: 'tool_result', tool_use_id: 't2', content: 'RESULT-STRING' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'QUJDREVGR0g=' } },
          { type: 'text', text: 'USER-BLOCK' },
        ],
      },
    ],
  });
  for (const part of [
    'SYSTEM-PROMPT',
    'read_file',
    'READS-A-FILE',
    '"path"',
    'USER-STRING',
    'THOUGHT',
    '/INPUT-PATH',
    'RESULT-TEXT',
    'RESULT-STRING',
    'USER-BLOCK',
  ]) {
    assert.ok(text.includes(part), `missing ${part}`);
  }
  assert.ok(!text.includes('QUJDREVGR0g='), 'image base64 is not prompt text');
  assert.equal(promptText({ system: 'PLAIN-SYSTEM' }), 'PLAIN-SYSTEM');
});

test('promptText: OpenAI system message, content parts, tool_calls arguments, tools and legacy functions', () => {
  const text = promptText({
    messages: [
      { role: 'system', content: 'SYS' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'PART' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,SUNPTg==' } },
        ],
      },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'lookup', arguments: '{"q":"ARGS"}' } }] },
      { role: 'tool', tool_call_id: 'c', content: 'TOOL-OUTPUT' },
    ],
    tools: [{ type: 'function', function: { name: 'lookup', description: 'LOOKS-UP', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
    functions: [{ name: 'legacy_fn', description: 'LEGACY', parameters: {} }],
  });
  for (const part of ['SYS', 'PART', 'ARGS', 'TOOL-OUTPUT', 'LOOKS-UP', '"q"', 'legacy_fn', 'LEGACY']) assert.ok(text.includes(part), `missing ${part}`);
  assert.ok(!text.includes('SUNPTg=='));
});

test('promptText tolerates junk and bounds nesting', () => {
  assert.equal(promptText(null), '');
  assert.equal(promptText('string'), '');
  assert.equal(promptText({ messages: 'nope', tools: {}, system: 42 }), '');
  let nested: unknown = 'DEEP';
  for (let i = 0; i < 10_000; i++) nested = [{ type: 'tool_result', content: nested }];
  assert.doesNotThrow(() => promptText({ messages: [{ role: 'user', content: nested }] }));
});

test('the long-run pre-check never misses a run the regex would cut (seeded random texts, then each kind of stretch)', () => {
  // Letters, digits, ASCII and Unicode spaces, CJK, accents and punctuation, in runs of every length.
  const alphabet = ['a', 'Z', '7', ' ', '\n', '\t', '\u3000', '\u00a0', '\u2003', '漢', 'é', '\u0301', '-', '.', '»', '😀'];
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed >>> 12) % n; // the high bits: the low ones of this generator repeat quickly
  };
  let flagged = 0;
  for (let t = 0; t < 2000; t++) {
    let text = '';
    for (let r = 0; r < 6; r++) {
      const pick = Array.from({ length: 1 + rand(3) }, () => alphabet[rand(alphabet.length)]!);
      for (let i = rand(90); i > 0; i--) text += pick[rand(pick.length)];
    }
    if (hasLongRun(text)) {
      flagged++;
      assert.ok(mayHaveLongRun(text), `missed a long run in ${JSON.stringify(text)}`);
    }
  }
  assert.ok(flagged > 100, `only ${flagged} texts had a long run: the test would prove nothing`);
  // The stretches the pre-check must see through: mixed ASCII and Unicode spaces, letters with marks, CJK, symbols.
  for (const run of [' \u3000', '\u00a0', '\t\n\u2003', 'é\u0301', '漢', '-', '😀', 'aZ']) {
    const text = `x ${run.repeat(80)} y`;
    assert.ok(hasLongRun(text) && mayHaveLongRun(text), JSON.stringify(run));
  }
  // Ordinary prose skips the regex altogether.
  assert.equal(mayHaveLongRun('lorem ipsum dolor sit amet '.repeat(1000)), false);
});

test('large estimates take turns: one holds the loop at a time, each one whole before the next', async () => {
  const trace: string[] = [];
  // A clock that moves 5 ms per reading, so every slice ends in a yield to the loop.
  const clock = (id: string) => {
    let t = 0;
    return () => {
      trace.push(id);
      return (t += 5);
    };
  };
  const text = 'lorem ipsum dolor sit amet '.repeat(2000); // ~54 K chars: 14 slices
  const counts = await Promise.all(['a', 'b', 'c'].map((id) => estimateTokens(text, { now: clock(id) })));
  assert.deepEqual(new Set(counts).size, 1);
  const turns = trace.filter((id, i) => id !== trace[i - 1]);
  assert.deepEqual(turns, ['a', 'b', 'c'], `interleaved: ${trace.join('')}`);
});

test('past the queue bound a large text is approximated from its size, and the loop is not held for it', async () => {
  const text = 'lorem ipsum dolor sit amet '.repeat(2000); // ~54 K chars
  let slices = 0;
  const clock = () => {
    slices++;
    return slices * 5;
  };
  const first = estimateTokens(text, { now: clock, queueMaxChars: text.length * 1.5 });
  const second = await estimateTokens(text, { now: clock, queueMaxChars: text.length * 1.5 });
  assert.equal(second, approximateTokens(text));
  const counted = await first;
  // The guess is within a factor of two of the count on prose (4 bytes a token against cl100k's ~4.9 here).
  assert.ok(second > counted / 2 && second < counted * 2, `${second} guessed, ${counted} counted`);
  // And once the queue drained, large texts are counted again.
  assert.equal(await estimateTokens(text, { queueMaxChars: text.length * 1.5 }), counted);
});
