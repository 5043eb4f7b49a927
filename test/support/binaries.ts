import { execFileSync } from 'node:child_process';

/**
 * Finds a system binary a suite needs (prometheus, promtool, redis-server, chromium…).
 * Missing outside CI: the suite is skipped with a loud message. Missing under CI=true:
 * the suite fails, because .ci/run is supposed to have installed it.
 */
export function requireBinary(name: string): { path: string | undefined; skip: string | false } {
  let path: string | undefined;
  try {
    path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    path = undefined;
  }
  if (path) return { path, skip: false };
  const message = `${name} is not installed (apt-get install the Debian package; .ci/run does)`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${message}`);
  console.warn(`\n!!! SKIPPING: ${message}\n`);
  return { path: undefined, skip: message };
}
