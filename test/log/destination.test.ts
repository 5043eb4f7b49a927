import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogDestination } from '../../src/log/destination.js';

const child = join(import.meta.dirname, 'support/destination-child.ts');

/** Runs `command` in a shell (children of one shell share its stdout: one pipe) and returns what it printed. */
async function run(command: string): Promise<{ out: string; err: string; code: number | null }> {
  const sh = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  sh.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  sh.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const [code] = (await once(sh, 'close')) as [number | null];
  return { out, err, code };
}

const node = `'${process.execPath}' --import tsx '${child}'`;

function linesOf(out: string): { pid: number; i: number }[] {
  const text = out.trimEnd();
  return text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as { pid: number; i: number });
}

describe('log destination', () => {
  it('writes text and bytes in the order given, then says close on end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zai-dest-'));
    const path = join(dir, 'log');
    const fd = openSync(path, 'w');
    try {
      const dest = new LogDestination(fd, 64);
      const expected: string[] = [];
      for (let i = 0; i < 200; i++) {
        const line = `${i % 3 === 0 ? 'text' : 'bytes'} ${i} ${'é'.repeat(i % 40)}\n`;
        expected.push(line);
        if (i % 3 === 0) dest.write(line);
        else dest.writeBytes(Buffer.from(line));
      }
      dest.end();
      await once(dest, 'close');
      assert.equal(readFileSync(path, 'utf8'), expected.join(''));
      assert.equal(dest.lostBytes, 0);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('asks for a pause past its high-water mark and says drain once written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zai-dest-'));
    const fd = openSync(join(dir, 'log'), 'w');
    try {
      const dest = new LogDestination(fd);
      assert.equal(dest.writeBytes(Buffer.alloc(1000, 10)), true);
      assert.equal(dest.writeBytes(Buffer.alloc(32 * 1024, 10)), false);
      await once(dest, 'drain');
      assert.equal(dest.writeBytes(Buffer.alloc(10, 10)), true);
      dest.end();
      await once(dest, 'close');
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes every queued line when the process exits on the same turn', async () => {
    const { out, code } = await run(`${node} exit 3000 200`);
    assert.equal(code, 0);
    assert.deepEqual(
      linesOf(out).map((l) => l.i),
      Array.from({ length: 3000 }, (_, i) => i),
    );
  });

  it('never interleaves lines of processes sharing one pipe, even for batches longer than a pipe write', async () => {
    // Three writers, 15 KB batches of 300-byte lines, and a reader that starts late so the pipe is full.
    const { out, code } = await run(`(${node} batch 3000 300 & ${node} batch 3000 300 & ${node} batch 3000 300 & wait) | (sleep 1; cat)`);
    assert.equal(code, 0);
    const lines = linesOf(out); // throws on a line cut by another process's write
    assert.equal(lines.length, 9000);
    const byPid = new Map<number, { i: number }[]>();
    for (const l of lines) byPid.set(l.pid, [...(byPid.get(l.pid) ?? []), l]);
    assert.equal(byPid.size, 3);
    for (const mine of byPid.values())
      assert.deepEqual(
        mine.map((l) => l.i),
        Array.from({ length: 3000 }, (_, i) => i),
      );
  });

  it('counts what it could not write when the reader is gone, without throwing or hanging', async () => {
    const { err, code } = await run(`${node} lose 20000 300 | head -c 1 >/dev/null`);
    assert.equal(code, 0, err);
    const lost = Number(/lost (\d+)/.exec(err)?.[1]);
    assert.ok(lost > 0 && lost <= 20000 * 300, err);
  });
});
