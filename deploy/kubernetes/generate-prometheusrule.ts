// Writes prometheusrule.yaml from ../prometheus/rules/zai-proxy.rules.yml, so the cluster
// runs exactly the rules promtool tested. Run after editing the rules:
//   node --import tsx deploy/kubernetes/generate-prometheusrule.ts
// (test/deploy/kubernetes.test.ts fails while the two disagree).
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

const rules = parse(readFileSync(new URL('../prometheus/rules/zai-proxy.rules.yml', import.meta.url), 'utf8')) as { groups: unknown[] };
const resource = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'zai-proxy', labels: { 'app.kubernetes.io/name': 'zai-proxy' } },
  spec: { groups: rules.groups },
};
const header = '# Generated from deploy/prometheus/rules/zai-proxy.rules.yml by generate-prometheusrule.ts; do not edit.\n';
const target = new URL('./prometheusrule.yaml', import.meta.url);
writeFileSync(target, header + stringify(resource, { lineWidth: 0 }));
process.stdout.write(`wrote ${target.pathname}\n`);
