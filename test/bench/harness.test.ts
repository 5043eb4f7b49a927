import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireBinary } from '../support/binaries.js';

const wrk = requireBinary('wrk');
const root = new URL('../..', import.meta.url).pathname;

// The benchmark itself is `npm run bench`; this only proves the harness still runs end to end
// (every target starts, every scenario reports) with the smallest round count.
test('the bench harness runs one minimal round of every scenario', { skip: wrk.skip, timeout: 170_000 }, async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'zai-bench-')), 'result.json');
  await promisify(execFile)(
    process.execPath,
    [...'bench/proxy.mjs --rounds 1 --duration 1 --streams 4 --chunks 3 --interval 5 --ramp 20 --requests 200 --twin --out'.split(' '), out],
    { cwd: root, timeout: 160_000 },
  );
  const result = JSON.parse(readFileSync(out, 'utf8'));
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
  const out = join(mkdtempSync(join(tmpdir(), 'zai-instructions-')), 'result.json');
  await promisify(execFile)(
    process.execPath,
    ['bench/instructions.mjs', '--requests', '200', '--rounds', '1', '--warm', '200', '--concurrency', '8', '--only', 'proxy', '--out', out],
    { cwd: root, timeout: 270_000 },
  );
  const result = JSON.parse(readFileSync(out, 'utf8'));
  for (const name of ['bare', 'proxy']) {
    assert.equal(result.results[name].failed, 0, `${name} answered every request with 200`);
    // A relayed request is tens of thousands of instructions at the very least; a broken count reads 0 or NaN.
    assert.ok(result.results[name].median > 10_000, `${name} counted ${result.results[name].median}`);
  }
  assert.match(result.table, /\| proxy \| /);
});

// The streamed counts: per stream, per further chunk, and per start counted to its first byte
// while the streams are held open (a count that took in any stream's end is refused).
test('the instruction counter reports per stream, per chunk and per start for streamed answers', { skip: valgrind.skip, timeout: 280_000 }, async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'zai-instructions-')), 'result.json');
  await promisify(execFile)(
    process.execPath,
    [...'bench/instructions.mjs --stream 3 --requests 20 --rounds 1 --warm 200 --concurrency 4 --hold 8000 --only proxy --out'.split(' '), out],
    { cwd: root, timeout: 270_000 },
  );
  const result = JSON.parse(readFileSync(out, 'utf8'));
  for (const name of ['bare', 'proxy']) {
    const r = result.results[name];
    assert.equal(r.failed, 0, `${name} relayed every stream whole`);
    // A stream start on fresh connections is hundreds of thousands of instructions; a chunk, thousands.
    assert.ok(r.median > 10_000 && r.startMedian > 10_000 && r.chunkMedian > 1_000, `${name}: ${r.median} ${r.startMedian} ${r.chunkMedian}`);
  }
  assert.match(result.table, /\| proxy \| .*\| .*\| .*\| .*\| .*\| /);
});
