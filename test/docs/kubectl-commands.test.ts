import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { kustomize, type Resource } from '../support/kustomize.js';
import { filesUnder, read, root } from './support.js';

/**
 * Every kubectl command the docs give an operator, checked against the manifests
 * deploy/kubernetes renders: the namespace, the objects it names, the ports it forwards, the
 * labels it selects on, the Secrets it creates and the files it applies. A renamed Service or
 * port breaks the docs here instead of on someone's cluster. Commands aimed at another
 * namespace (`-n monitoring`: the Prometheus the operator brings) are not ours to check.
 */

interface Obj extends Resource {
  spec?: {
    ports?: { port: number }[];
    template?: {
      metadata: { labels: Record<string, string> };
      spec: { containers: { env?: { valueFrom?: { secretKeyRef?: { name: string; key: string } } }[] }[] };
    };
  };
}
const base = kustomize(join(root, 'deploy/kubernetes')) as Obj[];
const withRedis = kustomize(join(root, 'deploy/kubernetes'), { components: ['redis'] }) as Obj[];
const all = [...base, ...withRedis];
const NAMESPACE = base.find((o) => o.kind === 'Namespace')!.metadata.name;
const KIND: Record<string, string> = { deploy: 'Deployment', deployment: 'Deployment', svc: 'Service', service: 'Service', pod: 'Pod', secret: 'Secret' };

const docs = filesUnder('docs', (p) => p.endsWith('.md'));

