#!/usr/bin/env node
// Runs every test file under test/ with Node's test runner, TypeScript loaded through tsx.
// Files named *.solo.test.ts hold real-time control-loop measurements (convergence, pacing)
// that a second busy test process would skew, and the container image build: they run after
// the rest, one at a time, with a longer timeout.
// Usage: node scripts/run-tests.mjs [substring filter ...]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** Runs one batch, its spec output on our stdout, and returns its exit code and totals. */
function run(batch, concurrency, timeoutMs = 180_000) {
  const dir = mkdtempSync(join(tmpdir(), 'zai-tests-'));
  const totalsFile = join(dir, 'totals.json');
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        `--test-concurrency=${concurrency}`,
        `--test-timeout=${timeoutMs}`,
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        `--test-reporter=${join(root, 'scripts/count-reporter.mjs')}`,
        `--test-reporter-destination=${totalsFile}`,
        ...batch,
      ],
      { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.on('close', (code) => {
      let totals = { pass: 0, fail: 1, skipped: 0 }; // no totals means the runner itself failed
      try {
        totals = JSON.parse(readFileSync(totalsFile, 'utf8'));
      } catch {}
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: code ?? 1, ...totals });
    });
  });
}

const solo = files.filter((f) => f.includes('.solo.'));
const shared = files.filter((f) => !f.includes('.solo.'));
const results = [];
if (shared.length) results.push(await run(shared, process.env.TEST_CONCURRENCY ?? 2));
if (solo.length) results.push(await run(solo, 1, 30 * 60_000));

const pass = results.reduce((n, r) => n + r.pass, 0);
const fail = results.reduce((n, r) => n + r.fail, 0);
const skipped = results.reduce((n, r) => n + r.skipped, 0);
console.log(`\ntests: ${pass} passed, ${fail} failed, ${skipped} skipped`);
process.exit(results.some((r) => r.code !== 0) || fail > 0 ? 1 : 0);
