import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { renderAnalysisTemplate, ROLLOUT_ARMS, ROLLOUT_WINDOWS } from '../../src/canary/analysis-template.js';
import { analysisQueries, renderCondition } from '../../src/canary/rollout-queries.js';
import { kustomize, type Resource } from '../support/kustomize.js';

/**
 * deploy/kubernetes/rollout/: the Argo Rollouts canary. Its AnalysisTemplate is generated from
 * the canary judgement (regenerated here and compared), its Rollout points at objects the base
 * renders, and its analysis arguments are the ones the template declares. Whether each query
 * tells a good canary from a bad one is shown against a real Prometheus in
 * canary-report.e2e.test.ts.
 */

const root = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));
const rollout = kustomize(`${root}rollout`);
const base = kustomize(root);
const byKind = (kind: string) => rollout.find((r) => r.kind === kind) as Resource & { spec: Record<string, any> };

describe('Argo Rollouts canary manifests', () => {
  it('the AnalysisTemplate on disk is what the generator writes from the judgement', () => {
    assert.equal(
      readFileSync(`${root}rollout/analysis-template.yaml`, 'utf8'),
      renderAnalysisTemplate(),
      'run: node --import tsx deploy/kubernetes/rollout/generate.ts',
    );
  });

  it("each metric carries the judgement's query and conditions", () => {
    const template = byKind('AnalysisTemplate');
    const queries = analysisQueries(ROLLOUT_ARMS, ROLLOUT_WINDOWS);
    assert.deepEqual(
      template.spec.metrics.map((m: any) => [m.name, m.provider.prometheus.query, m.successCondition, m.failureCondition]),
      queries.map((q) => [q.name, q.query, renderCondition(q.success), renderCondition(q.failure)]),
    );
    assert.ok(template.spec.metrics.every((m: any) => m.failureLimit === 0 && m.provider.prometheus.address === '{{args.prometheus-address}}'));
  });

  it('renders a Rollout and its AnalysisTemplate in the zai-proxy namespace, the Rollout taking over a Deployment the base renders', () => {
    assert.deepEqual(rollout.map((r) => `${r.kind}/${r.metadata.name}@${r.metadata.namespace}`).sort(), [
      'AnalysisTemplate/zai-proxy-canary@zai-proxy',
      'Rollout/zai-proxy@zai-proxy',
    ]);
    const r = byKind('Rollout');
    const ref = r.spec.workloadRef;
    const target = base.find((b) => b.kind === ref.kind && b.metadata.name === ref.name) as Resource & { spec: any };
    assert.ok(target, `${ref.kind}/${ref.name} is rendered by deploy/kubernetes`);
    assert.equal(target.metadata.namespace, 'zai-proxy');
    // The Rollout selects the same pods the referenced Deployment's template makes.
    for (const [k, v] of Object.entries(r.spec.selector.matchLabels)) assert.equal(target.spec.template.metadata.labels[k], v, k);
    assert.equal(r.spec.strategy.canary.analysis.templates[0].templateName, byKind('AnalysisTemplate').metadata.name);
  });

  it('passes every argument the template needs that has no default, and names no other', () => {
    const declared = byKind('AnalysisTemplate').spec.args as { name: string; value?: string }[];
    const passed = (byKind('Rollout').spec.strategy.canary.analysis.args as { name: string }[]).map((a) => a.name).sort();
    assert.deepEqual(
      passed,
      declared
        .filter((a) => a.value === undefined)
        .map((a) => a.name)
        .sort(),
    );
    const used = new Set([...readFileSync(`${root}rollout/analysis-template.yaml`, 'utf8').matchAll(/\{\{args\.([a-z-]+)\}\}/g)].map((m) => m[1]));
    assert.deepEqual([...used].sort(), declared.map((a) => a.name).sort());
  });

  it('renders as kubectl kustomize does, where kubectl is installed', (t) => {
    let out: string;
    try {
      out = execFileSync('kubectl', ['kustomize', `${root}rollout`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      t.skip('kubectl is not installed');
      return;
    }
    const docs = parseAllDocuments(out).map((d) => d.toJS() as Resource);
    assert.deepEqual(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort(), rollout.map((r) => `${r.kind}/${r.metadata.name}`).sort());
    assert.deepEqual(parse(readFileSync(`${root}rollout/rollout.yaml`, 'utf8')).spec, docs.find((d) => d.kind === 'Rollout')!.spec);
  });
});
