import { readFileSync } from 'node:fs';

/** This build's version: ZAI_PROXY_VERSION when the image set it, else package.json's. */
export function packageVersion(envVersion: string | undefined): string {
  if (envVersion) return envVersion;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
