#!/usr/bin/env node
// Runs every test file under test/ with Node's test runner, TypeScript loaded through tsx.
// Files named *.solo.test.ts hold real-time control-loop measurements (convergence, pacing)
// that a second busy test process would skew: they run after the rest, one at a time.
// Usage: node scripts/run-tests.mjs [substring filter ...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = walk(join(root, 'test'))
  .filter((f) => /\.test\.tsx?$/.test(f))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

/** Runs one batch, echoing its output, and returns its exit code and pass/fail counts. */
function run(batch, concurrency) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=180000', '--test-reporter=spec', ...batch],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4096);
    });
    child.on('close', (code) => {
      const count = (word) => Number(new RegExp(`ℹ ${word} (\\d+)`).exec(tail)?.[1] ?? 0);
      resolve({ code: code ?? 1, pass: count('pass'), fail: count('fail') + count('cancelled'), skipped: count('skipped') });
    });
  });
}

const solo = files.filter((f) => f.includes('.solo.'));
const shared = files.filter((f) => !f.includes('.solo.'));
const results = [];
if (shared.length) results.push(await run(shared, process.env.TEST_CONCURRENCY ?? 2));
if (solo.length) results.push(await run(solo, 1));

const pass = results.reduce((n, r) => n + r.pass, 0);
const fail = results.reduce((n, r) => n + r.fail, 0);
const skipped = results.reduce((n, r) => n + r.skipped, 0);
console.log(`\ntests: ${pass} passed, ${fail} failed, ${skipped} skipped`);
process.exit(results.some((r) => r.code !== 0) || fail > 0 ? 1 : 0);
