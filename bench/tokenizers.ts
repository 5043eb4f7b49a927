/**
 * Compares cl100k_base tokenizers from npm for the local usage estimate:
 *   node --import tsx bench/tokenizers.ts [--mb 1]
 * Throughput (MB/s) on prose, JSON-heavy and code text, counted in 16 KiB slices the way the
 * estimator counts; cold start (import + first encode) in a fresh process, median of 3;
 * heap+RSS growth after load. Figures are ratios within one run: this machine is shared.
 * Results also go to bench/results/tokenizers.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const mbArg = process.argv.indexOf('--mb');
const TARGET_BYTES = Math.round((mbArg > 0 ? Number(process.argv[mbArg + 1]) : 1) * 1024 * 1024);
const SLICE = 16 * 1024;

type Count = (text: string) => number;
interface Candidate {
  name: string;
  /** ES module source run in a child process: must define `count` after loading. */
  coldSource: string;
  load: () => Promise<Count>;
}

const CANDIDATES: Candidate[] = [
  {
    name: 'gpt-tokenizer',
    coldSource: `const m = await import('gpt-tokenizer/encoding/cl100k_base'); const count = (t) => m.countTokens(t, { disallowedSpecial: new Set() });`,
    load: async () => {
      const m = await import('gpt-tokenizer/encoding/cl100k_base');
      const opts = { disallowedSpecial: new Set<string>() };
      return (t) => m.countTokens(t, opts);
    },
  },
  {
    name: 'js-tiktoken',
    coldSource: `const { Tiktoken } = await import('js-tiktoken/lite'); const ranks = (await import('js-tiktoken/ranks/cl100k_base')).default; const enc = new Tiktoken(ranks); const count = (t) => enc.encode(t, [], []).length;`,
    load: async () => {
      // Optional candidates (npm install --no-save): imported by name so type-checking does not need them.
      const { Tiktoken } = await importOptional('js-tiktoken/lite');
      const ranks = (await importOptional('js-tiktoken/ranks/cl100k_base')).default;
      const enc = new Tiktoken(ranks);
      return (t: string) => enc.encode(t, [], []).length as number;
    },
  },
  {
    name: 'tiktoken (wasm)',
    coldSource: `const { get_encoding } = await import('tiktoken'); const enc = get_encoding('cl100k_base'); const count = (t) => enc.encode_ordinary(t).length;`,
    load: async () => {
      const { get_encoding } = await importOptional('tiktoken');
      const enc = get_encoding('cl100k_base');
      return (t: string) => enc.encode_ordinary(t).length as number;
    },
  },
];

// ---- deterministic corpora -------------------------------------------------------------
function prng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
const WORDS =
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there one all we their has would when been if more will no out so up said what its about than into them can only other time new some could these two may first then do any like my now over such our man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(
    ' ',
  );
function prose(bytes: number): string {
  const r = prng(7);
  const out: string[] = [];
  let n = 0;
  while (n < bytes) {
    const len = 8 + Math.floor(r() * 14);
    const words = Array.from({ length: len }, () => WORDS[Math.floor(r() * WORDS.length)]!);
    words[0] = words[0]![0]!.toUpperCase() + words[0]!.slice(1);
    const s = words.join(' ') + (r() < 0.1 ? '?' : '.') + (r() < 0.15 ? '\n\n' : ' ');
    out.push(s);
    n += s.length;
  }
  return out.join('').slice(0, bytes);
}
function jsonHeavy(bytes: number): string {
  const r = prng(11);
  const out: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const tool = {
      name: `tool_${i}_${Math.floor(r() * 1e6).toString(36)}`,
      description: `Reads ${WORDS[i % WORDS.length]} records and returns them as a page`,
      input_schema: {
        type: 'object',
        properties: {
          path: { type: 'string', description: 'Absolute path to the file' },
          offset: { type: 'integer', minimum: 0 },
          limit: { type: 'integer', minimum: 1, maximum: 2000 },
          filters: { type: 'array', items: { type: 'object', properties: { key: { type: 'string' }, value: { type: ['string', 'number', 'null'] } } } },
        },
        required: ['path'],
      },
      sample: { id: Math.floor(r() * 1e9), ok: r() < 0.5, ratio: Math.round(r() * 1e4) / 1e4, uuid: Math.floor(r() * 2 ** 48).toString(16) },
    };
    const s = `${JSON.stringify(tool, null, i % 2 === 0 ? 2 : undefined)},\n`;
    out.push(s);
    n += s.length;
  }
  return out.join('').slice(0, bytes);
}
function code(bytes: number): string {
  // A large real TypeScript/JavaScript source shipped in node_modules, stable for a given version.
  const src = readFileSync(require.resolve('typescript/lib/typescript.js'), 'utf8');
  return src.slice(100_000, 100_000 + bytes);
}

const CORPORA: Record<string, string> = { prose: prose(TARGET_BYTES), json: jsonHeavy(TARGET_BYTES), code: code(TARGET_BYTES) };

function countSliced(count: Count, text: string): number {
  let total = 0;
  for (let i = 0; i < text.length; i += SLICE) total += count(text.slice(i, i + SLICE));
  return total;
}

