import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { TokenCounter } from '../../src/accounting/token-counter.js';

const tokenizerLoadedHere = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('gpt-tokenizer'));

test('counts on its own thread: the tokenizer never enters this one', async () => {
  const counter = new TokenCounter();
  try {
    assert.equal(await counter.count('Hello, world!'), 4);
    assert.equal(await counter.count(''), 0);
    assert.equal(tokenizerLoadedHere(), false);
  } finally {
    await counter.close();
  }
});

test('counts answer in order under many at once, and a closed counter starts a new thread', async () => {
  const counter = new TokenCounter();
  const texts = Array.from({ length: 50 }, (_, i) => Array.from({ length: i + 1 }, () => 'word').join(' '));
  const counts = await Promise.all(texts.map((t) => counter.count(t)));
  assert.deepEqual(
    counts,
    texts.map((_, i) => i + 1),
  );
  await counter.close();
  assert.equal(await counter.count('Hello, world!'), 4, 'the next count starts a new thread');
  await counter.close();
});

test('counts still owed when the thread goes fail, and do not hang', async () => {
  const counter = new TokenCounter();
  await counter.count('warm up');
  const owed = counter.count('word '.repeat(200_000));
  await counter.close();
  await assert.rejects(owed, /exited/);
});

test('an idle thread stops, and the next count starts another', async () => {
  const counter = new TokenCounter({ idleMs: 20 });
  try {
    assert.equal(await counter.count('Hello, world!'), 4);
    assert.equal(counter.running, true);
    for (let i = 0; i < 100 && counter.running; i++) await sleep(10);
    assert.equal(counter.running, false, 'stopped after 20 ms without a count');
    assert.equal(await counter.count('Hello, world!'), 4);
  } finally {
    await counter.close();
  }
});

test('past the bound on owed text a count is approximated from its size, and the thread is not sent it', async () => {
  const counter = new TokenCounter({ maxOwedChars: 1000 });
  try {
    const first = counter.count('word '.repeat(180)); // 900 characters owed
    assert.equal(await counter.count('x'.repeat(200)), 50, '200 bytes ÷ 4');
    assert.equal(await first, 181);
    assert.equal(await counter.count('Hello, world!'), 4, 'counted again once the owed text is counted');
  } finally {
    await counter.close();
  }
});
