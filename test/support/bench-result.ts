import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = new URL('../..', import.meta.url).pathname;

/** Runs a bench script (`args`, space-separated, from the repository's root) with `--out FILE`, and returns what it wrote there. */
export async function benchResult(args: string, timeoutMs: number) {
  const out = join(mkdtempSync(join(tmpdir(), 'zai-bench-')), 'result.json');
  await promisify(execFile)(process.execPath, [...args.split(' '), '--out', out], { cwd: root, timeout: timeoutMs });
  return JSON.parse(readFileSync(out, 'utf8'));
}
