import { packageVersion } from '../lib/package-version.js';
import type { ProxyEnv } from '../config/proxy.js';

/** Version from package.json; commit and build time from the environment the build set. */
export function buildInfo(env: Pick<ProxyEnv, 'ZAI_PROXY_VERSION' | 'ZAI_PROXY_COMMIT' | 'ZAI_PROXY_BUILD_TIME'>) {
  return { version: packageVersion(env.ZAI_PROXY_VERSION), commit: env.ZAI_PROXY_COMMIT ?? 'unknown', buildTime: env.ZAI_PROXY_BUILD_TIME ?? 'unknown' };
}
