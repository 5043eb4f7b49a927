import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { DerivedSnapshot, HistogramDeltas } from '../snapshot/derive.js';
import { RESOLUTIONS, STEP_MS, type Resolution, type StoreStatus, type VariantSnapshot } from '../model.js';
import { decodeBlock, encodeBlock, type BlockRow } from './block-codec.js';
import { mergeSnapshots } from './rollup.js';
import { ConfigError } from '../../config/fields.js';

/**
 * History in SQLite (WAL): raw 5s snapshots, 1m and 1h rollups, each tier with its own
 * retention. Rollups are incremental: a per-tier watermark records up to where complete buckets
 * were merged, so each call merges only buckets that completed since, and a restart continues
 * from the watermark. Every write is its own transaction, so a kill -9 loses at most the round
 * being written.
 *
 * Each tier has two tables. `points_*` holds open rows: plain JSON with the histogram bucket
 * increases the next rollup needs. Once a bucket is merged into the coarser tier, its rows are
 * sealed into one compressed block in `blocks_*` (block-codec.ts) without the histograms, which
 * nothing reads again; the 1h tier seals whole days. Open tables stay a few minutes deep, their
 * freed pages are reused, and a day of 5s history costs a few MB instead of ~90.
 */

const TABLE: Record<Resolution, string> = { '5s': 'points_5s', '1m': 'points_1m', '1h': 'points_1h' };
const BLOCKS: Record<Resolution, string> = { '5s': 'blocks_5s', '1m': 'blocks_1m', '1h': 'blocks_1h' };
const SOURCE: Partial<Record<Resolution, Resolution>> = { '1m': '5s', '1h': '1m' };
/** How much of a tier one sealed block spans: the bucket of the tier above, a day for the top tier. */
export const BLOCK_SPAN_MS: Record<Resolution, number> = { '5s': 60_000, '1m': 3_600_000, '1h': 86_400_000 };

export interface HistoryPoint extends DerivedSnapshot {}

interface RowShape {
  ts: number;
  variant: string;
  snap: string;
  hist: string;
}

interface BlockShape {
  ts: number;
  variant: string;
  n: number;
  data: Buffer;
}

/** A snapshot's JSON text with its key, as read from either table. */
interface JsonRow {
  ts: number;
  variant: string;
  json: string;
}

