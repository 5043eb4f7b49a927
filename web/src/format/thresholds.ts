/**
 * Threshold levels for the values an operator scans. Each level carries a word and a glyph as
 * well as a colour, so the page never relies on colour alone (colour-blind operators, greyscale
 * screenshots, a phone in the sun).
 */

export type Level = 'ok' | 'warn' | 'high' | 'critical';

export interface LevelStyle {
  readonly level: Level;
  /** Short word shown next to the value. */
  readonly word: string;
  /** A glyph whose shape differs per level. */
  readonly glyph: string;
}

const STYLES: Record<Level, LevelStyle> = {
  ok: { level: 'ok', word: 'normal', glyph: '\u25CF' }, // ●
  warn: { level: 'warn', word: 'elevated', glyph: '\u25B2' }, // ▲
  high: { level: 'high', word: 'high', glyph: '\u25C6' }, // ◆
  critical: { level: 'critical', word: 'critical', glyph: '\u2716' }, // ✖
};

export const levelStyle = (level: Level): LevelStyle => STYLES[level];

/** Two cut points: below `warn` is ok, below `high` is warn, else `top` (high unless stated). */
export interface Steps {
  readonly warn: number;
  readonly high: number;
  readonly top?: Level;
}

export function levelFor(value: number | null | undefined, steps: Steps): Level | null {
  if (value === null || value === undefined || Number.isNaN(value)) return null;
  if (value < steps.warn) return 'ok';
  if (value < steps.high) return 'warn';
  return steps.top ?? 'high';
}

/**
 * The token thresholds of the Grafana dashboard's panels (deploy/grafana/zai-proxy.json): total
 * tokens green < 50k < yellow < 100k < orange; input and output 25k / 50k. They are stated for a
 * one-hour window, so over other windows they are scaled by the window's length, keeping the
 * meaning "spending faster than the seed's hourly budget".
 */
export const TOKEN_STEPS_PER_HOUR = {
  total: { warn: 50_000, high: 100_000 },
  input: { warn: 25_000, high: 50_000 },
  output: { warn: 25_000, high: 50_000 },
} as const satisfies Record<string, Steps>;

export function tokenLevel(kind: keyof typeof TOKEN_STEPS_PER_HOUR, tokens: number | null, windowMs: number): Level | null {
  const s = TOKEN_STEPS_PER_HOUR[kind];
  const scale = windowMs > 0 ? windowMs / 3_600_000 : 1;
  return levelFor(tokens, { warn: s.warn * scale, high: s.high * scale });
}

/** 5xx share of requests (ratio): 1 % elevated, 5 % critical. */
export const ERROR_RATIO_STEPS: Steps = { warn: 0.01, high: 0.05, top: 'critical' };
/** 429 share: clients are being throttled. */
export const THROTTLED_RATIO_STEPS: Steps = { warn: 0.02, high: 0.1 };
/** In flight over a limit, or quota used: 70 % elevated, 90 % critical. */
export const UTILIZATION_STEPS: Steps = { warn: 0.7, high: 0.9, top: 'critical' };
/** Quota sample age in seconds: the proxy's QUOTA_STALE_AFTER default is 15 minutes. */
export const QUOTA_STALE_AFTER_S = 15 * 60;
/** Proxy overhead p50 in ms: the design budget is 0.25 ms added at p50. */
export const OVERHEAD_STEPS: Steps = { warn: 0.25, high: 1 };

/** A variant is stale when its newest snapshot is older than this many scrape intervals (the backend's rule). */
export const STALE_AFTER_INTERVALS = 3;

export function isStale(lastTs: number | null, nowMs: number, scrapeIntervalS: number): boolean {
  if (lastTs === null) return true;
  return nowMs - lastTs > STALE_AFTER_INTERVALS * scrapeIntervalS * 1000;
}

/** Admission wait p95 in ms: clients held 2 s are noticeably slowed, 10 s is a third of the default QUEUE_TIMEOUT. */
export const ADMISSION_WAIT_P95_STEPS: Steps = { warn: 2_000, high: 10_000, top: 'critical' };
/**
 * Seconds the admission queue has stayed non-empty without a break: a queue that fills and
 * drains within a minute is the limiter smoothing a burst; one that stays for a minute holds
 * clients back, and for five minutes it is what the ZaiProxyQueueingWhileUpstreamClean alert waits for.
 */
export const QUEUE_SUSTAINED_STEPS_S: Steps = { warn: 60, high: 300, top: 'critical' };

/** An empty queue is normal; a non-empty one is judged by how long it has stayed so. */
export function queueLevel(depth: number | null | undefined, queuedForS: number): Level | null {
  if (depth === null || depth === undefined || Number.isNaN(depth)) return null;
  return depth > 0 ? levelFor(queuedForS, QUEUE_SUSTAINED_STEPS_S) : 'ok';
}
