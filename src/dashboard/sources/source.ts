import type { Resolution, StoreStatus, TargetStatus, VariantSnapshot } from '../model.js';

/**
 * What the API reads from, whichever way snapshots are produced: the dashboard's own scraping
 * plus SQLite, or a Prometheus server's HTTP API.
 */
export interface SnapshotSource {
  readonly kind: 'scrape' | 'prometheus';
  history(resolution: Resolution, fromMs: number, toMs: number, variant?: string): Promise<VariantSnapshot[]>;
  /** The same points as JSON text, when the source holds them as text: served without a parse. */
  historyJson?(resolution: Resolution, fromMs: number, toMs: number, variant?: string): Promise<string[]>;
  /** Snapshots strictly after (ts, variant) in (ts, variant) order, for SSE resume. */
  after(ts: number, variant: string, limit: number): Promise<VariantSnapshot[]>;
  latest(): Promise<VariantSnapshot[]>;
  targets(): TargetStatus[];
  store(): StoreStatus | null;
  /** How long each resolution is kept, ms. */
  retentionMs(): Record<Resolution, number>;
}
