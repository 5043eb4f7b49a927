import { Collector, type FetchPage, type RoundResult } from './collector.js';
import type { Target } from './targets.js';
import type { Resolution, StoreStatus, TargetStatus, VariantSnapshot } from '../model.js';
import type { DashboardMetrics } from '../self-metrics.js';
import type { SnapshotSource } from './source.js';
import type { HistoryStore } from '../store/history-store.js';

/** The dashboard's own scraping, with history in SQLite. */
export class ScrapeSource implements SnapshotSource {
  readonly kind = 'scrape' as const;
  readonly collector: Collector;

  constructor(
    readonly db: HistoryStore,
    private readonly retention: Record<Resolution, number>,
    opts: { targets: readonly Target[]; intervalMs: number; timeoutMs: number; now: () => number; fetchPage?: FetchPage; metrics: DashboardMetrics },
    private readonly metrics: DashboardMetrics,
  ) {
    this.collector = new Collector(opts);
  }

  /** One round: scrape, store (one transaction), roll up completed buckets. */
  async round(ts: number): Promise<RoundResult> {
    const result = await this.collector.round(ts);
    try {
      this.db.write(result.snapshots);
      this.db.rollup(ts);
      this.metrics.storeWrites.inc({ result: 'success' }, result.snapshots.length);
    } catch (err) {
      this.metrics.storeWrites.inc({ result: 'error' }, result.snapshots.length);
      throw err;
    }
    return result;
  }

  async history(resolution: Resolution, fromMs: number, toMs: number, variant?: string): Promise<VariantSnapshot[]> {
    return this.db.query(resolution, fromMs, toMs, variant);
  }
  async historyJson(resolution: Resolution, fromMs: number, toMs: number, variant?: string): Promise<string[]> {
    return this.db.queryJson(resolution, fromMs, toMs, variant);
  }
  async after(ts: number, variant: string, limit: number): Promise<VariantSnapshot[]> {
    return this.db.after(ts, variant, limit);
  }
  async latest(): Promise<VariantSnapshot[]> {
    return this.db.latest();
  }
  targets(): TargetStatus[] {
    return this.collector.status();
  }
  store(): StoreStatus {
    return this.db.status();
  }
  retentionMs(): Record<Resolution, number> {
    return this.retention;
  }
}
