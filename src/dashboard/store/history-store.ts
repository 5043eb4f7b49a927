import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { DerivedSnapshot, HistogramDeltas } from '../collector/derive.js';
import { RESOLUTIONS, type Resolution, type StoreStatus, type VariantSnapshot } from '../model.js';
import { mergeSnapshots } from './rollup.js';

/**
 * History in SQLite (WAL): raw 5s snapshots, 1m and 1h rollups, each tier with its own
 * retention. Rollups are incremental: a per-tier watermark records up to where complete buckets
 * were merged, so each call merges only buckets that completed since, and a restart continues
 * from the watermark. Every write is its own transaction, so a kill -9 loses at most the round
 * being written.
 */

export const STEP_MS: Record<Resolution, number> = { '5s': 5_000, '1m': 60_000, '1h': 3_600_000 };
const TABLE: Record<Resolution, string> = { '5s': 'points_5s', '1m': 'points_1m', '1h': 'points_1h' };
const SOURCE: Partial<Record<Resolution, Resolution>> = { '1m': '5s', '1h': '1m' };

export interface HistoryPoint extends DerivedSnapshot {}

interface RowShape {
  ts: number;
  variant: string;
  snap: string;
  hist: string;
}

const decode = (r: RowShape): HistoryPoint => ({ snapshot: JSON.parse(r.snap) as VariantSnapshot, histograms: JSON.parse(r.hist) as HistogramDeltas });

// NaN/Infinity would turn into null silently in JSON; make that explicit and safe.
const encodeNumber = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v);

export interface HistoryStoreOptions {
  retentionMs: Record<Resolution, number>;
}

export class HistoryStore {
  private readonly db: Database.Database;
  private readonly insert: Record<Resolution, Database.Statement>;
  private readonly range: Record<Resolution, Database.Statement>;
  private readonly rangeVariant: Record<Resolution, Database.Statement>;

