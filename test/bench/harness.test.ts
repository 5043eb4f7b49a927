import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireBinary } from '../support/binaries.js';
import { benchResult } from '../support/bench-result.js';

const wrk = requireBinary('wrk');

// The benchmark itself is `npm run bench`; this only proves the harness still runs end to end
// (every target starts, every scenario reports) with the smallest round count.
test('the bench harness runs one minimal round of every scenario', { skip: wrk.skip, timeout: 170_000 }, async () => {
  const result = await benchResult('bench/proxy.mjs --rounds 1 --duration 1 --streams 4 --chunks 3 --interval 5 --ramp 20 --requests 200 --twin', 160_000);
  for (const name of ['direct', 'bare', 'bareTwin', 'proxy', 'proxyWarn']) {
    assert.ok(result.throughput[name].rps32.median > 0, `${name} served requests`);
    assert.equal(result.throughput[name].errors, 0, `${name} answered every request with 2xx`);
    assert.equal(result.streaming[name].failedStreams, 0, `${name} relayed every stream opened at once whole`);
    assert.equal(result.streamingRamp[name].failedStreams, 0, `${name} relayed every ramped stream whole`);
    assert.ok(result.largePrompts[name].rps.median > 0, `${name} took 1 MB prompts`);
    assert.ok(result.memory[name].rssAfterMb > 0);
  }
  assert.ok(result.throughput.proxy.vsBare.rpsRatio.n === 1 && result.throughput.proxy.vsWarn);
  assert.ok(Number.isFinite(result.largePrompts.proxy.eventLoopP99ms.median));
  // Pooled over rounds: every chunk of the 4 streams × 3 chunks counted, a positive delay.
  assert.ok(result.streaming.proxy.chunkP99PooledMs > 0 && Number.isFinite(result.streamingRamp.bareTwin.chunkP99PooledRatioVsBare));
  assert.match(result.table, /\| proxy \|/);
});

const valgrind = requireBinary('valgrind');

// `npm run bench:instructions` counts instructions under callgrind; this proves it still counts
// (both targets start under valgrind, answer, and report a count) with one tiny round.
test('the instruction counter reports a count per request for the bare relay and the proxy', { skip: valgrind.skip, timeout: 280_000 }, async () => {
  const result = await benchResult('bench/instructions.mjs --requests 200 --rounds 1 --warm 200 --concurrency 8 --only proxy', 270_000);
  for (const name of ['bare', 'proxy']) {
    assert.equal(result.results[name].failed, 0, `${name} answered every request with 200`);
    // A relayed request is tens of thousands of instructions at the very least; a broken count reads 0 or NaN.
    assert.ok(result.results[name].median > 10_000, `${name} counted ${result.results[name].median}`);
  }
  assert.match(result.table, /\| proxy \| /);
});
