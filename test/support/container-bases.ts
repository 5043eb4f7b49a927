import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';

import { join } from 'node:path';

/**
 * Base images for building the Dockerfile where no registry image can be pulled: Debian bookworm
 * from its packages (mmdebstrap), imported into podman, carrying this machine's Node (its binary,
 * headers and npm) so the image runs the Node the tests run. The build base adds what node-gyp
 * needs to compile better-sqlite3, and this machine's CA bundle for npm. Each image is tagged by a hash of its recipe and the Node
 * version, and reused from podman's storage while that hash stands (a cold build is ~1.5 min).
 */
const node = '/usr/bin/node';
const recipes = {
  runtime: { include: ['ca-certificates'], hooks: [`copy-in ${node} /usr/bin`] },
  build: {
    include: ['ca-certificates', 'python3', 'make', 'g++'],
    hooks: [
      `copy-in ${node} /usr/bin`,
      // The Dockerfile points node-gyp at /usr/local, where the official node images keep headers.
      'mkdir -p "$1/usr/local/include" "$1/usr/lib/node_modules"',
      'copy-in /usr/include/node /usr/local/include',
      'copy-in /usr/lib/node_modules/npm /usr/lib/node_modules',
      'ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/bin/npm"',
      // npm inside the build trusts what this machine trusts (its CA bundle, copied in).
      'copy-in /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs',
      'mkdir -p "$1/usr/etc" && echo cafile=/etc/ssl/certs/ca-certificates.crt > "$1/usr/etc/npmrc"',
    ],
  },
};

export type BaseKind = keyof typeof recipes;

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

function exists(tag: string): boolean {
  try {
    run('podman', ['image', 'exists', tag]);
    return true;
  } catch {
    return false;
  }
}

/** The podman tag of a test base image, built now if podman's storage does not hold it yet. */
export function testBaseImage(kind: BaseKind): string {
  const recipe = recipes[kind];
  const hash = createHash('sha256')
    .update(JSON.stringify({ recipe, node: process.version, suite: 'bookworm' }))
    .digest('hex')
    .slice(0, 12);
  const tag = `localhost/zai-proxy-test-${kind}:${hash}`;
  if (exists(tag)) return tag;
  const dir = mkdtempSync(join(process.env.TMPDIR_CONTAINERS ?? '/var/tmp', 'zai-proxy-base-'));
  try {
    const tar = join(dir, 'rootfs.tar');
    run('mmdebstrap', [
      '--quiet',
      '--variant=minbase',
      `--include=${recipe.include.join(',')}`,
      ...recipe.hooks.map((h) => `--customize-hook=${h}`),
      'bookworm',
      tar,
    ]);
    run('podman', ['import', '--quiet', tar, tag]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tag;
}
