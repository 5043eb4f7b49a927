import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../src/metrics/catalogue.js';
import { parseExposition } from '../../src/dashboard/snapshot/exposition.js';
import { METRIC } from '../../src/dashboard/snapshot/names.js';

async function realPage(): Promise<string> {
  const m = createMetrics('stable');
  m.zai_proxy_requests_total.inc({ method: 'POST', path: '/v1/chat/completions', status_code: '200' }, 7);
  m.zai_proxy_request_duration_seconds.observe({ method: 'POST', path: '/v1/chat/completions', status_code: '200' }, 0.3);
  m.zai_proxy_tokens_total.inc({ direction: 'input', model: 'glm-4.7', pricing_tier: 'off_peak' }, 120);
  m.zai_proxy_build_info.set({ version: '1.2.3', commit: 'abc"def\\x', build_time: 'now\nlater' }, 1);
  m.zai_proxy_concurrent_requests.set(3);
  return m.registry.metrics();
}

test('parses a real page the proxy catalogue produces, labels and escapes included', async () => {
  const page = parseExposition(await realPage());
  assert.equal(page.skippedLines, 0);
  const req = page.samples.find((s) => s.name === METRIC.zai_proxy_requests_total)!;
  assert.deepEqual(req.labels, { method: 'POST', path: '/v1/chat/completions', status_code: '200', variant: 'stable' });
  assert.equal(req.value, 7);
  const build = page.samples.find((s) => s.name === METRIC.zai_proxy_build_info)!;
  assert.equal(build.labels.commit, 'abc"def\\x');
  assert.equal(build.labels.build_time, 'now\nlater');
  const inf = page.samples.find((s) => s.name === `${METRIC.zai_proxy_request_duration_seconds}_bucket` && s.labels.le === '+Inf')!;
  assert.equal(inf.value, 1);
  assert.equal(page.types.get(METRIC.zai_proxy_request_duration_seconds), 'histogram');
  assert.ok(page.samples.some((s) => s.name === 'process_start_time_seconds'));
});

test('NaN, infinities, timestamps, untyped and comments; garbage lines skipped and counted', () => {
  const text = [
    '# HELP a_total something # with hash',
    '# TYPE a_total counter',
    '# just a comment',
    'a_total{x="1"} 5 1700000000000',
    'b NaN',
    'c +Inf',
    'd{le="-Inf"} -Inf',
    'untyped_thing 1.5e3',
    '  indented_metric   2  ',
    'trailing_comma{a="b",} 1',
    'garbage line here',
    'bad_value{a="b"} notanumber',
    'unterminated{a="b 1',
    'dup{a="1",a="2"} 1',
    'x 1 2 3',
    '{a="b"} 1',
    'crlf_metric 4\r',
  ].join('\n');
  const page = parseExposition(text);
  const byName = new Map(page.samples.map((s) => [s.name, s]));
  assert.equal(byName.get('a_total')!.timestampMs, 1700000000000);
  assert.ok(Number.isNaN(byName.get('b')!.value));
  assert.equal(byName.get('c')!.value, Infinity);
  assert.equal(byName.get('d')!.value, -Infinity);
  assert.equal(byName.get('untyped_thing')!.value, 1500);
  assert.equal(byName.get('indented_metric')!.value, 2);
  assert.deepEqual(byName.get('trailing_comma')!.labels, { a: 'b' });
  assert.equal(byName.get('crlf_metric')!.value, 4);
  assert.equal(page.skippedLines, 6);
  assert.equal(page.types.get('a_total'), 'counter');
});

test('empty input and comment-only input give no samples', () => {
  assert.equal(parseExposition('').samples.length, 0);
  const page = parseExposition('# HELP x y\n# TYPE x gauge\n');
  assert.equal(page.samples.length, 0);
  assert.equal(page.types.size, 1);
});

/** Deterministic PRNG so a failure is reproducible from the seed. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('fuzz: random bytes and mutations of a real page never throw and stay linear', async () => {
  const base = await realPage();
  const rand = prng(42);
  const alphabet = '{}",=\\ \n\t#abc_:0123456789.eE+-InfNaN\u0000\u00ff\ud83d';
  for (let round = 0; round < 300; round++) {
    let text: string;
    if (round % 3 === 0) {
      text = Array.from({ length: Math.floor(rand() * 2000) }, () => String.fromCharCode(Math.floor(rand() * 0xffff))).join('');
    } else {
      const chars = base.split('');
      const mutations = 1 + Math.floor(rand() * 50);
      for (let i = 0; i < mutations; i++) {
        const at = Math.floor(rand() * chars.length);
        const op = rand();
        const ch = alphabet[Math.floor(rand() * alphabet.length)]!;
        if (op < 0.4) chars[at] = ch;
        else if (op < 0.7) chars.splice(at, 1);
        else chars.splice(at, 0, ch);
      }
      text = chars.join('');
    }
    const page = parseExposition(text);
    for (const s of page.samples) assert.equal(typeof s.value, 'number');
  }
  // Pathological long lines that would make a backtracking parser quadratic: bounded work per line.
  const long = `m ${'1'.repeat(200_000)}x\nn{a="${'\\'.repeat(100_000)}\n${'{'.repeat(100_000)}\n`;
  const page = parseExposition(long);
  assert.equal(page.samples.length, 0);
  assert.equal(page.skippedLines, 3);
});
