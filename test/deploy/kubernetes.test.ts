import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { dashboardEnvShape } from '../../src/config/dashboard.js';
import { parseDurationMs } from '../../src/config/fields.js';
import { proxyEnvShape } from '../../src/config/proxy.js';
import { kustomize, type Resource } from '../support/kustomize.js';
import { validateAgainstSchema } from './support.js';

const root = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));

type Labels = Record<string, string>;
interface Port {
  name?: string;
  containerPort?: number;
  port?: number;
  targetPort?: string | number;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
}
interface Container {
  name: string;
  args?: string[];
  ports?: Port[];
  env?: EnvVar[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Labels };
  spec: {
    selector?: Labels | { matchLabels: Labels };
    template?: {
      metadata: { labels: Labels };
      spec: {
        terminationGracePeriodSeconds?: number;
        securityContext?: { runAsNonRoot?: boolean };
        containers: Container[];
        volumes?: { name: string }[];
      };
    };
    ports?: Port[];
    endpoints?: { port: string; path: string; interval: string; scrapeTimeout: string }[];
    groups?: unknown[];
  };
}

const rendered = kustomize(root);
const withRedis = kustomize(root, { components: ['redis'] });
const manifests = rendered as unknown as Manifest[];
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const named = (kind: string, name: string) => {
  const m = manifests.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(m, `${kind} ${name} missing`);
  return m;
};
const matches = (selector: Labels, labels: Labels | undefined) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const podLabels = (d: Manifest) => d.spec.template!.metadata.labels;
const envOf = (c: Container) => new Map((c.env ?? []).map((e) => [e.name, e.value]));

