import { Writable } from 'node:stream';
import { readProxyEnv } from '../../src/config/proxy.js';
import { createLogger } from '../../src/log/logger.js';
import { startProxy, type ProxyServer } from '../../src/proxy/server.js';

export interface TestProxy extends ProxyServer {
  /** Every log line the proxy wrote, as text (for secret scans and assertions). */
  logs(): string;
  metricsText(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts a proxy in this process on a free loopback port, configured like the real one from
 * environment-style variables, with its logs captured instead of printed. State files go
 * nowhere unless a test asks for one.
 */
export async function startTestProxy(env: Record<string, string | undefined> = {}): Promise<TestProxy> {
  const config = readProxyEnv({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', RATE_LIMIT_STATE_FILE: 'none', ...env });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const log = createLogger(config.LOG_LEVEL, sink);
  const proxy = await startProxy(config, { log });
  return Object.assign(proxy, {
    logs: () => {
      proxy.accessLog.flush();
      return lines.join('');
    },
    metricsText: () => proxy.metrics.registry.metrics(),
    close: () => proxy.shutdown(0),
  });
}
