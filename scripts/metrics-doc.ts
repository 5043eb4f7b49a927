// Writes the metric reference table of docs/metrics.md from src/metrics/catalogue.ts, between
// the BEGIN/END GENERATED markers; the prose around them is written by hand.
// Run after changing the catalogue: npm run docs:metrics   (--check: exit 1 if the file is out of date)
// test/docs/metrics.test.ts fails while the file and the catalogue disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CATALOGUE } from '../src/metrics/catalogue.js';

export const BEGIN = '<!-- BEGIN GENERATED from src/metrics/catalogue.ts by `npm run docs:metrics`: edit the catalogue, not this table -->';
export const END = '<!-- END GENERATED -->';

const docPath = new URL('../docs/metrics.md', import.meta.url);

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** One row per catalogue family, in catalogue order; `variant` is on every series, so it is listed too. */
export function renderCatalogueTable(): string {
  const rows = Object.entries(CATALOGUE).map(([name, spec]) => {
    const labels = [...spec.labels, 'variant'].map((l) => `\`${l}\``).join(', ');
    const buckets = 'buckets' in spec && spec.buckets ? spec.buckets.join(' ') : '—';
    return `| \`${name}\` | ${spec.kind} | ${labels} | ${buckets} | ${spec.aggregate} | ${cell(spec.help)} |`;
  });
  return [
    `${Object.keys(CATALOGUE).length} families.`,
    '',
    '| name | type | labels | buckets (upper bounds) | across workers | help |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** `doc` with the text between the markers replaced by the current table. */
export function withGeneratedTable(doc: string): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start === -1 || end === -1 || end < start) throw new Error(`docs/metrics.md must hold the markers\n${BEGIN}\n${END}`);
  return `${doc.slice(0, start + BEGIN.length)}\n${renderCatalogueTable()}\n${doc.slice(end)}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const current = readFileSync(docPath, 'utf8');
  const next = withGeneratedTable(current);
  if (process.argv.includes('--check')) {
    if (next !== current) {
      process.stderr.write('docs/metrics.md is out of date: run npm run docs:metrics\n');
      process.exit(1);
    }
  } else if (next !== current) {
    writeFileSync(docPath, next);
    process.stdout.write(`wrote ${docPath.pathname}\n`);
  }
}
