import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The repository root (this file is test/docs/support.ts). */
export const root = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', 'data', 'results']);

/** Files under `dir` (relative to the root), as root-relative paths, build output and dependencies left out. */
export function filesUnder(dir: string, keep: (path: string) => boolean = () => true): string[] {
  const out: string[] = [];
  const walk = (abs: string) => {
    for (const name of readdirSync(abs)) {
      const path = join(abs, name);
      if (statSync(path).isDirectory()) {
        if (!SKIP_DIRS.has(name)) walk(path);
      } else {
        const rel = relative(root, path);
        if (keep(rel)) out.push(rel);
      }
    }
  };
  walk(join(root, dir));
  return out.sort();
}

export const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Markdown sections by their `## ` heading (text before the first one is under ''). */
export function sections(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  let heading = '';
  let lines: string[] = [];
  for (const line of markdown.split('\n')) {
    const m = /^## (.+)$/.exec(line);
    if (m) {
      out.set(heading, lines.join('\n'));
      heading = m[1]!.trim();
      lines = [];
    } else lines.push(line);
  }
  out.set(heading, lines.join('\n'));
  return out;
}

/** Table rows whose first cell names variables: `| \`A\`, \`B\` | default | meaning |` → [[A, B], cells]. */
export function variableRows(markdown: string): { names: string[]; cells: string[] }[] {
  const rows: { names: string[]; cells: string[] }[] = [];
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const names = [...(cells[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!);
    if (names.length > 0) rows.push({ names, cells });
  }
  return rows;
}
