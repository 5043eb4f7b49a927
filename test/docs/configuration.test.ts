import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { dashboardEnvShape } from '../../src/config/dashboard.js';
import { demoEnvShape } from '../../src/config/demo.js';
import { parseDurationMs } from '../../src/config/fields.js';
import { proxyEnvShape } from '../../src/config/proxy.js';
import { filesUnder, read, sections, variableRows } from './support.js';

/**
 * docs/configuration.md against the code: every environment variable the code reads is
 * documented, every documented one is still read, each configuration shape is documented
 * under its command's section with the default the shape applies, and every variable a
 * deployment file sets is one the code reads.
 */

const doc = read('docs/configuration.md');
const docSections = sections(doc);
const documented = new Set(variableRows(doc).flatMap((r) => r.names));

/** The operating system's own variables, read to start child processes, not configuration. */
const SYSTEM = new Set(['PATH', 'HOME']);

/**
 * Variables read straight from an environment object: `process.env.X`, `env.X`, `env?.X`,
 * `env['X']` (an `env` parameter is the process environment or a configuration parsed from it).
 */
const READ = /\benv\??\.([A-Z][A-Z0-9_]*)\b|\benv\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\]/g;

function readInCode(): Map<string, string[]> {
  const where = new Map<string, string[]>();
  const files = [
    ...filesUnder('src', (p) => /\.(ts|tsx|mjs|js)$/.test(p)),
    ...filesUnder('bin'),
    ...filesUnder('scripts', (p) => /\.(ts|mjs|js)$/.test(p)),
    ...filesUnder('test/support', (p) => /\.ts$/.test(p)),
  ];
  for (const file of files) {
    for (const m of read(file).matchAll(READ)) {
      const name = (m[1] ?? m[2])!;
      if (SYSTEM.has(name)) continue;
      where.set(name, [...(where.get(name) ?? []), file]);
    }
  }
  const shapes = { 'src/config/proxy.ts': proxyEnvShape, 'src/config/dashboard.ts': dashboardEnvShape, 'src/config/demo.ts': demoEnvShape };
  for (const [file, shape] of Object.entries(shapes)) {
    for (const name of Object.keys(shape)) where.set(name, [...(where.get(name) ?? []), file]);
  }
  return where;
}

const code = readInCode();

/** `- name: X` entries with a value, anywhere in the Kubernetes manifests (JSON patches included). */
function setByManifests(): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (node: unknown, file: string): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n, file);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o.name === 'string' && /^[A-Z][A-Z0-9_]*$/.test(o.name) && ('value' in o || 'valueFrom' in o)) out.set(o.name, file);
    for (const [key, value] of Object.entries(o)) {
      if (key === 'patch' && typeof value === 'string') for (const d of parseAllDocuments(value)) visit(d.toJS(), file);
      else visit(value, file);
    }
  };
  for (const file of filesUnder('deploy/kubernetes', (p) => /\.ya?ml$/.test(p))) {
    for (const d of parseAllDocuments(read(file))) visit(d.toJS(), file);
  }
  return out;
}

/** ENV names of the image's runtime stage (after the last FROM). */
function setByImage(): string[] {
  const text = read('Dockerfile').replace(/\\\n/g, ' ');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  return [...runtime.matchAll(/^ENV\s+(.+)$/gm)].flatMap((m) => [...m[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=/g)].map((n) => n[1]!));
}

function section(heading: string): Set<string> {
  const text = docSections.get(heading);
  assert.ok(text !== undefined, `docs/configuration.md has no "## ${heading}" section`);
  return new Set(variableRows(text).flatMap((r) => r.names));
}

type Shape = Record<string, { description?: string; parse(v: unknown): unknown }>;

