import { readFileSync } from 'node:fs';
import type { ProxyEnv } from '../config/proxy.js';

/** Version from package.json; commit and build time from the environment the build set. */
export function buildInfo(env: Pick<ProxyEnv, 'ZAI_PROXY_VERSION' | 'ZAI_PROXY_COMMIT' | 'ZAI_PROXY_BUILD_TIME'>) {
  let version = env.ZAI_PROXY_VERSION;
  if (!version) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
      version = pkg.version;
    } catch {
      version = undefined;
    }
  }
  return { version: version ?? 'unknown', commit: env.ZAI_PROXY_COMMIT ?? 'unknown', buildTime: env.ZAI_PROXY_BUILD_TIME ?? 'unknown' };
}
