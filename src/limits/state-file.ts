import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The learned limits, persisted so a restart does not relearn them through a 429 storm.
 * Written atomically (temp file in the same directory, then rename); ignored when older than
 * RATE_LIMIT_STATE_MAX_AGE, unreadable or nonsensical.
 */
export interface PersistedLimits {
  ceiling: number;
  rate: number;
  concurrencyLimit: number;
  /** When these limits were learned (epoch ms). */
  savedAtMs: number;
}

/** Clock skew allowed between the writer and the reader of a state file. */
const FUTURE_SLACK_MS = 60_000;

export type LoadResult = { state: PersistedLimits } | { state: undefined; reason: 'missing' | 'corrupt' | 'nonsensical' | 'stale' };

export async function saveLimits(path: string, state: PersistedLimits): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `${basename(path)}.tmp-${randomBytes(6).toString('hex')}`);
  const body = JSON.stringify({
    ceiling: state.ceiling,
    rate: state.rate,
    concurrencyLimit: state.concurrencyLimit,
    ts: new Date(state.savedAtMs).toISOString(),
  });
  try {
    await writeFile(tmp, `${body}\n`, { mode: 0o644 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

export async function loadLimits(path: string, nowMs: number, maxAgeMs: number): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: undefined, reason: 'missing' };
    return { state: undefined, reason: 'corrupt' };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { state: undefined, reason: 'corrupt' };
  }
  if (typeof raw !== 'object' || raw === null) return { state: undefined, reason: 'corrupt' };
  const r = raw as Record<string, unknown>;
  const ceiling = r.ceiling;
  const rate = r.rate;
  const limit = r.concurrencyLimit;
  if (typeof ceiling !== 'number' || typeof rate !== 'number' || !(ceiling > 0) || !(rate > 0) || !Number.isFinite(ceiling) || !Number.isFinite(rate)) {
    return { state: undefined, reason: 'nonsensical' };
  }
  let savedAtMs = typeof r.ts === 'string' ? Date.parse(r.ts) : NaN;
  if (!Number.isFinite(savedAtMs)) {
    // No usable timestamp: the file's own age is the next best witness.
    savedAtMs = await stat(path).then(
      (s) => s.mtimeMs,
      () => NaN,
    );
  }
  // A stamp from the future (a clock that jumped back, or a copied file) says nothing about
  // how old the limits are: treated as stale, or it would be trusted forever.
  if (!Number.isFinite(savedAtMs) || nowMs - savedAtMs > maxAgeMs || savedAtMs - nowMs > FUTURE_SLACK_MS) return { state: undefined, reason: 'stale' };
  return { state: { ceiling, rate, concurrencyLimit: typeof limit === 'number' && limit >= 1 ? limit : NaN, savedAtMs } };
}

export async function deleteLimits(path: string): Promise<void> {
  await rm(path, { force: true });
}
