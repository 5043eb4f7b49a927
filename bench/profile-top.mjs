// The top of a V8 CPU profile by self time: where a process spent its samples, per function.
// Usage: node bench/profile-top.mjs DIR|FILE.cpuprofile [rows]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [target, rowsArg] = process.argv.slice(2);
if (!target) {
  console.error('usage: node bench/profile-top.mjs DIR|FILE.cpuprofile [rows]');
  process.exit(2);
}
const file = statSync(target).isDirectory()
  ? join(
      target,
      readdirSync(target)
        .filter((f) => f.endsWith('.cpuprofile'))
        .sort()
        .at(-1) ?? '',
    )
  : target;
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const frame = nodes.get(profile.samples[i]).callFrame;
  const where = frame.url ? ` ${frame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(dist|bench)\//, '$1/')}:${frame.lineNumber + 1}` : '';
  const key = `${frame.functionName || '(anonymous)'}${where}`;
  const us = profile.timeDeltas[i] ?? 0;
  self.set(key, (self.get(key) ?? 0) + us);
  total += us;
}
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsArg ?? 25))) {
  console.log(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${key}`);
}