/** Each documented default, read back the way the field reads a value, equals the shape's default. */
function checkDefaults(shape: Shape, heading: string): void {
  const rows = variableRows(docSections.get(heading)!);
  for (const [name, field] of Object.entries(shape)) {
    const def = field.parse(undefined);
    if (def === undefined || (Array.isArray(def) && def.length === 0)) continue;
    const row = rows.find((r) => r.names.includes(name));
    assert.ok(row, `${name} is not in "## ${heading}"`);
    const shown = /`([^`]+)`/.exec(row.cells[1] ?? '')?.[1];
    assert.ok(shown !== undefined, `${name}: the default column shows no value (the code's default is ${JSON.stringify(def)})`);
    const kind = field.description ?? '';
    const read = kind.startsWith('a duration')
      ? parseDurationMs(shown)
      : typeof def === 'number'
        ? Number(shown)
        : typeof def === 'boolean'
          ? shown === 'true'
          : shown;
    assert.deepEqual(read, def, `${name}: docs/configuration.md says the default is ${shown}, the code's is ${JSON.stringify(def)}`);
  }
}

describe('docs/configuration.md', () => {
  it('documents every environment variable the code reads', () => {
    const missing = [...code.keys()].filter((n) => !documented.has(n)).sort();
    assert.deepEqual(
      missing,
      [],
      `read by the code but not in docs/configuration.md: ${missing.map((n) => `${n} (${[...new Set(code.get(n))].join(', ')})`).join('; ')}`,
    );
  });

  it('documents no variable the code no longer reads', () => {
    const stale = [...documented].filter((n) => !code.has(n)).sort();
    assert.deepEqual(stale, [], `in docs/configuration.md but read nowhere in src/, bin/, scripts/ or test/support/: ${stale.join(', ')}`);
  });

  it("documents each command's variables in its section", () => {
    const cases: [string, Shape][] = [
      ['Proxy (`serve` and `start`)', proxyEnvShape as unknown as Shape],
      ['Dashboard (`dashboard` and `start`)', dashboardEnvShape as unknown as Shape],
      ['Demo', demoEnvShape as unknown as Shape],
    ];
    for (const [heading, shape] of cases) {
      const inSection = section(heading);
      const absent = Object.keys(shape).filter((n) => !inSection.has(n));
      assert.deepEqual(absent, [], `missing from "## ${heading}": ${absent.join(', ')}`);
    }
  });

  it('shows the defaults the configuration shapes apply', () => {
    checkDefaults(proxyEnvShape as unknown as Shape, 'Proxy (`serve` and `start`)');
    checkDefaults(dashboardEnvShape as unknown as Shape, 'Dashboard (`dashboard` and `start`)');
    checkDefaults(demoEnvShape as unknown as Shape, 'Demo');
  });

  it('says what every CLI command reads', () => {
    const commands = [...read('src/cli.ts').matchAll(/^\s+'?([a-z][a-z-]*)'?: \{\s*summary:/gm)].map((m) => m[1]!);
    assert.ok(commands.includes('serve') && commands.includes('verify-monitoring'), `commands found in src/cli.ts: ${commands.join(', ')}`);
    const table = docSections.get('How values are read') ?? '';
    const missing = commands.filter((c) => !new RegExp(`^\\| \`zai-proxy ${c}\``, 'm').test(table));
    assert.deepEqual(missing, [], `commands without a row in "Which command reads which group": ${missing.join(', ')}`);
  });

  it('Kubernetes manifests and the image set only variables the code reads', () => {
    const manifests = setByManifests();
    assert.ok(manifests.has('ZAI_API_KEY') && manifests.has('REDIS_URL'), `the manifest scan found too little: ${[...manifests.keys()].join(', ')}`);
    const unread = [...manifests].filter(([n]) => !code.has(n)).map(([n, f]) => `${n} (${f})`);
    assert.deepEqual(unread, [], `set by a manifest but read by nothing: ${unread.join(', ')}`);
    // NODE_ENV is for the libraries; zai-proxy itself does not read it.
    const image = setByImage().filter((n) => n !== 'NODE_ENV');
    assert.ok(image.includes('HOST'), `the Dockerfile scan found too little: ${image.join(', ')}`);
    const unreadByImage = image.filter((n) => !code.has(n));
    assert.deepEqual(unreadByImage, [], `set by the Dockerfile but read by nothing: ${unreadByImage.join(', ')}`);
  });
});
