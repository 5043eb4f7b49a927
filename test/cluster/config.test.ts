import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { readProxyEnv } from '../../src/config/proxy.js';

const bin = new URL('../../bin/zai-proxy', import.meta.url).pathname;

describe('PROXY_WORKERS', () => {
  it('defaults to 1 and takes 1 to 64', () => {
    assert.equal(readProxyEnv({}).PROXY_WORKERS, 1);
    assert.equal(readProxyEnv({ PROXY_WORKERS: '4' }).PROXY_WORKERS, 4);
    assert.equal(readProxyEnv({ PROXY_WORKERS: '64' }).PROXY_WORKERS, 64);
  });

  it('refuses 0, negative, non-integer and more than 64 with the one-line config error', () => {
    for (const bad of ['0', '-1', '1.5', '65', 'two']) {
      assert.throws(() => readProxyEnv({ PROXY_WORKERS: bad }), {
        name: 'ConfigError',
        message: `invalid configuration: PROXY_WORKERS must be an integer between 1 and 64 (got ${JSON.stringify(bad)})`,
      });
    }
  });

  it('stops serve with that one line and exit code 2, before any worker starts', async () => {
    const child = spawn(process.execPath, [bin, 'serve'], {
      env: { PATH: process.env.PATH, PORT: '0', PROXY_WORKERS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code] = await once(child, 'exit');
    clearTimeout(timer);
    assert.equal(code, 2);
    assert.equal(err, 'zai-proxy serve: invalid configuration: PROXY_WORKERS must be an integer between 1 and 64 (got "0")\n');
  });

  it('with the port in use, every worker fails and the primary prints the one line once, exit code 2', async () => {
    const holder = createServer().listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const port = (holder.address() as AddressInfo).port;
    try {
      const child = spawn(process.execPath, [bin, 'serve'], {
        env: { PATH: process.env.PATH, PORT: String(port), PROXY_WORKERS: '2', RATE_LIMIT_STATE_FILE: 'none' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const [code] = await once(child, 'exit');
      clearTimeout(timer);
      assert.equal(code, 2);
      const lines = err.split('\n').filter((l) => l.startsWith('zai-proxy serve: '));
      assert.deepEqual(lines, [`zai-proxy serve: port ${port} is already in use (PORT=${port}); stop what listens there or set PORT to a free port`]);
    } finally {
      holder.close();
    }
  });
});
