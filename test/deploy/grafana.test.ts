import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { CATALOGUE, type MetricName } from '../../src/metrics/catalogue.js';
import { familyOf, metricNamesIn, panelQueries, substituteVariables } from '../../src/monitoring/dashboard-queries.js';
import { buildGrafanaDashboard } from '../../src/monitoring/grafana-dashboard.js';
import { requireBinary } from '../support/binaries.js';

const run = promisify(execFile);
const dashboardPath = new URL('../../deploy/grafana/zai-proxy.json', import.meta.url);
const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8')) as {
  __inputs: { name: string; pluginId: string }[];
  templating: { list: { name: string; definition: string; multi: boolean; includeAll: boolean; datasource: { uid: string } }[] };
  panels: {
    type: string;
    title: string;
    gridPos: { x: number; y: number; w: number; h: number };
    datasource?: { uid: string };
    targets?: { expr: string; datasource: { uid: string } }[];
    fieldConfig?: { defaults: { thresholds: { steps: { value: number | null }[] } } };
  }[];
};

/** The panels operators already ran before this dashboard: queries and thresholds are a contract. */
const OPERATOR_TOKEN_PANELS: { title: string; exprs: string[]; thresholds?: number[] }[] = [
  { title: 'Total tokens (1h)', exprs: ['sum(increase(zai_proxy_tokens_total[1h]))'], thresholds: [50000, 100000] },
  { title: 'Input tokens (1h)', exprs: ['sum(increase(zai_proxy_tokens_total{direction="input"}[1h]))'], thresholds: [25000, 50000] },
  { title: 'Output tokens (1h)', exprs: ['sum(increase(zai_proxy_tokens_total{direction="output"}[1h]))'], thresholds: [25000, 50000] },
  {
    title: 'Output/input ratio',
    exprs: ['sum(rate(zai_proxy_tokens_total{direction="output"}[5m])) / sum(rate(zai_proxy_tokens_total{direction="input"}[5m]))'],
  },
  {
    title: 'Token rate by direction',
    exprs: [
      'sum(rate(zai_proxy_tokens_total{direction="input"}[5m]))',
      'sum(rate(zai_proxy_tokens_total{direction="output"}[5m]))',
      'sum(rate(zai_proxy_tokens_total[5m]))',
    ],
  },
  { title: 'Token rate by variant', exprs: ['sum(rate(zai_proxy_tokens_total[5m])) by (variant)'] },
  {
    title: 'Token throughput p90/p99',
    exprs: [
      'histogram_quantile(0.9, sum(rate(zai_proxy_token_rate_bucket[5m])) by (le, direction))',
      'histogram_quantile(0.99, sum(rate(zai_proxy_token_rate_bucket[5m])) by (le, direction))',
    ],
  },
];

