#!/usr/bin/env node
// Prints every import cycle among the TypeScript modules under the given folders (default
// src/ and web/src/) and exits 1 when there is one. Type-only imports count: a cycle of
// types still ties two modules' reasons to change together.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const dirs = process.argv.slice(2).length ? process.argv.slice(2) : ['src', 'web/src'];

const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : /\.tsx?$/.test(name) ? [path] : [];
  });

const files = new Set(dirs.flatMap((d) => walk(join(root, d))));
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/g;

/** Resolves a relative specifier ending in .js to the .ts/.tsx file it names. */
function target(from, spec) {
  const base = resolve(dirname(from), spec).replace(/\.js$/, '');
  return [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].find((f) => files.has(f));
}

const graph = new Map([...files].map((f) => [f, [...readFileSync(f, 'utf8').matchAll(IMPORT)].map((m) => target(f, m[1])).filter(Boolean)]));

const cycles = [];
const state = new Map(); // 1 = on the stack, 2 = done
const stack = [];
function visit(node) {
  state.set(node, 1);
  stack.push(node);
  for (const next of graph.get(node)) {
    if (state.get(next) === 1) cycles.push([...stack.slice(stack.indexOf(next)), next]);
    else if (!state.has(next)) visit(next);
  }
  stack.pop();
  state.set(node, 2);
}
for (const f of [...files].sort()) if (!state.has(f)) visit(f);

for (const c of cycles) console.log(c.map((f) => relative(root, f)).join(' → '));
console.log(`${files.size} modules, ${[...graph.values()].reduce((n, e) => n + e.length, 0)} imports, ${cycles.length} cycles`);
process.exit(cycles.length ? 1 : 0);
