import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { startSimulator } from '../../src/sim/index.js';
import { openGatedStream, simUpstreamEnv } from '../support/proxy.js';

const bin = new URL('../../bin/zai-proxy', import.meta.url).pathname;

describe('zai-proxy serve as a process', () => {
  it('on SIGTERM finishes the stream in flight, then exits 0', async () => {
    const sim = await startSimulator({ scenario: { gateChunks: true, streamChunks: 3 } });
    const child = spawn(process.execPath, [bin, 'serve'], {
      env: { PATH: process.env.PATH, PORT: '0', ...simUpstreamEnv(sim), RATE_LIMIT_STATE_FILE: 'none', SHUTDOWN_GRACE: '20s' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const url = await new Promise<string>((resolve, reject) => {
        const check = () => {
          const m = /"url":"(http:\/\/[^"]+)","variant"/.exec(out);
          if (m) resolve(m[1]!);
        };
        child.stdout!.on('data', check);
        child.once('exit', () => reject(new Error(`exited before listening: ${out}`)));
      });

      const res = await openGatedStream(sim, url);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      // The proxy says it is draining before the stream is allowed to go on.
      for (let i = 0; i < 500 && !out.includes('"msg":"draining"'); i++) await new Promise((r) => setTimeout(r, 10));
      assert.match(out, /"msg":"draining"/);
      sim.releaseChunk(10);
      const text = await res.body.text();
      assert.ok(text.includes('data: [DONE]'), 'the stream in flight finished');
      const [code] = await exited;
      assert.equal(code, 0);
      assert.match(out, /"msg":"stopped"/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await sim.close();
    }
  });
});
