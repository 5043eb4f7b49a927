import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/fields.js';
import { DEFAULT_PRICES_PER_1K, loadPriceTable, pricingTier } from '../../src/accounting/pricing.js';

const at = (iso: string) => Date.parse(iso);

test('peak is 07:00–11:00 UTC (02:00–06:00 at UTC−5), boundaries included and excluded', () => {
  assert.equal(pricingTier(at('2026-08-20T06:59:59.999Z')), 'off_peak');
  assert.equal(pricingTier(at('2026-08-20T07:00:00Z')), 'peak');
  assert.equal(pricingTier(at('2026-08-20T10:59:59Z')), 'peak');
  assert.equal(pricingTier(at('2026-08-20T11:00:00Z')), 'off_peak');
  // no daylight saving: the window does not move in winter
  assert.equal(pricingTier(at('2026-01-15T07:30:00Z')), 'peak');
  assert.equal(pricingTier(at('2026-01-15T06:30:00Z')), 'off_peak');
});

const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-15, `${actual} != ${expected}`);

test('default table: GLM-4.7 rates per token for every model, peak doubles them', () => {
  const t = loadPriceTable({});
  close(t.usdPerToken('glm-4.7', 'input', 'off_peak'), DEFAULT_PRICES_PER_1K.input / 1000);
  close(t.usdPerToken('glm-4.7', 'output', 'off_peak'), 0.0022 / 1000);
  close(t.usdPerToken('anything', 'cache_read', 'peak'), (0.00011 * 2) / 1000);
  assert.equal(t.usdPerToken('glm-4.7', 'cache_write', 'peak'), 0);
});

test('JSON override: partial default, named models (any case) and a multiplier', () => {
  const t = loadPriceTable({
    json: '{"default":{"input":0.001},"models":{"GLM-4.5-Air":{"output":0.0011}},"peakMultiplier":3}',
  });
  close(t.usdPerToken('glm-4.7', 'input', 'off_peak'), 0.001 / 1000);
  close(t.usdPerToken('glm-4.7', 'output', 'off_peak'), 0.0022 / 1000);
  close(t.usdPerToken('glm-4.5-air', 'output', 'peak'), (0.0011 * 3) / 1000);
  close(t.usdPerToken('glm-4.5-air', 'input', 'off_peak'), 0.001 / 1000);
});

test('file override is read; empty values mean the default', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pricing-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'prices.json');
  writeFileSync(file, JSON.stringify({ models: { 'glm-5': { input: 0.002, output: 0.008 } } }));
  const table = loadPriceTable({ file, json: '  ' });
  close(table.usdPerToken('glm-5', 'output', 'off_peak'), 0.008 / 1000);
  close(loadPriceTable({ file: '', json: '' }).usdPerToken('x', 'input', 'off_peak'), 0.0006 / 1000);
});

test('bad overrides throw ConfigError naming the variable and the problem', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pricing-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"models": {"glm-4.7": {"input": -1}}}');
  const cases: [{ file?: string; json?: string }, RegExp][] = [
    [{ json: '{not json' }, /PRICING_JSON is not valid JSON/],
    [{ json: '{"default":{"input":"cheap"}}' }, /PRICING_JSON at default\.input/],
    [{ json: '{"defaults":{}}' }, /PRICING_JSON at \(top level\)/],
    [{ json: '{"default":{"inptu":1}}' }, /PRICING_JSON at default/],
    [{ json: '[]' }, /PRICING_JSON/],
    [{ json: '{"peakMultiplier":-2}' }, /PRICING_JSON at peakMultiplier/],
    [{ file: bad }, /PRICING_FILE ".*bad\.json" at models\.glm-4\.7\.input/],
    [{ file: join(dir, 'missing.json') }, /PRICING_FILE ".*missing\.json" cannot be read \(ENOENT\)/],
    [{ file: bad, json: '{}' }, /PRICING_FILE or PRICING_JSON, not both/],
  ];
  for (const [opts, message] of cases) {
    assert.throws(
      () => loadPriceTable(opts),
      (err: unknown) => err instanceof ConfigError && message.test(err.message),
      JSON.stringify(opts),
    );
  }
});
