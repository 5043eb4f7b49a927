import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATALOGUE } from '../../src/metrics/catalogue.js';
import { renderCatalogueTable, withGeneratedTable } from '../../scripts/metrics-doc.js';
import { read, sections } from './support.js';

const doc = read('docs/metrics.md');

describe('docs/metrics.md', () => {
  it('holds exactly the table the catalogue generates (regenerate with npm run docs:metrics)', () => {
    assert.equal(doc, withGeneratedTable(doc));
  });

  it('the generated table has one row per catalogue family, with its type, labels and buckets', () => {
    const table = renderCatalogueTable();
    for (const [name, spec] of Object.entries(CATALOGUE)) {
      const row = table.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
      assert.ok(row, `${name} has no row`);
      assert.ok(row.includes(` ${spec.kind} `), `${name}: type`);
      for (const label of [...spec.labels, 'variant']) assert.ok(row.includes(`\`${label}\``), `${name}: label ${label}`);
      if ('buckets' in spec && spec.buckets) assert.ok(row.includes(spec.buckets.join(' ')), `${name}: buckets`);
    }
  });

  it('explains the values of every label the catalogue uses', () => {
    const text = sections(doc).get('Label values');
    assert.ok(text, 'docs/metrics.md has no "## Label values" section');
    const explained = new Set(
      text
        .split('\n')
        .filter((l) => l.startsWith('| `'))
        .flatMap((l) => [...l.split('|')[1]!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!)),
    );
    const labels = new Set(Object.values(CATALOGUE).flatMap((s) => [...s.labels, 'variant']));
    const missing = [...labels].filter((l) => !explained.has(l));
    assert.deepEqual(missing, [], `labels without an entry under "Label values": ${missing.join(', ')}`);
  });
});
