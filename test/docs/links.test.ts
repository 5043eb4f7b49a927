import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { filesUnder, read, root } from './support.js';

/**
 * The repository carries its own documentation: nothing in it points at a file outside the
 * repository, and every document it names or links to exists (with the heading a link's
 * `#anchor` asks for).
 */

const TEXT = /\.(ts|tsx|mts|mjs|js|json|md|ya?ml|css|html|sh)$|(^|\/)(Dockerfile|zai-proxy)$/;

/** Where the outside-path rule applies: everything the repository ships or runs. */
const scanned = [
  ...['src', 'bin', 'scripts', 'test', 'deploy', 'docs', 'web/src', 'bench'].flatMap((d) => filesUnder(d, (p) => TEXT.test(p))),
  ...['README.md', 'Dockerfile', 'package.json', 'web/vite.config.ts'].filter((f) => existsSync(join(root, f))),
];
const everyFile = filesUnder('.', () => true);
const basenames = new Set(everyFile.map((f) => basename(f)));

/** Files whose `../` strings are URL paths a hostile client sends, not files. */
const URL_PATHS = new Set(['test/faults/path-traversal.test.ts']);

function outsideReferences(file: string, text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/\.\.\/shared\b/g)) found.push(m[0]);
  for (const m of text.matchAll(/(?<![\w.-])\/(?:work|home|Users|root)\/[\w.-]+/g)) found.push(m[0]);
  if (!URL_PATHS.has(file)) {
    // Paths in a markdown code block are relative to wherever the example lives, not to the page.
    const prose = file.endsWith('.md') ? text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '') : text;
    for (const m of prose.matchAll(/(?<![\w.])(?:\.\.\/)+[\w.-]*/g)) {
      const target = resolve(dirname(join(root, file)), m[0]);
      if (relative(root, target).startsWith('..')) found.push(m[0]);
    }
  }
  // A bare document name (a file name ending in .md) must be one the repository has; in markdown it is a
  // relative link and must exist next to the file.
  for (const m of text.matchAll(/(?<![\w/.-])([\w-]+\.md)\b/g)) {
    const name = m[1]!;
    const ok = file.endsWith('.md') ? existsSync(join(root, dirname(file), name)) || basenames.has(name) : basenames.has(name);
    if (!ok) found.push(name);
  }
  return found;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.+?)\s*#*$/.exec(line);
    if (!m) continue;
    const slug = m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

interface Link {
  from: string;
  target: string;
  anchor?: string;
}

/** Documents named anywhere (`docs/<name>.md#anchor`, root-relative) and relative markdown links in .md files. */
function links(): Link[] {
  const out: Link[] = [];
  for (const file of [...scanned, ...everyFile.filter((f) => f.startsWith('.ci/'))]) {
    const text = read(file);
    for (const m of text.matchAll(/(?<![\w/.-])(docs\/[\w./-]*\.md)(?:#([\w-]+))?/g)) out.push({ from: file, target: m[1]!, anchor: m[2] });
    if (!file.endsWith('.md')) continue;
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const href = m[1]!;
      if (/^[a-z]+:/i.test(href)) continue;
      const [path, anchor] = href.split('#') as [string, string | undefined];
      const target = path === '' ? file : relative(root, resolve(dirname(join(root, file)), path));
      out.push({ from: file, target, anchor });
    }
  }
  return out;
}

describe('the repository points only at itself', () => {
  it('no file under src/, bin/, scripts/, test/, deploy/, docs/, web/src/ or bench/ names a path outside the repository', () => {
    assert.ok(scanned.length > 100, `only ${scanned.length} files scanned`);
    const bad: string[] = [];
    for (const file of scanned) {
      const found = outsideReferences(file, read(file));
      if (found.length > 0) bad.push(`${file}: ${[...new Set(found)].join(', ')}`);
    }
    assert.deepEqual(bad, [], `paths outside the repository (point at docs/ instead):\n${bad.join('\n')}`);
  });

  it('the rule catches what it is for', () => {
    // Assembled, so that this file does not hold what it forbids.
    const up = '..';
    const shared = `${up}/shared`;
    const doc = (name: string) => `${name}.md`;
    assert.deepEqual(outsideReferences('src/x.ts', `// see ${shared}/${doc('METRICS')}`), [shared]);
    assert.deepEqual(outsideReferences('src/x.ts', `// see ${up}/${up}/notes/${doc('DESIGN')}`), [`${up}/${up}/notes`]);
    assert.deepEqual(outsideReferences('src/x.ts', `// (${doc('ZAI')} "Quota response")`), [doc('ZAI')]);
    const workspace = `${'/work'}/main`;
    assert.deepEqual(outsideReferences('guide/x.md', `see ${workspace}/docs`), [workspace]);
    assert.deepEqual(outsideReferences('src/x.ts', "import { a } from '../lib/json.js'; // README.md"), []);
  });
});

describe('every document the repository names exists', () => {
  it('links and docs/… mentions resolve, anchors included', () => {
    const broken: string[] = [];
    const anchors = new Map<string, Set<string>>();
    for (const link of links()) {
      const abs = join(root, link.target);
      if (!existsSync(abs)) {
        broken.push(`${link.from} → ${link.target} (missing)`);
        continue;
      }
      if (link.anchor === undefined || !link.target.endsWith('.md') || statSync(abs).isDirectory()) continue;
      if (!anchors.has(link.target)) anchors.set(link.target, anchorsOf(read(link.target)));
      if (!anchors.get(link.target)!.has(link.anchor)) broken.push(`${link.from} → ${link.target}#${link.anchor} (no such heading)`);
    }
    assert.deepEqual(broken, [], broken.join('\n'));
  });

  it('docs/README.md indexes every document under docs/', () => {
    const index = read('docs/README.md');
    const docs = filesUnder('docs', (p) => p.endsWith('.md') && p !== 'docs/README.md');
    const unlisted = docs.filter((d) => !index.includes(`(${relative('docs', d)})`));
    assert.deepEqual(unlisted, [], `not linked from docs/README.md: ${unlisted.join(', ')}`);
  });

  it('the CLI names documents that exist', () => {
    for (const file of ['src/cli/help.ts', 'src/cli/banner.ts']) {
      const named = [...read(file).matchAll(/docs\/[\w./-]+\.md/g)].map((m) => m[0]);
      assert.ok(named.length > 0, `${file} names no document`);
      for (const doc of named) assert.ok(existsSync(join(root, doc)), `${file} names ${doc}, which does not exist`);
    }
  });
});
