import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { USAGE } from '../../src/monitoring/verify-main.js';
import { filesUnder, read, root, sections } from './support.js';

/** docs/monitoring.md against the rules and the verify-monitoring command it describes. */

const doc = read('docs/monitoring.md');

interface Rule {
  alert?: string;
  annotations?: Record<string, string>;
}
const rules: Rule[] = filesUnder('deploy/prometheus/rules', (p) => /\.ya?ml$/.test(p)).flatMap((f) =>
  (parse(read(f)) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules),
);
const alerts = rules.filter((r) => r.alert !== undefined);

const alertTable = sections(doc).get('Alerts') ?? '';
const rowsNamed = new Set([...alertTable.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]!));

describe('docs/monitoring.md', () => {
  it('describes every alert: a row in its table, or a runbook_url to a document in the repository', () => {
    assert.ok(alerts.length >= 5, `only ${alerts.length} alerts found`);
    const undocumented = alerts
      .filter((a) => {
        if (rowsNamed.has(a.alert!)) return false;
        const runbook = /(docs\/[\w./-]+\.md)/.exec(a.annotations?.runbook_url ?? '')?.[1];
        return runbook === undefined || !existsSync(join(root, runbook));
      })
      .map((a) => a.alert!);
    assert.deepEqual(undocumented, [], `alerts neither in the table of docs/monitoring.md nor with a runbook_url under docs/: ${undocumented.join(', ')}`);
  });

  it('names no alert the rules do not have', () => {
    const names = new Set(alerts.map((a) => a.alert!));
    const stale = [...rowsNamed].filter((n) => !names.has(n));
    assert.deepEqual(stale, [], `in docs/monitoring.md but not in deploy/prometheus/rules: ${stale.join(', ')}`);
  });

  it('uses only the flags verify-monitoring has', () => {
    const flags = new Set([...doc.matchAll(/verify-monitoring[^\n`]*/g)].flatMap((m) => [...m[0].matchAll(/--[a-z-]+/g)].map((f) => f[0])));
    assert.ok(flags.has('--prometheus'), 'the page shows no verify-monitoring command line');
    const unknown = [...flags].filter((f) => !USAGE.includes(f));
    assert.deepEqual(unknown, [], `flags verify-monitoring does not take: ${unknown.join(', ')}`);
  });
});
