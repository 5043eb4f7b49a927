import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireBinary } from '../support/binaries.js';
import { benchResult } from '../support/bench-result.js';

const valgrind = requireBinary('valgrind');

// The streamed counts: per stream, per further chunk, and per start counted to its first byte
// while the streams are held open (a count that took in any stream's end is refused).
test('the instruction counter reports per stream, per chunk and per start for streamed answers', { skip: valgrind.skip, timeout: 170_000 }, async () => {
  const result = await benchResult('bench/instructions.mjs --stream 3 --requests 20 --rounds 1 --warm 100 --concurrency 4 --hold 6000 --only proxy', 160_000);
  for (const name of ['bare', 'proxy']) {
    const r = result.results[name];
    assert.equal(r.failed, 0, `${name} relayed every stream whole`);
    // A stream, or a start alone, is tens of thousands of instructions at the very least. A chunk
    // is the difference of two counts, which one round not yet warm can even make negative.
    assert.ok(r.median > 10_000 && r.startMedian > 10_000 && Number.isFinite(r.chunkMedian), `${name}: ${r.median} ${r.startMedian} ${r.chunkMedian}`);
  }
  assert.match(result.table, /\| proxy \| .*\| .*\| .*\| .*\| .*\| /);
});