function coldStart(c: Candidate): { ms: number; rssMb: number } {
  const src = `const t0 = performance.now(); const r0 = process.memoryUsage().rss; ${c.coldSource} const n = count('Hello, world! The quick brown fox.'); const t1 = performance.now(); if (!(n > 0)) process.exit(2); console.log(JSON.stringify({ ms: t1 - t0, rssMb: (process.memoryUsage().rss - r0) / 1048576 }));`;
  const runs = [0, 1, 2].map(
    () => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', src], { encoding: 'utf8' })) as { ms: number; rssMb: number },
  );
  runs.sort((a, b) => a.ms - b.ms);
  return runs[1]!;
}

const rows: Record<string, unknown>[] = [];
for (const c of CANDIDATES) {
  let count: Count;
  try {
    count = await c.load();
  } catch (err) {
    console.log(`${c.name}: not installed (${(err as Error).message.split('\n')[0]})`);
    continue;
  }
  const cold = coldStart(c);
  const row: Record<string, unknown> = { tokenizer: c.name, coldStartMs: +cold.ms.toFixed(0), rssAfterLoadMb: +cold.rssMb.toFixed(0) };
  for (const [kind, text] of Object.entries(CORPORA)) {
    countSliced(count, text.slice(0, 64 * 1024)); // warm-up
    const t0 = performance.now();
    const tokens = countSliced(count, text);
    const seconds = (performance.now() - t0) / 1000;
    row[`${kind} MB/s`] = +(Buffer.byteLength(text) / 1048576 / seconds).toFixed(2);
    row[`${kind} tokens`] = tokens;
  }
  rows.push(row);
  console.log(JSON.stringify(row));
}

console.log(`\ncorpora: ${(TARGET_BYTES / 1048576).toFixed(2)} MB each, counted in ${SLICE / 1024} KiB slices\n`);
const cols = ['tokenizer', 'prose MB/s', 'json MB/s', 'code MB/s', 'coldStartMs', 'rssAfterLoadMb', 'prose tokens', 'json tokens', 'code tokens'];
console.log(`| ${cols.join(' | ')} |\n|${cols.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${cols.map((k) => String(r[k] ?? '')).join(' | ')} |`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/tokenizers.json', import.meta.url), JSON.stringify({ at: new Date().toISOString(), node: process.version, rows }, null, 2));

// ---- event-loop delay while the proxy's estimator counts a 1 MB prompt ----------------------
const { estimateTokens, estimateTokensSync, warmTokenizer } = await import('../src/accounting/estimate.js');
const { monitorEventLoopDelay } = await import('node:perf_hooks');
warmTokenizer();
const loopRows: Record<string, unknown>[] = [];
{
  // Baseline: the same monitor on an idle loop, so the machine's own noise is visible.
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await new Promise((r) => setTimeout(r, 300));
  h.disable();
  loopRows.push({ corpus: '-', mode: 'idle (300 ms)', tokens: 0, ms: 300, p99Ms: +(h.percentile(99) / 1e6).toFixed(1), maxMs: +(h.max / 1e6).toFixed(1) });
}
{
  // Baseline under CPU load: plain arithmetic that yields every 4 ms like the estimator does.
  // On a shared machine the OS preempts a busy process; this shows how much of the sliced
  // estimator's delay is that, not the tokenizer.
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  let x = 0;
  while (performance.now() - t0 < 300) {
    const s = performance.now();
    while (performance.now() - s < 4) x = (x * 1103515245 + 12345) % 2147483648;
    await new Promise<void>((r) => setImmediate(r));
  }
  h.disable();
  loopRows.push({
    corpus: '-',
    mode: `busy, yield every 4 ms (300 ms)${x < 0 ? '' : ''}`,
    tokens: 0,
    ms: 300,
    p99Ms: +(h.percentile(99) / 1e6).toFixed(1),
    maxMs: +(h.max / 1e6).toFixed(1),
  });
}
for (const [kind, text] of Object.entries(CORPORA)) {
  for (const mode of ['one call (estimateTokensSync)', 'sliced (estimateTokens)'] as const) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    // let the monitor take a first sample before the work starts
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    const tokens = mode.startsWith('sliced') ? await estimateTokens(text) : estimateTokensSync(text);
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 5));
    h.disable();
    loopRows.push({ corpus: kind, mode, tokens, ms: +ms.toFixed(0), p99Ms: +(h.percentile(99) / 1e6).toFixed(1), maxMs: +(h.max / 1e6).toFixed(1) });
  }
}
console.log('\nevent-loop delay while estimating (1 MB each)\n');
const lcols = ['corpus', 'mode', 'tokens', 'ms', 'p99Ms', 'maxMs'];
console.log(`| ${lcols.join(' | ')} |\n|${lcols.map(() => '---').join('|')}|`);
for (const r of loopRows) console.log(`| ${lcols.map((k) => String(r[k])).join(' | ')} |`);
writeFileSync(new URL('./results/tokenizers-loop.json', import.meta.url), JSON.stringify({ at: new Date().toISOString(), rows: loopRows }, null, 2));

// biome-ignore lint/suspicious/noExplicitAny: optional packages without types, compared by their own APIs
function importOptional(name: string): Promise<any> {
  return import(name);
}
