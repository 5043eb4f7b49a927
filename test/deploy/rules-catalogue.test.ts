import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { CATALOGUE, type MetricName } from '../../src/metrics/catalogue.js';

const RULES = new URL('../../deploy/prometheus/rules/zai-proxy.rules.yml', import.meta.url);
/** Labels every series has besides the catalogue's own: set by the registry or by Prometheus. */
const TARGET_LABELS = ['variant', 'job', 'instance', 'namespace', 'pod'];
const SERIES_SUFFIX = /_(bucket|sum|count)$/;

interface RuleFile {
  groups: { rules: { alert?: string; record?: string; expr: string }[] }[];
}

/** Every `zai_proxy_*` selector in a PromQL expression: the family it reads and the labels it matches on. */
function selectors(expr: string): { series: string; family: string; labels: string[] }[] {
  return [...expr.matchAll(/\b(zai_proxy_[a-z0-9_]+)(\{([^}]*)\})?/g)].map(([, series, , matchers]) => ({
    series: series!,
    family: CATALOGUE[series as MetricName] ? series! : series!.replace(SERIES_SUFFIX, ''),
    labels: [...(matchers ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map((m) => m[1]!),
  }));
}

describe('alert rules read only what the metric catalogue declares', () => {
  const rules = (parse(readFileSync(RULES, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);

  it('every metric an alert reads exists, with the series suffixes its type has', () => {
    const read = rules.flatMap((r) => selectors(r.expr).map((s) => ({ ...s, rule: r.alert ?? r.record })));
    assert.ok(read.length > 20, 'the rules read the catalogue');
    for (const { series, family, rule } of read) {
      const spec = CATALOGUE[family as MetricName];
      assert.ok(spec, `${rule} reads ${series}, which is not in the catalogue`);
      if (series !== family) assert.equal(spec.kind, 'histogram', `${rule} reads ${series}, but ${family} is a ${spec.kind}`);
    }
  });

  it('every label an alert matches on is one the metric carries', () => {
    for (const r of rules) {
      for (const { series, family, labels } of selectors(r.expr)) {
        const allowed = new Set<string>([...CATALOGUE[family as MetricName].labels, ...TARGET_LABELS, ...(series.endsWith('_bucket') ? ['le'] : [])]);
        for (const label of labels) assert.ok(allowed.has(label), `${r.alert ?? r.record} matches ${series} on ${label}, which it does not carry`);
      }
    }
  });
});
