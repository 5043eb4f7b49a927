import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseCanaryArgs } from '../../src/canary/main.js';
import { proxyEnvShape, readProxyEnv } from '../../src/config/proxy.js';
import { kustomize, type Resource } from '../support/kustomize.js';
import { read, root } from './support.js';

/**
 * docs/runbooks/canary.md is followed under pressure, so every command in it must work as
 * written: each `kubectl` line names objects, namespaces and containers that deploy/kubernetes
 * (and its rollout/ overlay) renders, and the ones that change a manifest are run by kubectl
 * against the rendered manifest where kubectl is installed; each `zai-proxy` line is a command
 * the CLI has with arguments it accepts. A command the test cannot check fails it, so a new
 * step cannot slip in unchecked. The canary alerts link the runbook's sections.
 */

const RUNBOOK = 'docs/runbooks/canary.md';
const runbook = read(RUNBOOK);
const rendered: Resource[] = [...kustomize(join(root, 'deploy/kubernetes')), ...kustomize(join(root, 'deploy/kubernetes/rollout'))];

const hasKubectl = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Shell words of one command line: single and double quotes, nothing else. */
function words(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let any = false;
  for (const ch of line) {
    if (quote !== null) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      any = true;
    } else if (/\s/.test(ch)) {
      if (any || cur !== '') out.push(cur);
      cur = '';
      any = false;
    } else cur += ch;
  }
  assert.equal(quote, null, `unclosed quote in: ${line}`);
  if (any || cur !== '') out.push(cur);
  return out;
}

