import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/**
 * Renders a kustomization the way `kubectl kustomize` does, for the subset deploy/kubernetes
 * uses: resources (files and directories), components, namespace, images, and patches (strategic
 * merge or JSON 6902, chosen by a target of kind, name or labelSelector). kubectl is not a Debian
 * package recent enough for components and patches, so the tests render with this; where kubectl
 * is installed, test/deploy/kubernetes.test.ts checks that both agree.
 */
export interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

interface Kustomization {
  namespace?: string;
  resources?: string[];
  components?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
  patches?: { path?: string; patch?: string; target?: { kind?: string; name?: string; labelSelector?: string } }[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass']);

function loadYaml(file: string): Resource[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return d.toJS() as Resource | null;
    })
    .filter((r): r is Resource => r !== null);
}

function kustomizationIn(dir: string): Kustomization {
  const file = join(dir, 'kustomization.yaml');
  if (!existsSync(file)) throw new Error(`${dir} has no kustomization.yaml`);
  return parse(readFileSync(file, 'utf8')) as Kustomization;
}

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Strategic merge as Kubernetes does it for the fields used here: lists of named objects merge by name. */
function strategicMerge(base: Json, patch: Json): Json {
  if (isObject(base) && isObject(patch)) {
    const out: JsonObject = { ...base };
    for (const [k, v] of Object.entries(patch)) out[k] = k in base ? strategicMerge(base[k]!, v) : v;
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch) && [...base, ...patch].every((x) => isObject(x) && typeof x.name === 'string')) {
    // As kustomize orders them: the patch's items (merged into their base item) first, then the rest.
    const named = (xs: Json[], n: Json) => xs.find((x) => (x as JsonObject).name === n);
    const out = patch.map((p) => {
      const b = named(base, (p as JsonObject).name!);
      return b === undefined ? p : strategicMerge(b, p);
    });
    for (const b of base) if (named(patch, (b as JsonObject).name!) === undefined) out.push(b);
    return out;
  }
  return patch;
}

function jsonPatch(doc: Json, ops: { op: string; path: string; value?: Json }[]): Json {
  const out = structuredClone(doc);
  for (const { op, path, value } of ops) {
    const keys = path
      .split('/')
      .slice(1)
      .map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = keys.pop()!;
    let node: Json = out;
    for (const k of keys) node = Array.isArray(node) ? node[Number(k)]! : (node as JsonObject)[k]!;
    if (node === undefined || node === null || typeof node !== 'object') throw new Error(`patch path ${path} does not exist`);
    if (Array.isArray(node)) {
      const i = last === '-' ? node.length : Number(last);
      if (op === 'add') node.splice(i, 0, value!);
      else if (op === 'replace') node[i] = value!;
      else if (op === 'remove') node.splice(i, 1);
      else throw new Error(`unsupported patch op ${op}`);
    } else if (op === 'add' || op === 'replace') node[last] = value!;
    else if (op === 'remove') delete node[last];
    else throw new Error(`unsupported patch op ${op}`);
  }
  return out;
}

function selects(target: NonNullable<NonNullable<Kustomization['patches']>[number]['target']>, r: Resource): boolean {
  if (target.kind && target.kind !== r.kind) return false;
  if (target.name && target.name !== r.metadata.name) return false;
  if (target.labelSelector) {
    for (const term of target.labelSelector.split(',')) {
      const [k, v] = term.split('=') as [string, string];
      if (r.metadata.labels?.[k] !== v) return false;
    }
  }
  return true;
}

function setImages(node: Json, images: NonNullable<Kustomization['images']>): Json {
  if (Array.isArray(node)) return node.map((n) => setImages(n, images));
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    if ((k === 'containers' || k === 'initContainers') && Array.isArray(v)) {
      out[k] = v.map((c) => {
        if (!isObject(c) || typeof c.image !== 'string') return setImages(c, images);
        const [name, tag] = c.image.split(':') as [string, string | undefined];
        const image = images.find((i) => i.name === name);
        return image ? { ...c, image: `${image.newName ?? name}:${image.newTag ?? tag ?? 'latest'}` } : c;
      });
    } else out[k] = setImages(v, images);
  }
  return out;
}

export interface RenderOptions {
  /** Components to add as if listed under `components:` of the top kustomization. */
  components?: string[];
}

/** The objects `kubectl kustomize dir` prints, in file order. */
export function kustomize(dir: string, options: RenderOptions = {}): Resource[] {
  const k = kustomizationIn(dir);
  let resources: Resource[] = [];
  const fromPath = (p: string) => {
    const path = resolve(dir, p);
    return statSync(path).isDirectory() ? kustomize(path) : loadYaml(path);
  };
  for (const r of k.resources ?? []) resources.push(...fromPath(r));
  for (const c of [...(k.components ?? []), ...(options.components ?? [])]) {
    const componentDir = resolve(dir, c);
    const component = kustomizationIn(componentDir);
    for (const r of component.resources ?? []) resources.push(...loadYaml(resolve(componentDir, r)));
    resources = applyPatches(resources, component.patches ?? [], componentDir);
  }
  resources = applyPatches(resources, k.patches ?? [], dir);
  if (k.images) resources = resources.map((r) => setImages(r as unknown as Json, k.images!) as unknown as Resource);
  if (k.namespace) {
    resources = resources.map((r) => (CLUSTER_SCOPED.has(r.kind) ? r : { ...r, metadata: { ...r.metadata, namespace: k.namespace } }));
  }
  return resources;
}

function applyPatches(resources: Resource[], patches: NonNullable<Kustomization['patches']>, dir: string): Resource[] {
  let out = resources;
  for (const p of patches) {
    const text = p.path ? readFileSync(join(dir, p.path), 'utf8') : p.patch!;
    const body = parse(text) as Json;
    const target = p.target ?? { kind: (body as JsonObject).kind as string, name: ((body as JsonObject).metadata as JsonObject).name as string };
    const hits = out.filter((r) => selects(target, r));
    if (hits.length === 0) throw new Error(`patch ${p.path ?? 'inline'} in ${dirname(join(dir, 'x'))} selects nothing`);
    out = out.map((r) => {
      if (!selects(target, r)) return r;
      const doc = r as unknown as Json;
      return (Array.isArray(body) ? jsonPatch(doc, body as never) : strategicMerge(doc, body)) as unknown as Resource;
    });
  }
  return out;
}