  private constructor(
    readonly path: string,
    private readonly opts: HistoryStoreOptions,
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a process crash loses nothing committed; only an OS crash can lose the last commits.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    for (const r of RESOLUTIONS) {
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS ${TABLE[r]} (ts INTEGER NOT NULL, variant TEXT NOT NULL, snap TEXT NOT NULL, hist TEXT NOT NULL, PRIMARY KEY (ts, variant)) WITHOUT ROWID`,
      );
    }
    this.db.exec('CREATE TABLE IF NOT EXISTS rollup_watermark (resolution TEXT PRIMARY KEY, done_until INTEGER NOT NULL)');
    const each = <T>(f: (r: Resolution) => T) => Object.fromEntries(RESOLUTIONS.map((r) => [r, f(r)])) as Record<Resolution, T>;
    this.insert = each((r) => this.db.prepare(`INSERT OR REPLACE INTO ${TABLE[r]} (ts, variant, snap, hist) VALUES (?, ?, ?, ?)`));
    this.range = each((r) => this.db.prepare(`SELECT ts, variant, snap, hist FROM ${TABLE[r]} WHERE ts >= ? AND ts <= ? ORDER BY ts, variant`));
    this.rangeVariant = each((r) =>
      this.db.prepare(`SELECT ts, variant, snap, hist FROM ${TABLE[r]} WHERE ts >= ? AND ts <= ? AND variant = ? ORDER BY ts`),
    );
  }

  static open(path: string, opts: HistoryStoreOptions): HistoryStore {
    return new HistoryStore(path, opts);
  }

  /** Writes one round of snapshots atomically. */
  write(points: readonly DerivedSnapshot[], resolution: Resolution = '5s'): void {
    const stmt = this.insert[resolution];
    this.db.transaction(() => {
      for (const p of points) {
        stmt.run(p.snapshot.ts, p.snapshot.variant, JSON.stringify(p.snapshot, encodeNumber), JSON.stringify(p.histograms));
      }
    })();
  }

  private watermark(r: Resolution): number | null {
    const row = this.db.prepare('SELECT done_until FROM rollup_watermark WHERE resolution = ?').get(r) as { done_until: number } | undefined;
    return row?.done_until ?? null;
  }

  /**
   * Merges every bucket of each coarser tier that is complete at `now` and not merged yet.
   * Returns how many points each tier gained.
   */
  rollup(now: number): Record<Resolution, number> {
    const added: Record<Resolution, number> = { '5s': 0, '1m': 0, '1h': 0 };
    for (const target of ['1m', '1h'] as const) {
      const source = SOURCE[target]!;
      const step = STEP_MS[target];
      const horizon = Math.floor(now / step) * step;
      this.db.transaction(() => {
        let from = this.watermark(target);
        if (from === null) {
          const first = this.db.prepare(`SELECT MIN(ts) AS ts FROM ${TABLE[source]}`).get() as { ts: number | null };
          if (first.ts === null) return;
          from = Math.floor(first.ts / step) * step;
        }
        if (from >= horizon) return;
        const rows = this.db.prepare(`SELECT ts, variant, snap, hist FROM ${TABLE[source]} WHERE ts >= ? AND ts < ? ORDER BY variant, ts`).all(from, horizon) as RowShape[];
        const buckets = new Map<string, HistoryPoint[]>();
        for (const r of rows) {
          const key = `${Math.floor(r.ts / step) * step}\u0000${r.variant}`;
          const list = buckets.get(key);
          if (list) list.push(decode(r));
          else buckets.set(key, [decode(r)]);
        }
        const merged: DerivedSnapshot[] = [];
        for (const [key, points] of buckets) merged.push(mergeSnapshots(points, Number(key.split('\u0000')[0])));
        this.write(merged, target);
        added[target] = merged.length;
        this.db.prepare('INSERT OR REPLACE INTO rollup_watermark (resolution, done_until) VALUES (?, ?)').run(target, horizon);
      })();
    }
    return added;
  }

  /** Deletes points older than each tier's retention. */
  prune(now: number): Record<Resolution, number> {
    const removed: Record<Resolution, number> = { '5s': 0, '1m': 0, '1h': 0 };
    for (const r of RESOLUTIONS) {
      removed[r] = this.db.prepare(`DELETE FROM ${TABLE[r]} WHERE ts < ?`).run(now - this.opts.retentionMs[r]).changes;
    }
    // Hand freed WAL pages back so the files stay bounded, not just the row count.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return removed;
  }

  query(resolution: Resolution, fromMs: number, toMs: number, variant?: string): VariantSnapshot[] {
    const rows = (variant === undefined ? this.range[resolution].all(fromMs, toMs) : this.rangeVariant[resolution].all(fromMs, toMs, variant)) as RowShape[];
    return rows.map((r) => JSON.parse(r.snap) as VariantSnapshot);
  }

  /** Raw snapshots strictly after (ts, variant), in (ts, variant) order: SSE resume. */
  after(ts: number, variant: string, limit: number): VariantSnapshot[] {
    const rows = this.db
      .prepare(`SELECT snap FROM ${TABLE['5s']} WHERE ts > ? OR (ts = ? AND variant > ?) ORDER BY ts, variant LIMIT ?`)
      .all(ts, ts, variant, limit) as { snap: string }[];
    return rows.map((r) => JSON.parse(r.snap) as VariantSnapshot);
  }

  /** Latest raw snapshot of every variant. */
  latest(): VariantSnapshot[] {
    const rows = this.db
      .prepare(`SELECT p.snap AS snap FROM ${TABLE['5s']} p JOIN (SELECT variant, MAX(ts) AS ts FROM ${TABLE['5s']} GROUP BY variant) m ON p.variant = m.variant AND p.ts = m.ts ORDER BY p.variant`)
      .all() as { snap: string }[];
    return rows.map((r) => JSON.parse(r.snap) as VariantSnapshot);
  }

  sizeBytes(): number {
    if (this.path === ':memory:') return 0;
    let total = 0;
    for (const suffix of ['', '-wal', '-shm']) {
      try {
        total += statSync(this.path + suffix).size;
      } catch {
        // the WAL and shm files come and go with checkpoints
      }
    }
    return total;
  }

  status(): StoreStatus {
    const rows = {} as Record<Resolution, number>;
    const oldest = {} as Record<Resolution, number | null>;
    for (const r of RESOLUTIONS) {
      const row = this.db.prepare(`SELECT COUNT(*) AS n, MIN(ts) AS oldest FROM ${TABLE[r]}`).get() as { n: number; oldest: number | null };
      rows[r] = row.n;
      oldest[r] = row.oldest;
    }
    return { path: this.path, size_bytes: this.sizeBytes(), rows, oldest_ms: oldest };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