/** The command lines of the runbook's shell blocks, with the heading they stand under. */
function commands(markdown: string): { section: string; line: string }[] {
  const out: { section: string; line: string }[] = [];
  let section = '';
  let block: string | null = null;
  for (const raw of markdown.split('\n')) {
    const line = raw.trim();
    if (block === null && /^#{1,6} /.test(raw)) section = raw.replace(/^#+ /, '');
    if (line.startsWith('```')) {
      block = block === null ? line.slice(3) : null;
      continue;
    }
    if (block === 'sh' && line !== '' && !line.startsWith('#')) out.push({ section, line });
  }
  return out;
}

const KINDS: Record<string, string> = {
  deploy: 'Deployment',
  deployment: 'Deployment',
  deployments: 'Deployment',
  rollout: 'Rollout',
  rollouts: 'Rollout',
  svc: 'Service',
  service: 'Service',
};

function object(kindWord: string, name: string, namespace: string | undefined): Resource & { spec?: any } {
  const kind = KINDS[kindWord.toLowerCase()];
  assert.ok(kind, `unknown kind ${kindWord}`);
  assert.ok(namespace !== undefined, `${kindWord}/${name}: no -n namespace (the manifests live in zai-proxy, not default)`);
  const found = rendered.find((r) => r.kind === kind && r.metadata.name === name && r.metadata.namespace === namespace);
  assert.ok(found, `${kind}/${name} in namespace ${namespace} is not rendered by deploy/kubernetes or its rollout overlay`);
  return found;
}

/** `type/name` or `type name` at args[i]; returns the object and how many words it took. */
function objectAt(args: string[], i: number, namespace: string | undefined): [Resource & { spec?: any }, number] {
  const a = args[i];
  assert.ok(a !== undefined, `no object after ${args.slice(0, i).join(' ')}`);
  if (a.includes('/')) {
    const [k, n] = a.split('/') as [string, string];
    return [object(k, n, namespace), 1];
  }
  return [object(a, args[i + 1]!, namespace), 2];
}

function checkKustomizeDir(dir: string): void {
  const abs = join(root, dir);
  assert.ok(existsSync(join(abs, 'kustomization.yaml')), `${dir} is not a kustomization`);
  const objects = hasKubectl ? (execFileSync('kubectl', ['kustomize', abs], { encoding: 'utf8' }).match(/^kind: /gm) ?? []).length : kustomize(abs).length;
  assert.ok(objects > 0, `${dir} renders nothing`);
}

/** kubectl set image on the rendered object, offline, as the runbook line would on the cluster. */
function checkSetImage(target: Resource & { spec?: any }, assignments: string[]): void {
  const containers = (target.spec.template.spec.containers as { name: string; image: string }[]) ?? [];
  for (const a of assignments) {
    const [container, image] = a.split('=') as [string, string];
    const c = containers.find((x) => x.name === container);
    assert.ok(c, `${target.kind}/${target.metadata.name} has no container ${container} (it has ${containers.map((x) => x.name).join(', ')})`);
    assert.equal(image.split(':')[0], c.image.split(':')[0], `${container}: the runbook's image is not the one the manifest runs`);
  }
  if (!hasKubectl) return;
  const dir = mkdtempSync(join(tmpdir(), 'canary-runbook-'));
  try {
    const file = join(dir, 'object.yaml');
    writeFileSync(file, stringify(target));
    const out = parse(execFileSync('kubectl', ['set', 'image', '--local', '-f', file, ...assignments, '-o', 'yaml'], { encoding: 'utf8' })) as any;
    // kubectl prints nothing when no image changes: the manifest already runs that image.
    const after = out ?? target;
    for (const a of assignments) {
      const [container, image] = a.split('=') as [string, string];
      assert.equal(after.spec.template.spec.containers.find((x: { name: string }) => x.name === container).image, image);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function checkKubectl(args: string[]): void {
  let namespace: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-n' || args[i] === '--namespace') namespace = args[++i];
    else rest.push(args[i]!);
  }
  const [verb, sub] = rest;
  if (verb === 'apply') {
    assert.equal(rest[1], '-k', 'apply takes -k DIR in this runbook');
    checkKustomizeDir(rest[2]!);
  } else if (verb === 'set' && sub === 'image') {
    const [target, took] = objectAt(rest, 2, namespace);
    checkSetImage(target, rest.slice(2 + took));
  } else if (verb === 'scale') {
    const [target] = objectAt(rest, 1, namespace);
    assert.ok(['Deployment', 'Rollout'].includes(target.kind), `${target.kind} cannot be scaled`);
    assert.ok(
      rest.some((w) => /^--replicas=\d+$/.test(w)),
      'scale needs --replicas=N',
    );
  } else if (verb === 'rollout' && ['status', 'undo', 'restart'].includes(sub!)) {
    const [target] = objectAt(rest, 2, namespace);
    assert.equal(target.kind, 'Deployment', 'kubectl rollout works on Deployments');
  } else if (verb === 'get') {
    objectAt(rest, 1, namespace);
  } else if (verb === 'argo' && sub === 'rollouts') {
    const action = rest[2];
    assert.ok(['get', 'promote', 'abort', 'retry', 'undo', 'pause'].includes(action!), `kubectl argo rollouts ${action}: not a command this runbook knows`);
    const named = action === 'get' || action === 'retry';
    if (named) assert.equal(rest[3], 'rollout');
    const name = named ? rest[4] : rest[3];
    assert.equal(object('rollout', name!, namespace).kind, 'Rollout');
  } else {
    assert.fail(`kubectl ${rest.join(' ')}: the test does not know how to check this command`);
  }
}

const KNOWN_VARIABLES = new Set(Object.keys(proxyEnvShape));

function checkZaiProxy(env: Record<string, string>, args: string[]): void {
  const [command, ...rest] = args;
  if (command === 'canary-report') {
    assert.deepEqual(Object.keys(env), [], 'canary-report takes flags, not variables');
    assert.doesNotThrow(() => parseCanaryArgs(rest, {}), `zai-proxy canary-report ${rest.join(' ')}`);
  } else if (command === 'serve') {
    assert.deepEqual(rest, [], 'serve takes its configuration from the environment');
    for (const k of Object.keys(env)) assert.ok(KNOWN_VARIABLES.has(k), `${k} is not a proxy variable`);
    assert.doesNotThrow(() => readProxyEnv(env), `the proxy rejects ${JSON.stringify(env)}`);
  } else {
    assert.fail(`zai-proxy ${command}: the test does not know how to check this command`);
  }
}

function check(line: string): void {
  const all = words(line);
  const env: Record<string, string> = {};
  while (all.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(all[0]!)) {
    const [k, ...v] = all.shift()!.split('=');
    env[k!] = v.join('=');
  }
  const [program, ...args] = all;
  if (program === 'kubectl') {
    assert.deepEqual(Object.keys(env), [], 'kubectl lines set no variables');
    checkKubectl(args);
  } else if (program === 'zai-proxy') checkZaiProxy(env, args);
  else assert.fail(`${program}: the runbook runs only kubectl and zai-proxy`);
}

describe('the canary runbook', () => {
  const lines = commands(runbook);

  it('has a command for rolling out, watching, promoting and rolling back', () => {
    for (const section of ['Plain kustomize', 'Argo Rollouts', 'Without a mesh (the proxy splits)', 'Watch it', 'Promote', 'Roll back']) {
      assert.ok(
        lines.some((l) => l.section === section),
        `no command under "${section}"`,
      );
    }
    assert.ok(lines.length >= 10, `only ${lines.length} commands`);
  });

  for (const { section, line } of lines) {
    it(`${section}: ${line}`, () => check(line));
  }

  it('the checker rejects what would fail on a cluster', () => {
    assert.throws(() => check('kubectl -n zai-proxy set image deploy/zai-proxy-canary app=zai-proxy:0.2.0'), /no container app/);
    assert.throws(() => check('kubectl -n default scale deploy/zai-proxy-canary --replicas=0'), /not rendered/);
    assert.throws(() => check('kubectl -n zai-proxy scale deploy/zai-proxy-canry --replicas=0'), /not rendered/);
    assert.throws(() => check('kubectl scale deploy/zai-proxy-canary --replicas=0'), /no -n namespace/);
    assert.throws(() => check('kubectl argo rollouts -n zai-proxy abort zai-proxy-canary'), /not rendered/);
    assert.throws(() => check('kubectl apply -k deploy/kubernetes/nothing'), /not a kustomization/);
    assert.throws(() => check('zai-proxy canary-report --since soon'), /canary-report/);
    assert.throws(() => check('zai-proxy canary-report --db x --prometheus http://p:9090'), /canary-report/);
    assert.throws(() => check('CANARY_WEIGHT=10 zai-proxy serve'), /rejects/);
    assert.throws(() => check('CANARY_PERCENT=10 zai-proxy serve'), /not a proxy variable/);
    assert.throws(() => check('kubectl -n zai-proxy delete deploy/zai-proxy-canary'), /does not know/);
  });

  it('every canary alert links a section of this runbook', () => {
    const rules = parse(read('deploy/prometheus/rules/zai-proxy.rules.yml')) as {
      groups: { name: string; rules: { alert: string; annotations: Record<string, string> }[] }[];
    };
    const canary = rules.groups.find((g) => g.name === 'zai-proxy-canary')!.rules;
    assert.ok(canary.length >= 3);
    for (const r of canary)
      assert.match(r.annotations.runbook_url ?? '', /^docs\/runbooks\/canary\.md#canary-/, `${r.alert} has no runbook_url into the canary runbook`);
  });
});
