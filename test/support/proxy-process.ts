import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { simUpstreamEnv, type SimUpstream } from './proxy.js';

const bin = new URL('../../bin/zai-proxy', import.meta.url).pathname;
const probeModule = new URL('./memory-probe.mjs', import.meta.url).pathname;

/** Live memory of the process, in bytes, sampled after a full garbage collection (memory-probe.mjs). */
export interface MemorySample {
  arrayBuffers: number;
  heapUsed: number;
  external: number;
  rss: number;
}

export interface MemoryProbe {
  /** One sample now. */
  sample(): Promise<MemorySample>;
  /** Starts sampling every 200 ms. */
  watch(): Promise<void>;
  /** The largest value of each field since watch(), which stops sampling. */
  peak(): Promise<MemorySample>;
}

/** `zai-proxy serve` in a child process of its own, so its memory can be measured alone. */
export interface ProxyProcess {
  url: string;
  child: ChildProcess;
  /** Every line the process wrote to stdout (its log). */
  logs(): string;
  /** Everything it wrote to stderr (also passed on to ours). */
  errors(): string;
  /** Resident set size now, and its peak since start (VmHWM), in bytes. */
  rssBytes(): number;
  peakRssBytes(): number;
  /** With `{ memoryProbe: true }`: the process's live memory, measured inside it. */
  memory: MemoryProbe | undefined;
  /** SIGTERM, then SIGKILL if it is still up after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** `command` is the zai-proxy command to run (default `serve`; `dashboard` logs its URL the same way). */
export async function spawnProxy(
  env: Record<string, string>,
  nodeArgs: string[] = [],
  opts: { memoryProbe?: boolean; command?: string } = {},
): Promise<ProxyProcess> {
  const probeArgs = opts.memoryProbe ? ['--expose-gc', '--no-concurrent-array-buffer-sweeping', '--import', probeModule] : [];
  const child = spawn(process.execPath, [...probeArgs, ...nodeArgs, bin, opts.command ?? 'serve'], {
    env: { PATH: process.env.PATH, PORT: '0', RATE_LIMIT_STATE_FILE: 'none', SHUTDOWN_GRACE: '1s', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString('utf8');
    process.stderr.write(d);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`zai-proxy exited (${code}) before listening: ${out}`)));
  });
  let memory: MemoryProbe | undefined;
  if (opts.memoryProbe) {
    const probeUrl = /"memoryProbe":"(http:\/\/[^"]+)"/.exec(out)?.[1];
    if (!probeUrl) throw new Error(`the memory probe did not start: ${out}`);
    const call = async (method: string, path: string) => {
      const res = await fetch(`${probeUrl}${path}`, { method });
      if (!res.ok) throw new Error(`memory probe ${method} ${path}: ${res.status}`);
      return (await res.json()) as MemorySample;
    };
    memory = {
      sample: () => call('GET', '/sample'),
      watch: async () => void (await call('POST', '/watch')),
      peak: () => call('GET', '/peak'),
    };
  }
  const status = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    return Number(m?.[1] ?? NaN) * 1024;
  };
  return {
    url,
    child,
    logs: () => out,
    errors: () => err,
    rssBytes: () => status('VmRSS'),
    peakRssBytes: () => status('VmHWM'),
    memory,
    stop: async (graceMs = 5000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** spawnProxy in front of a running simulator: every upstream base from `sim`, the rest from `env`. */
export function spawnProxyFor(
  sim: SimUpstream,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
  opts: { memoryProbe?: boolean } = {},
): Promise<ProxyProcess> {
  return spawnProxy({ ...simUpstreamEnv(sim), ...env }, nodeArgs, opts);
}
