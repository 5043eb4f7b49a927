import { startSimulator, type Simulator } from '../../../src/sim/index.js';
import { startProxyFor, type TestProxy } from '../../support/proxy.js';

/** The simulator with one live proxy per variant in front of it. */
export async function startLiveProxies(
  variants: readonly string[],
  after: (f: () => Promise<void>) => void,
): Promise<{ sim: Simulator; proxies: Record<string, TestProxy> }> {
  const sim = await startSimulator({ scenario: { outputTokens: 7, cachedTokens: 0 } });
  after(() => sim.close());
  const proxies: Record<string, TestProxy> = {};
  for (const v of variants) {
    const p = await startProxyFor(sim, {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      RATE_LIMIT_STATE_FILE: 'none',
      ZAI_API_KEY: 'sk-test-dashboard-secret',
      DEPLOYMENT_VARIANT: v,
      RATE_LIMIT_ENABLED: 'false',
      MAX_RETRIES: '0',
    });
    after(() => p.close());
    proxies[v] = p;
  }
  return { sim, proxies };
}

export async function chat(proxy: TestProxy, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'hello dashboard' }] }),
    });
    await res.text();
    if (res.status !== 200) throw new Error(`proxy answered ${res.status}`);
  }
}
