import { Writable } from 'node:stream';
import { type Dispatcher, request } from 'undici';
import { readProxyEnv } from '../../src/config/proxy.js';
import { createLogger } from '../../src/log/logger.js';
import { startProxy, type ProxyServer } from '../../src/proxy/server.js';
import type { Simulator } from '../../src/sim/index.js';

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

/** The upstream bases a simulator serves (the OpenAI-compatible, Anthropic-compatible and quota APIs). */
export type SimUpstream = Pick<Simulator, 'openaiBaseUrl' | 'anthropicBaseUrl' | 'quotaBaseUrl'>;

/** The proxy's upstream variables pointed at a running simulator. */
export function simUpstreamEnv(sim: SimUpstream): Record<string, string> {
  return { ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl, ZAI_ANTHROPIC_BASE_URL: sim.anthropicBaseUrl, ZAI_QUOTA_BASE_URL: sim.quotaBaseUrl };
}

/**
 * startTestProxy in front of a running simulator: every upstream base from `sim`, the rest
 * (and any base to override) from `env`. The operator key is the test's to set there: without
 * ZAI_API_KEY the proxy sends each client's own key upstream.
 */
export function startProxyFor(sim: SimUpstream, env: Record<string, string | undefined> = {}): Promise<TestProxy> {
  return startTestProxy({ ...simUpstreamEnv(sim), ...env });
}

/**
 * Opens a streamed chat completion through the proxy at `proxyUrl` to a simulator that gates
 * its chunks (`gateChunks`), waits until the simulator holds it, releases the first chunk and
 * resolves with the response: the stream is then in flight at the proxy.
 */
export async function openGatedStream(sim: Simulator, proxyUrl: string): Promise<Dispatcher.ResponseData> {
  const pending = request(`${proxyUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'glm-4.7', stream: true, messages: [{ role: 'user', content: 'x' }] }),
  });
  await sim.waitFor((s) => s.inFlight === 1);
  sim.releaseChunk();
  return pending;
}