describe('Grafana dashboard deploy/grafana/zai-proxy.json', () => {
  it('is exactly what the dashboard builder produces (regenerate with deploy/grafana/generate.ts)', () => {
    assert.deepEqual(dashboard, JSON.parse(JSON.stringify(buildGrafanaDashboard())));
  });

  it('imports with a Prometheus datasource input and a multi-select variant variable', () => {
    assert.deepEqual(
      dashboard.__inputs.map((i) => [i.name, i.pluginId]),
      [['DS_PROMETHEUS', 'prometheus']],
    );
    const variant = dashboard.templating.list.find((v) => v.name === 'variant');
    assert.ok(variant);
    assert.equal(variant.definition, 'label_values(zai_proxy_requests_total, variant)');
    assert.equal(variant.multi, true);
    assert.equal(variant.includeAll, true);
    for (const p of dashboard.panels.filter((p) => p.type !== 'row')) {
      assert.equal(p.datasource?.uid, '${DS_PROMETHEUS}', p.title);
      for (const t of p.targets ?? []) assert.equal(t.datasource.uid, '${DS_PROMETHEUS}', p.title);
    }
  });

  it('has the rows operators look for', () => {
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    assert.deepEqual(rows, ['Tokens', 'Requests', 'Latency', 'Limits', 'Z.AI errors and retries', 'Quota', 'Cost and token accounting', 'Stable vs canary']);
  });

  it('carries the seven operator token panels verbatim, with their thresholds', () => {
    const tokensRow = dashboard.panels.findIndex((p) => p.type === 'row' && p.title === 'Tokens');
    const tokenPanels = dashboard.panels.slice(tokensRow + 1, tokensRow + 1 + OPERATOR_TOKEN_PANELS.length);
    for (const [i, expected] of OPERATOR_TOKEN_PANELS.entries()) {
      const panel = tokenPanels[i]!;
      assert.equal(panel.title, expected.title);
      assert.deepEqual(
        panel.targets?.map((t) => t.expr),
        expected.exprs,
      );
      if (expected.thresholds) {
        assert.deepEqual(
          panel.fieldConfig?.defaults.thresholds.steps.map((s) => s.value),
          [null, ...expected.thresholds],
        );
      }
    }
  });

  it('queries only catalogue metrics, and shows every catalogue family somewhere', () => {
    const queries = panelQueries(dashboard);
    assert.ok(queries.length > 50, `expected many queries, got ${queries.length}`);
    const shown = new Set<MetricName>();
    for (const q of queries) {
      const names = metricNamesIn(q.expr);
      assert.ok(names.length > 0, `${q.panel}: no zai_proxy metric in ${q.expr}`);
      for (const name of names) {
        const family = familyOf(name);
        assert.ok(family, `${q.panel}: ${name} is not a catalogue series`);
        shown.add(family);
      }
    }
    const missing = (Object.keys(CATALOGUE) as MetricName[]).filter((n) => !shown.has(n));
    assert.deepEqual(missing, [], 'catalogue families without a panel');
  });

  it('follows the variant selector everywhere except the operator token panels and the comparison row', () => {
    const rowOf = new Map<string, string>();
    let row = '';
    for (const p of dashboard.panels) {
      if (p.type === 'row') row = p.title;
      else rowOf.set(p.title, row);
    }
    const exempt = new Set(OPERATOR_TOKEN_PANELS.map((p) => p.title));
    for (const q of panelQueries(dashboard)) {
      if (exempt.has(q.panel) || rowOf.get(q.panel) === 'Stable vs canary') continue;
      assert.match(q.expr, /variant=~"\$variant"/, `${q.panel} ignores $variant`);
    }
  });

  it('lays panels out on the 24-column grid without overlaps', () => {
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      assert.ok(x >= 0 && w > 0 && x + w <= 24, `${p.title} is off the grid`);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          const cell = `${i},${j}`;
          assert.ok(!cells.has(cell), `${p.title} overlaps another panel at ${cell}`);
          cells.add(cell);
        }
      }
    }
  });

  const promtool = requireBinary('promtool');
  it('every panel query parses as PromQL (promtool check rules)', { skip: promtool.skip }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'zai-grafana-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const rules = panelQueries(dashboard).map((q, i) => ({
      record: `dashboard_panel_${i}`,
      expr: substituteVariables(q.expr, { scrapeIntervalSeconds: 15 }),
    }));
    const file = join(dir, 'panels.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'panels', rules }] }));
    const { stdout } = await run(promtool.path!, ['check', 'rules', file]);
    assert.match(stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });
});

describe('dashboard query helpers', () => {
  it('fills variables the way "All" and Grafana intervals would', () => {
    assert.equal(
      substituteVariables('sum(rate(x{variant=~"$variant", a=~"${client:regex}"}[$__rate_interval])) [[variant]] $__interval', { scrapeIntervalSeconds: 15 }),
      'sum(rate(x{variant=~".*", a=~".*"}[60s])) .* 15s',
    );
  });

  it('maps histogram series to their family and rejects names outside the catalogue', () => {
    assert.equal(familyOf('zai_proxy_token_rate_bucket'), 'zai_proxy_token_rate');
    assert.equal(familyOf('zai_proxy_request_duration_seconds_count'), 'zai_proxy_request_duration_seconds');
    assert.equal(familyOf('zai_proxy_tokens_total'), 'zai_proxy_tokens_total');
    assert.equal(familyOf('zai_proxy_token_rate'), undefined, 'a histogram has no bare series');
    assert.equal(familyOf('zai_proxy_tokens_total_bucket'), undefined);
    assert.equal(familyOf('zai_proxy_token_total'), undefined);
  });
});