const decode = (r: RowShape): HistoryPoint => ({ snapshot: JSON.parse(r.snap) as VariantSnapshot, histograms: JSON.parse(r.hist) as HistogramDeltas });
const byKey = (a: JsonRow, b: JsonRow) => a.ts - b.ts || (a.variant < b.variant ? -1 : a.variant > b.variant ? 1 : 0);
const NO_HISTOGRAMS = '{}';

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
  private readonly blockRange: Record<Resolution, Database.Statement>;
  private readonly blockRangeVariant: Record<Resolution, Database.Statement>;

  private constructor(
    readonly path: string,
    private readonly opts: HistoryStoreOptions,
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    // Takes effect on a new file only: lets prune hand pages freed by sealing back to the OS.
    this.db.pragma('auto_vacuum = INCREMENTAL');
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a process crash loses nothing committed; only an OS crash can lose the last commits.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    for (const r of RESOLUTIONS) {
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS ${TABLE[r]} (ts INTEGER NOT NULL, variant TEXT NOT NULL, snap TEXT NOT NULL, hist TEXT NOT NULL, PRIMARY KEY (ts, variant)) WITHOUT ROWID`,
      );
      // ts: the block's bucket start; first/last: its rows' extremes, for range overlap and oldest-point queries.
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS ${BLOCKS[r]} (ts INTEGER NOT NULL, variant TEXT NOT NULL, n INTEGER NOT NULL, first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (ts, variant))`,
      );
    }
    this.db.exec('CREATE TABLE IF NOT EXISTS rollup_watermark (resolution TEXT PRIMARY KEY, done_until INTEGER NOT NULL)');
    const each = <T>(f: (r: Resolution) => T) => Object.fromEntries(RESOLUTIONS.map((r) => [r, f(r)])) as Record<Resolution, T>;
    this.insert = each((r) => this.db.prepare(`INSERT OR REPLACE INTO ${TABLE[r]} (ts, variant, snap, hist) VALUES (?, ?, ?, ?)`));
    this.range = each((r) => this.db.prepare(`SELECT ts, variant, snap AS json FROM ${TABLE[r]} WHERE ts >= ? AND ts <= ?`));
    this.rangeVariant = each((r) => this.db.prepare(`SELECT ts, variant, snap AS json FROM ${TABLE[r]} WHERE ts >= ? AND ts <= ? AND variant = ?`));
    // A block overlaps [from, to] when it starts before `to` and its bucket ends after `from`.
    this.blockRange = each((r) => this.db.prepare(`SELECT ts, variant, n, data FROM ${BLOCKS[r]} WHERE ts > ? AND ts <= ? AND last_ts >= ?`));
    this.blockRangeVariant = each((r) =>
      this.db.prepare(`SELECT ts, variant, n, data FROM ${BLOCKS[r]} WHERE ts > ? AND ts <= ? AND last_ts >= ? AND variant = ?`),
    );
  }

  /**
   * Opens (or creates) the history file. A file that is not a readable SQLite database stops
   * the dashboard with one line that says what to do; the file is never deleted or rewritten,
   * since it may be all the history there is.
   */
  static open(path: string, opts: HistoryStoreOptions): HistoryStore {
    try {
      return new HistoryStore(path, opts);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
        throw new ConfigError(
          `DB_PATH ${path} is not a readable SQLite database (${code}); nothing was changed in it. Move it aside (mv ${path} ${path}.corrupt) to start a new history, or point DB_PATH at another file`,
        );
      }
      // Its folder cannot be made or written (a file in the way, a read-only mount, no permission).
      if (typeof code === 'string' && ['EACCES', 'EPERM', 'EEXIST', 'ENOTDIR', 'EROFS', 'SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_PERM'].includes(code)) {
        throw new ConfigError(
          `DB_PATH ${path} cannot be opened for writing (${code}); point DB_PATH at a file in a writable folder, or :memory: for no history on disk`,
        );
      }
      throw err;
    }
  }

  /** Writes one round of snapshots atomically. */
  write(points: readonly DerivedSnapshot[], resolution: Resolution = '5s'): void {
    const stmt = this.insert[resolution];
    // The top tier feeds no rollup: its histograms would never be read.
    const keepHistograms = resolution !== '1h';
    this.db.transaction(() => {
      for (const p of points) {
        stmt.run(p.snapshot.ts, p.snapshot.variant, JSON.stringify(p.snapshot, encodeNumber), keepHistograms ? JSON.stringify(p.histograms) : NO_HISTOGRAMS);
      }
    })();
  }

  private watermark(r: Resolution): number | null {
    const row = this.db.prepare('SELECT done_until FROM rollup_watermark WHERE resolution = ?').get(r) as { done_until: number } | undefined;
    return row?.done_until ?? null;
  }

  /**
   * Merges every bucket of each coarser tier that is complete at `now` and not merged yet, then
   * seals what no rollup needs any more. Returns how many points each tier gained.
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
        const rows = this.db
          .prepare(`SELECT ts, variant, snap, hist FROM ${TABLE[source]} WHERE ts >= ? AND ts < ? ORDER BY variant, ts`)
          .all(from, horizon) as RowShape[];
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
    // Seal only behind each rollup's watermark: an open row is sealed once its bucket is merged.
    for (const [tier, target] of [
      ['5s', '1m'],
      ['1m', '1h'],
    ] as const) {
      const done = this.watermark(target);
      if (done !== null) this.seal(tier, done);
    }
    this.seal('1h', Math.floor(now / BLOCK_SPAN_MS['1h']) * BLOCK_SPAN_MS['1h']);
    return added;
  }

  /** Moves a tier's open rows before `horizon` into blocks, one per (bucket, variant), in one transaction. */
  private seal(tier: Resolution, horizon: number): void {
    const span = BLOCK_SPAN_MS[tier];
    this.db.transaction(() => {
      const rows = this.db.prepare(`SELECT ts, variant, snap AS json FROM ${TABLE[tier]} WHERE ts < ? ORDER BY variant, ts`).all(horizon) as JsonRow[];
      if (rows.length === 0) return;
      const buckets = new Map<string, { ts: number; variant: string; rows: BlockRow[] }>();
      for (const r of rows) {
        const ts = Math.floor(r.ts / span) * span;
        const key = `${ts}\u0000${r.variant}`;
        let b = buckets.get(key);
        if (!b) buckets.set(key, (b = { ts, variant: r.variant, rows: [] }));
        b.rows.push({ ts: r.ts, json: r.json });
      }
      const existing = this.db.prepare(`SELECT data FROM ${BLOCKS[tier]} WHERE ts = ? AND variant = ?`);
      for (const b of buckets.values()) {
        // A late row for a bucket already sealed joins its block (a row of the same ts replaces the old one).
        const old = existing.get(b.ts, b.variant) as { data: Buffer } | undefined;
        const rowsOfBlock = old ? mergeRows(decodeBlock(old.data), b.rows) : b.rows;
        this.putBlock(tier, b.ts, b.variant, rowsOfBlock);
      }
      this.db.prepare(`DELETE FROM ${TABLE[tier]} WHERE ts < ?`).run(horizon);
    })();
  }

  private putBlock(tier: Resolution, ts: number, variant: string, rows: readonly BlockRow[]): void {
    if (rows.length === 0) {
      this.db.prepare(`DELETE FROM ${BLOCKS[tier]} WHERE ts = ? AND variant = ?`).run(ts, variant);
      return;
    }
    this.db
      .prepare(`INSERT OR REPLACE INTO ${BLOCKS[tier]} (ts, variant, n, first_ts, last_ts, data) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(ts, variant, rows.length, rows[0]!.ts, rows[rows.length - 1]!.ts, encodeBlock(rows));
  }

  /** Deletes points older than each tier's retention. */
  prune(now: number): Record<Resolution, number> {
    const removed: Record<Resolution, number> = { '5s': 0, '1m': 0, '1h': 0 };
    for (const r of RESOLUTIONS) {
      const horizon = now - this.opts.retentionMs[r];
      this.db.transaction(() => {
        removed[r] = this.db.prepare(`DELETE FROM ${TABLE[r]} WHERE ts < ?`).run(horizon).changes;
        const whole = this.db.prepare(`SELECT COALESCE(SUM(n), 0) AS n FROM ${BLOCKS[r]} WHERE last_ts < ?`).get(horizon) as { n: number };
        this.db.prepare(`DELETE FROM ${BLOCKS[r]} WHERE last_ts < ?`).run(horizon);
        removed[r] += whole.n;
        // Blocks straddling the horizon lose exactly their expired rows: at most one per variant.
        const straddling = this.db.prepare(`SELECT ts, variant, n, data FROM ${BLOCKS[r]} WHERE first_ts < ?`).all(horizon) as BlockShape[];
        for (const b of straddling) {
          const kept = decodeBlock(b.data).filter((row) => row.ts >= horizon);
          this.putBlock(r, b.ts, b.variant, kept);
          removed[r] += b.n - kept.length;
        }
      })();
    }
    // Free pages are reused by later writes; only a large surplus (a one-off backlog sealed, a
    // retention shortened) is worth giving back to the file system.
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    if (free > pages / 4) this.db.pragma('incremental_vacuum');
    // Hand freed WAL pages back so the files stay bounded, not just the row count.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return removed;
  }

  /**
   * Snapshots' JSON text in [fromMs, toMs], sorted by ts then variant, never parsed: the API
   * splices them into its response as they are.
   */
  queryJson(resolution: Resolution, fromMs: number, toMs: number, variant?: string): string[] {
    const span = BLOCK_SPAN_MS[resolution];
    const open = (variant === undefined ? this.range[resolution].all(fromMs, toMs) : this.rangeVariant[resolution].all(fromMs, toMs, variant)) as JsonRow[];
    const blocks = (
      variant === undefined
        ? this.blockRange[resolution].all(fromMs - span, toMs, fromMs)
        : this.blockRangeVariant[resolution].all(fromMs - span, toMs, fromMs, variant)
    ) as BlockShape[];
    const out: JsonRow[] = [];
    for (const b of blocks) {
      for (const row of decodeBlock(b.data)) if (row.ts >= fromMs && row.ts <= toMs) out.push({ ts: row.ts, variant: b.variant, json: row.json });
    }
    for (const r of open) out.push(r);
    out.sort(byKey);
    return out.map((r) => r.json);
  }

  query(resolution: Resolution, fromMs: number, toMs: number, variant?: string): VariantSnapshot[] {
    return this.queryJson(resolution, fromMs, toMs, variant).map((j) => JSON.parse(j) as VariantSnapshot);
  }

  /** Raw snapshots strictly after (ts, variant), in (ts, variant) order: SSE resume. */
  after(ts: number, variant: string, limit: number): VariantSnapshot[] {
    const key = { ts, variant, json: '' };
    const rows: JsonRow[] = this.db
      .prepare(`SELECT ts, variant, snap AS json FROM ${TABLE['5s']} WHERE ts > ? OR (ts = ? AND variant > ?) ORDER BY ts, variant LIMIT ?`)
      .all(ts, ts, variant, limit) as JsonRow[];
    const blocks = this.db
      .prepare(`SELECT ts, variant, n, data FROM ${BLOCKS['5s']} WHERE ts > ? AND last_ts >= ?`)
      .all(ts - BLOCK_SPAN_MS['5s'], ts) as BlockShape[];
    for (const b of blocks)
      for (const r of decodeBlock(b.data))
        if (byKey({ ts: r.ts, variant: b.variant, json: '' }, key) > 0) rows.push({ ts: r.ts, variant: b.variant, json: r.json });
    return rows
      .sort(byKey)
      .slice(0, limit)
      .map((r) => JSON.parse(r.json) as VariantSnapshot);
  }

  /** Latest raw snapshot of every variant (sealed or open). */
  latest(): VariantSnapshot[] {
    const best = new Map<string, JsonRow>();
    const consider = (r: JsonRow) => {
      const cur = best.get(r.variant);
      if (!cur || r.ts > cur.ts) best.set(r.variant, r);
    };
    const open = this.db
      .prepare(
        `SELECT p.ts AS ts, p.variant AS variant, p.snap AS json FROM ${TABLE['5s']} p JOIN (SELECT variant, MAX(ts) AS ts FROM ${TABLE['5s']} GROUP BY variant) m ON p.variant = m.variant AND p.ts = m.ts`,
      )
      .all() as JsonRow[];
    open.forEach(consider);
    // Variants whose newest rows are all sealed (a target gone for minutes) still have a latest snapshot.
    const sealed = this.db
      .prepare(
        `SELECT b.ts AS ts, b.variant AS variant, b.n AS n, b.data AS data FROM ${BLOCKS['5s']} b JOIN (SELECT variant, MAX(ts) AS ts FROM ${BLOCKS['5s']} GROUP BY variant) m ON b.variant = m.variant AND b.ts = m.ts`,
      )
      .all() as BlockShape[];
    for (const b of sealed) {
      if ((best.get(b.variant)?.ts ?? -Infinity) >= b.ts) continue;
      const rows = decodeBlock(b.data);
      const last = rows[rows.length - 1];
      if (last) consider({ ts: last.ts, variant: b.variant, json: last.json });
    }
    return [...best.values()].sort((a, b) => (a.variant < b.variant ? -1 : 1)).map((r) => JSON.parse(r.json) as VariantSnapshot);
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
      const open = this.db.prepare(`SELECT COUNT(*) AS n, MIN(ts) AS oldest FROM ${TABLE[r]}`).get() as { n: number; oldest: number | null };
      const sealed = this.db.prepare(`SELECT COALESCE(SUM(n), 0) AS n, MIN(first_ts) AS oldest FROM ${BLOCKS[r]}`).get() as {
        n: number;
        oldest: number | null;
      };
      rows[r] = open.n + sealed.n;
      oldest[r] = open.oldest === null ? sealed.oldest : sealed.oldest === null ? open.oldest : Math.min(open.oldest, sealed.oldest);
    }
    return { path: this.path, size_bytes: this.sizeBytes(), rows, oldest_ms: oldest };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Block rows plus late rows, by ts, a late row replacing a sealed one of the same ts. */
function mergeRows(sealed: readonly BlockRow[], late: readonly BlockRow[]): BlockRow[] {
  const byTs = new Map<number, BlockRow>();
  for (const r of sealed) byTs.set(r.ts, r);
  for (const r of late) byTs.set(r.ts, r);
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}
