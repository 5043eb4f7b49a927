import { existsSync } from 'node:fs';
import { HistoryStore } from '../dashboard/store/history-store.js';
import type { Resolution, VariantSnapshot } from '../dashboard/model.js';
import { add, emptyArms, SourceUnreadableError, type ArmQuery, type ArmReader, type ArmsRead } from './arms.js';
import { noTokens, REPORTED_DIRECTIONS, type ArmCounts } from './judgement.js';

/**
 * Arm counts from the dashboard's SQLite store. Each stored point holds its own window's
 * increases (rates × window seconds give counts back), so a span is the sum of the points whose
 * time falls in (from, to]: the same increases a Prometheus range gives, without extrapolation.
 */

/** The 5s tier is kept a day by default; longer spans read the 1m tier. */
const FINE_SPAN_MS = 24 * 3_600_000;
/** Retention is the dashboard's business; the report only reads. */
const KEEP_ALL = { '5s': Number.MAX_SAFE_INTEGER, '1m': Number.MAX_SAFE_INTEGER, '1h': Number.MAX_SAFE_INTEGER };

export function addSnapshot(a: ArmCounts, s: VariantSnapshot): void {
  const w = s.window_s;
  // Rates were counts / window: multiply back and round away the floating-point residue.
  const counts = (rates: Record<string, number>, into: Record<string, number>) => {
    for (const [k, v] of Object.entries(rates)) add(into, k, Math.round(v * w * 1e6) / 1e6);
  };
  counts(s.requests.by_code, a.byStatus);
  counts(s.limiter.rejections_by_reason, a.rejections);
  counts(s.errors.zai_by_class, a.zaiErrors);
  const b = s.buckets;
  if (b) {
    b.latency.forEach((n, i) => {
      a.latency[i] = (a.latency[i] ?? 0) + n;
    });
    b.ttfb.forEach((n, i) => {
      a.ttfb[i] = (a.ttfb[i] ?? 0) + n;
    });
  }
  for (const d of REPORTED_DIRECTIONS) a.tokens[d] += s.tokens.window[d] ?? 0;
  a.costUsd += s.cost_usd.window;
  for (const [model, dirs] of Object.entries(s.tokens.window_by_model ?? {})) {
    const m = (a.models[model] ??= { counted: 0, tokens: noTokens() });
    for (const d of REPORTED_DIRECTIONS) m.tokens[d] += dirs[d] ?? 0;
  }
  for (const [model, n] of Object.entries(s.tokens.counted_by_model ?? {})) {
    (a.models[model] ??= { counted: 0, tokens: noTokens() }).counted += n;
  }
}

/**
 * Arm counts from stored snapshots, wherever they are held: the report opens the store file,
 * the dashboard reads its own source. `fineSpanMs`: spans up to this read the 5s tier.
 */
export function snapshotReader(
  description: string,
  query: (resolution: Resolution, fromMs: number, toMs: number) => VariantSnapshot[] | Promise<VariantSnapshot[]>,
  opts: { fineSpanMs?: number; close?: () => void } = {},
): ArmReader {
  const fine = opts.fineSpanMs ?? FINE_SPAN_MS;
  return {
    description,
    async read(q: ArmQuery): Promise<ArmsRead> {
      const resolution: Resolution = q.toMs - q.fromMs <= fine ? '5s' : '1m';
      let points: VariantSnapshot[];
      try {
        points = await query(resolution, q.fromMs + 1, q.toMs);
      } catch (err) {
        throw new SourceUnreadableError(`cannot read the ${description}: ${(err as Error).message}`);
      }
      const arms = emptyArms(q);
      const seen = new Set<string>();
      for (const p of points) {
        seen.add(p.variant);
        if (p.variant === q.stable) addSnapshot(arms.stable, p);
        else if (p.variant === q.canary) addSnapshot(arms.canary, p);
      }
      return { ...arms, variantsSeen: [...seen].sort() };
    },
    close: () => opts.close?.(),
  };
}

export function storeReader(path: string): ArmReader {
  if (!existsSync(path)) throw new SourceUnreadableError(`no dashboard store at ${path} (set --db or DB_PATH)`);
  let store: HistoryStore;
  try {
    store = HistoryStore.open(path, { retentionMs: KEEP_ALL });
  } catch (err) {
    throw new SourceUnreadableError(`cannot open the dashboard store ${path}: ${(err as Error).message}`);
  }
  return snapshotReader(`dashboard store ${path}`, (resolution, fromMs, toMs) => store.query(resolution, fromMs, toMs), { close: () => store.close() });
}
