/**
 * Label values that come from clients are bounded here, so no client can grow the number of
 * series without limit: `model` capped, `client` a fixed number of buckets (docs/metrics.md,
 * "Label values").
 */

export const OTHER = 'other';
export const MAX_MODEL_LABELS = 32;
export const CLIENT_BUCKETS = 8;

/** What a message between a worker process and the primary was for (`op` of zai_proxy_cluster_ipc_failures_total). */
export const IPC_PURPOSES = ['budget', 'metrics', 'health', 'drain'] as const;
export type IpcPurpose = (typeof IPC_PURPOSES)[number];

const MODEL_NAME = /^[a-z0-9][a-z0-9._:/-]{0,63}$/;

/** Lower-cased model names, first come first kept, up to a fixed count; the rest are "other". */
export class ModelLabels {
  private readonly seen = new Set<string>();
  constructor(private readonly max = MAX_MODEL_LABELS) {}

  label(model: unknown): string {
    if (typeof model !== 'string') return OTHER;
    const name = model.toLowerCase();
    if (this.seen.has(name)) return name;
    if (!MODEL_NAME.test(name) || this.seen.size >= this.max) return OTHER;
    this.seen.add(name);
    return name;
  }
}

const CLIENT_LABELS = Array.from({ length: CLIENT_BUCKETS }, (_, i) => `c${i}`);

/**
 * A client's source bucket: a stable hash of its identity (its proxy key, or its address when
 * it has none) onto a fixed set of labels. The identity itself is never exported.
 */
export function clientBucket(identity: string): string {
  return CLIENT_LABELS[identityHash(identity) % CLIENT_BUCKETS]!;
}

/** FNV-1a (32 bit) of a client identity: cheap, stable across processes and restarts. */
export function identityHash(identity: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < identity.length; i++) {
    h ^= identity.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