/** kubectl command lines in a Markdown file: in shell blocks and in inline code. */
function commandsIn(markdown: string): string[] {
  const out: string[] = [];
  let inBlock = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) {
      inBlock = !inBlock;
      continue;
    }
    if (inBlock) {
      const m = /(?:^|\s)(kubectl\s.*?)(?:\s+&)?\s*$/.exec(line.replace(/\s+#.*$/, ''));
      if (m) out.push(m[1]!.trim());
    } else for (const m of line.matchAll(/`(kubectl\s[^`]+)`/g)) out.push(m[1]!.trim());
  }
  return out;
}

const podTemplates = all.flatMap((o) => (o.spec?.template ? [o.spec.template] : []));
const secretRefs = (docText: string) => {
  const refs = new Set<string>();
  for (const t of podTemplates)
    for (const c of t.spec.containers)
      for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) refs.add(`${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`);
  // A patch the same page shows (an overlay adding a variable from a Secret of its own).
  for (const m of docText.matchAll(/secretKeyRef:\s*\{\s*name:\s*([\w.-]+),\s*key:\s*([\w.-]+)\s*\}/g)) refs.add(`${m[1]}/${m[2]}`);
  return refs;
};

/** What is wrong with one command, or null. */
function check(cmd: string, docText: string): string | null {
  const words = cmd.split(/\s+/);
  const ns = /(?:-n|--namespace)[ =](\S+)/.exec(cmd)?.[1];
  if (ns !== undefined && ns !== NAMESPACE) return null;
  const verb = words.find((w, i) => i > 0 && !w.startsWith('-') && words[i - 1] !== '-n' && words[i - 1] !== '--namespace');
  if (verb === 'apply') {
    const path = /(?:-f|-k)\s+(\S+)/.exec(cmd)?.[1];
    // "the next `kubectl apply -k`": prose naming the flag, not a command to run.
    if (!path) return /\s(?:-f|-k)$/.test(cmd) ? null : 'apply without -f or -k';
    if (!existsSync(join(root, path))) return `${path} does not exist`;
    return ns === undefined && !path.includes('namespace') && !/-k/.test(cmd) ? 'applies a namespaced file without -n' : null;
  }
  if (ns === undefined && verb !== 'label') return `no -n ${NAMESPACE}: the objects live in that namespace`;
  for (const m of cmd.matchAll(/\b(deploy|deployment|svc|service)\/([\w.-]+)/g)) {
    const kind = KIND[m[1]!]!;
    const obj = all.find((o) => o.kind === kind && o.metadata.name === m[2]);
    if (!obj) return `no ${kind} ${m[2]} in the rendered manifests`;
    if (verb === 'port-forward' && kind === 'Service') {
      const remote = /\s(?:\d+:)?(\d+)(?:\s|$)/.exec(cmd.slice(cmd.indexOf(m[0]) + m[0].length))?.[1];
      const ports = (obj.spec?.ports ?? []).map((p) => p.port);
      if (!remote || !ports.includes(Number(remote))) return `${m[0]} has ports ${ports.join(', ')}, not ${remote}`;
    }
  }
  for (const m of cmd.matchAll(/\s-l\s+([\w./-]+)=([\w.-]+)/g)) {
    if (!podTemplates.some((t) => t.metadata.labels[m[1]!] === m[2])) return `no pod carries ${m[1]}=${m[2]}`;
  }
  for (const m of cmd.matchAll(/\s-L\s+([\w./-]+)/g)) {
    if (!podTemplates.some((t) => m[1]! in t.metadata.labels)) return `no pod carries the label ${m[1]}`;
  }
  const secret = /create secret generic ([\w.-]+)/.exec(cmd);
  if (secret) {
    const refs = secretRefs(docText);
    for (const m of cmd.matchAll(/--from-literal=([\w.-]+)=/g))
      if (!refs.has(`${secret[1]}/${m[1]}`)) return `no container reads key ${m[1]} of Secret ${secret[1]}`;
  }
  return null;
}

describe('kubectl commands in docs/', () => {
  const found = docs.flatMap((file) => commandsIn(read(file)).map((cmd) => ({ file, cmd })));

  it('the step-by-step page gives its commands', () => {
    const mine = found.filter((f) => f.file === 'docs/deploy-kubernetes.md').map((f) => f.cmd);
    for (const needle of [
      'apply -f deploy/kubernetes/namespace.yaml',
      'create secret generic zai-api-key',
      'apply -k deploy/kubernetes',
      'port-forward svc/zai-proxy 8080',
      'port-forward svc/zai-proxy-dashboard',
    ]) {
      assert.ok(
        mine.some((c) => c.includes(needle)),
        `docs/deploy-kubernetes.md: no command with "${needle}" (found: ${mine.join(' | ')})`,
      );
    }
  });

  it('every one names objects, ports, labels, Secrets and files the manifests have', () => {
    const wrong = found.flatMap(({ file, cmd }) => {
      const why = check(cmd, read(file));
      return why ? [`${file}: \`${cmd}\`: ${why}`] : [];
    });
    assert.deepEqual(wrong, []);
  });

  it('the check catches what it is for', () => {
    const doc = '';
    assert.match(check('kubectl -n zai-proxy port-forward svc/zai-proxy 9999:9999', doc) ?? '', /not 9999/);
    assert.match(check('kubectl -n zai-proxy rollout status deploy/zai-proxy-blue', doc) ?? '', /no Deployment zai-proxy-blue/);
    assert.match(check('kubectl -n zai-proxy create secret generic zai-api-key --from-literal=apikey=x', doc) ?? '', /key apikey/);
    assert.match(check('kubectl -n zai-proxy get pods -l app=zai', doc) ?? '', /no pod carries app=zai/);
    assert.match(check('kubectl apply -k deploy/kubernetes/nowhere', doc) ?? '', /does not exist/);
    assert.match(check('kubectl rollout status deploy/zai-proxy-stable', doc) ?? '', /no -n zai-proxy/);
    assert.equal(check('kubectl -n monitoring port-forward svc/prometheus-operated 9090', doc), null);
    assert.equal(check('kubectl apply -k', doc), null, 'prose naming the flag');
    assert.match(check('kubectl apply deploy/kubernetes', doc) ?? '', /without -f or -k/);
    assert.equal(check('kubectl -n zai-proxy port-forward svc/zai-proxy 8080:8080', doc), null);
  });
});
