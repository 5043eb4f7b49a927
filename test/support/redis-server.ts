import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort, pollUntil } from './wait.js';

/** A throwaway redis-server on a loopback port, without persistence; can be killed and restarted on the same port. */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    private readonly bin: string,
    readonly port: number,
  ) {}

  static async start(bin: string): Promise<RedisServer> {
    const server = new RedisServer(bin, await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(this.bin, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.child = child;
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await pollUntil(
      () => {
        if (child.exitCode !== null) throw new Error('redis-server exited at start');
        return out.includes('Ready to accept connections');
      },
      'redis-server to accept connections',
      10_000,
    );
  }

  /** Kills the server at once (an outage, as far as clients can tell). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}