describe('Kubernetes manifests in deploy/kubernetes', () => {
  it('every rendered object validates against its Kubernetes or Prometheus Operator schema', () => {
    for (const r of [...rendered, ...withRedis]) validateAgainstSchema(r);
    assert.deepEqual([...new Set(rendered.map((r) => r.kind))].sort(), ['Deployment', 'Namespace', 'PrometheusRule', 'Service', 'ServiceMonitor']);
  });

  it('the schema check rejects what the API server would', () => {
    const d = structuredClone(named('Deployment', 'zai-proxy-stable')) as unknown as { spec: { replicas: unknown } };
    d.spec.replicas = 'two';
    assert.throws(() => validateAgainstSchema(d as unknown as Resource), /replicas must be integer/);
  });

  it('renders as kubectl kustomize does, where kubectl is installed', (t) => {
    let kubectl: string;
    try {
      kubectl = execFileSync('kubectl', ['kustomize', root], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // Debian's kubectl (1.20) predates components and patches; the renderer stands in for it.
      t.skip('kubectl is not installed: the in-repo renderer is not cross-checked');
      return;
    }
    const canonical = (rs: Resource[]) => rs.map((r) => stringify(r, { sortMapEntries: true })).sort();
    assert.deepEqual(canonical(parseAllDocuments(kubectl).map((d) => d.toJS() as Resource)), canonical(rendered));
  });

  it('stable, canary and dashboard each take their image tag from their own kustomization', () => {
    for (const [dir, deployment] of [
      ['stable', 'zai-proxy-stable'],
      ['canary', 'zai-proxy-canary'],
      ['dashboard', 'zai-proxy-dashboard'],
    ] as const) {
      const k = parse(readFileSync(join(root, dir, 'kustomization.yaml'), 'utf8')) as { images: { name: string; newName: string; newTag: string }[] };
      const [image] = k.images;
      assert.equal(image?.name, 'zai-proxy');
      const c = named('Deployment', deployment).spec.template!.spec.containers[0]! as Container & { image: string };
      assert.equal(c.image, `${image.newName}:${image.newTag}`, `${deployment} image`);
    }
  });

  it('the canary is the stable Deployment but for name, variant and replicas', () => {
    const stable = named('Deployment', 'zai-proxy-stable');
    const canary = named('Deployment', 'zai-proxy-canary');
    // Compared with env sorted by name: the patch moves the variable it sets to the front.
    const normal = (d: Manifest) => {
      const copy = structuredClone({ ...d, spec: { ...d.spec, replicas: 0 } });
      copy.spec.template!.spec.containers[0]!.env!.sort((a, b) => a.name.localeCompare(b.name));
      return copy;
    };
    const asStable = JSON.parse(JSON.stringify(canary).replaceAll('canary', 'stable')) as Manifest;
    assert.deepEqual(normal(asStable), normal(stable));
    assert.ok((canary.spec as { replicas: number }).replicas < (stable.spec as { replicas: number }).replicas);
  });

  it('proxies need the zai-api-key Secret: without it the pod does not start (no silent keyless proxy)', () => {
    for (const name of ['zai-proxy-stable', 'zai-proxy-canary']) {
      const c = named('Deployment', name).spec.template!.spec.containers[0]!;
      const ref = c.env?.find((e) => e.name === 'ZAI_API_KEY')?.valueFrom?.secretKeyRef;
      assert.deepEqual(ref, { name: 'zai-api-key', key: 'api-key' }, `${name}: a required (not optional) Secret key`);
    }
  });

  it('every Deployment selects its own pod template', () => {
    for (const d of byKind('Deployment')) {
      const selector = (d.spec.selector as { matchLabels: Labels }).matchLabels;
      assert.ok(Object.keys(selector).length > 0, d.metadata.name);
      assert.ok(matches(selector, podLabels(d)), `${d.metadata.name} selector does not match its pods`);
    }
  });

  it('every Service selects pods and targets a port they name', () => {
    for (const s of byKind('Service')) {
      const selector = s.spec.selector as Labels;
      const targets = byKind('Deployment').filter((d) => matches(selector, podLabels(d)));
      assert.ok(targets.length > 0, `Service ${s.metadata.name} selects no pods`);
      for (const port of s.spec.ports ?? []) {
        for (const d of targets) {
          const names = d.spec.template!.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
          assert.ok(names.includes(String(port.targetPort)), `Service ${s.metadata.name} targets ${String(port.targetPort)}, not a port of ${d.metadata.name}`);
        }
      }
    }
    const split = byKind('Deployment').filter((d) => matches(named('Service', 'zai-proxy').spec.selector as Labels, podLabels(d)));
    assert.deepEqual(split.map((d) => d.metadata.name).sort(), ['zai-proxy-canary', 'zai-proxy-stable'], 'the client Service splits across both variants');
  });

  it('runs a stable and a canary proxy, each labelled and configured with its variant', () => {
    for (const variant of ['stable', 'canary']) {
      const d = named('Deployment', `zai-proxy-${variant}`);
      const env = envOf(d.spec.template!.spec.containers[0]!);
      assert.equal(env.get('DEPLOYMENT_VARIANT'), variant);
      assert.equal(podLabels(d)['zai-proxy/variant'], variant);
    }
  });

  for (const name of ['zai-proxy-stable', 'zai-proxy-canary']) {
    it(`${name}: env, probes, ports, security, state volume and drain time fit the proxy`, () => {
      const d = named('Deployment', name);
      const pod = d.spec.template!.spec;
      const c = pod.containers[0]!;
      const env = envOf(c);
      for (const key of env.keys()) assert.ok(key in proxyEnvShape, `${key} is not a variable the proxy reads`);
      assert.deepEqual(c.args, ['serve']);
      assert.equal(env.get('HOST'), '0.0.0.0', 'a pod must listen beyond loopback');
      const http = c.ports?.find((p) => p.name === 'http');
      assert.equal(http?.containerPort, Number(env.get('PORT') ?? 8080));
      assert.equal(c.readinessProbe?.httpGet?.path, '/ready');
      assert.equal(c.livenessProbe?.httpGet?.path, '/health');
      assert.equal(c.readinessProbe?.httpGet?.port, 'http');
      assert.equal(c.livenessProbe?.httpGet?.port, 'http');
      assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory && c.resources.limits?.memory);
      assert.equal(pod.securityContext?.runAsNonRoot, true);
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
      const stateFile = env.get('RATE_LIMIT_STATE_FILE') ?? '';
      assert.ok(stateFile.startsWith('/'), 'state file must be an absolute path on a volume');
      const mount = c.volumeMounts?.find((m) => stateFile.startsWith(`${m.mountPath}/`));
      assert.ok(mount, `no writable volume holds ${stateFile}`);
      assert.ok(pod.volumes?.some((v) => v.name === mount.name));
      const graceMs = parseDurationMs(env.get('SHUTDOWN_GRACE') ?? '30s')!;
      const period = pod.terminationGracePeriodSeconds ?? 30;
      assert.ok(
        period >= graceMs / 1000 + 5 && period <= graceMs / 1000 + 30,
        `terminationGracePeriodSeconds ${period} should be SHUTDOWN_GRACE plus a small margin`,
      );
    });
  }

  it('the ServiceMonitor scrapes exactly the per-variant Services every 15s on /metrics', () => {
    const sm = named('ServiceMonitor', 'zai-proxy');
    const selector = (sm.spec.selector as { matchLabels: Labels }).matchLabels;
    const scraped = byKind('Service').filter((s) => matches(selector, s.metadata.labels));
    assert.deepEqual(
      scraped.map((s) => s.metadata.name).sort(),
      ['zai-proxy-canary', 'zai-proxy-stable'],
      'each pod is scraped once, through its variant Service',
    );
    assert.equal(sm.spec.endpoints?.length, 1);
    const ep = sm.spec.endpoints![0]!;
    assert.deepEqual([ep.path, ep.interval, ep.scrapeTimeout], ['/metrics', '15s', '10s']);
    for (const s of scraped)
      assert.ok(
        s.spec.ports?.some((p) => p.name === ep.port),
        `${s.metadata.name} has no port ${ep.port}`,
      );
  });

  it('the PrometheusRule carries exactly the rules promtool tests', () => {
    const standalone = parse(readFileSync(fileURLToPath(new URL('../../deploy/prometheus/rules/zai-proxy.rules.yml', import.meta.url)), 'utf8')) as {
      groups: unknown[];
    };
    assert.deepEqual(named('PrometheusRule', 'zai-proxy').spec.groups, standalone.groups, 'regenerate with deploy/kubernetes/generate-prometheusrule.ts');
  });

  it('the dashboard reads Prometheus, listens where its Service points, and writes only to a volume', () => {
    const d = named('Deployment', 'zai-proxy-dashboard');
    const c = d.spec.template!.spec.containers[0]!;
    const env = envOf(c);
    for (const key of env.keys()) assert.ok(key in dashboardEnvShape, `${key} is not a variable the dashboard reads`);
    assert.deepEqual(c.args, ['dashboard']);
    assert.match(env.get('PROMETHEUS_URL') ?? '', /^http:\/\//);
    assert.equal(env.get('DASHBOARD_HOST'), '0.0.0.0');
    assert.equal(c.ports?.find((p) => p.name === 'http')?.containerPort, Number(env.get('DASHBOARD_PORT')));
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    const db = env.get('DB_PATH') ?? '';
    assert.ok(
      c.volumeMounts?.some((m) => db.startsWith(`${m.mountPath}/`)),
      `no volume holds ${db}`,
    );
    assert.equal(named('Service', 'zai-proxy-dashboard').spec.ports?.[0]?.targetPort, 'http');
  });

  it('the Redis option points every proxy at the Redis Service', () => {
    const all = withRedis as unknown as Manifest[];
    const deployments = all.filter((m) => m.kind === 'Deployment');
    const urls = deployments.map((d) => [d.metadata.name, envOf(d.spec.template!.spec.containers[0]!).get('REDIS_URL')] as const).filter(([, u]) => u);
    assert.deepEqual(urls.map(([n]) => n).sort(), ['zai-proxy-canary', 'zai-proxy-stable']);
    assert.ok('REDIS_URL' in proxyEnvShape);
    const url = new URL(urls[0]![1]!);
    const redis = all.find((m) => m.kind === 'Service' && m.metadata.name === url.hostname);
    assert.ok(redis, `no Service ${url.hostname}`);
    const port = redis.spec.ports?.find((p) => p.port === Number(url.port));
    assert.ok(port, `Service ${url.hostname} has no port ${url.port}`);
    const pods = deployments.filter((d) => matches(redis.spec.selector as Labels, podLabels(d)));
    assert.deepEqual(
      pods.map((d) => d.metadata.name),
      ['zai-proxy-redis'],
    );
  });
});
