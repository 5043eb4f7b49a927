/**
 * Display formatting. Every numeric formatter answers "-" for null, undefined and NaN, because the
 * wire model uses null for "cannot be known" and a dash reads as "no data", never as zero.
 * The outputs are pinned by test/web/format.test.ts (the Go original's examples plus our own).
 */

type Maybe = number | null | undefined;

const missing = (v: Maybe): v is null | undefined => v === null || v === undefined || Number.isNaN(v);
export const DASH = '-';

export function formatNumber(v: Maybe, decimals = 2): string {
  return missing(v) ? DASH : v.toFixed(decimals);
}

/** Rates: "5.5", "1.5k", "2.3M"; the unit ("/s", "req/s") is the caller's. */
export function formatRate(v: Maybe, decimals = 1): string {
  if (missing(v)) return DASH;
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (abs >= 1000) return `${(v / 1000).toFixed(1)}k`;
  return v.toFixed(decimals);
}

/** Counts of tokens or requests: "950", "4.5k", "1.23M", "2.10B". */
export function formatCount(v: Maybe): string {
  if (missing(v)) return DASH;
  const abs = Math.abs(v);
  if (abs >= 1e9) return `${(v / 1e9).toFixed(2)}B`;
  if (abs >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (abs >= 1000) return `${(v / 1000).toFixed(1)}k`;
  return Math.round(v).toString();
}

/** Milliseconds: "51ms", "1.50s"; below 10 ms keeps one decimal ("0.4ms") so proxy overhead is legible. */
export function formatLatency(ms: Maybe): string {
  if (missing(ms)) return DASH;
  if (Math.abs(ms) >= 1000) return `${(ms / 1000).toFixed(2)}s`;
  if (Math.abs(ms) < 10 && ms !== 0) return `${ms.toFixed(ms < 0.1 ? 2 : 1)}ms`;
  return `${Math.round(ms)}ms`;
}

/** A value already in percent: 5.5 → "5.5%". */
export function formatPercent(v: Maybe, decimals = 1): string {
  return missing(v) ? DASH : `${v.toFixed(decimals)}%`;
}

/** A ratio 0..1 shown as percent: 0.055 → "5.5%". */
export function formatRatioPercent(v: Maybe, decimals = 1): string {
  return missing(v) ? DASH : formatPercent(v * 100, decimals);
}

/** Utilisation of a limit: 0.75 → "75%". */
export function formatUtilization(ratio: Maybe): string {
  return missing(ratio) ? DASH : `${Math.round(ratio * 100)}%`;
}

export function formatBytes(v: Maybe): string {
  if (missing(v)) return DASH;
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = v;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)}${units[unit]}`;
}

/** Dollars: cents for ordinary sums, four decimals for sub-cent amounts so small spend is visible. */
export function formatCurrencyUSD(v: Maybe): string {
  if (missing(v)) return DASH;
  if (v > 0 && v < 0.01) return `$${v.toFixed(4)}`;
  if (Math.abs(v) >= 1000) return `$${Math.round(v).toLocaleString('en-US')}`;
  return `$${v.toFixed(2)}`;
}

const pad2 = (n: number) => n.toString().padStart(2, '0');

/** "HH:MM:SS", 24 h, in the browser's zone. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Mon D, HH:MM:SS". */
export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getMonth()]} ${d.getDate()}, ${formatTime(ms)}`;
}

/** How long ago, floored: "just now", "5s ago", "3m ago", "2h ago", "1d ago". */
export function formatRelativeTime(thenMs: number, nowMs: number): string {
  const s = Math.floor((nowMs - thenMs) / 1000);
  if (s < 1) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** An age in seconds: "42s", "20m", "3h"; negative ages are not ages. */
export function formatAge(seconds: Maybe): string {
  if (missing(seconds) || seconds < 0) return DASH;
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h`;
}

/** Time until something, whole minutes: "due", "0m", "45m", "1h 30m", "1d 2h". */
export function formatCountdown(ms: Maybe): string {
  if (missing(ms)) return DASH;
  if (ms <= 0) return 'due';
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${mins}m`;
  return `${mins}m`;
}

/** Ratio from which the compare readout says ×N (÷N below its inverse) instead of a percentage. */
export const DELTA_FACTOR_FROM = 2;

/**
 * Signed relative difference for the compare readout: "+12%", "−3.4%", "0%"; "-" when undefined.
 * From twice the reference up it is a factor, "×2.5" or "×1,636", because "+163536%" reads as
 * noise, and from half down a divisor, "÷200", because "−100%" reads as zero; across zero (one side negative) a percentage means nothing and it says "n/a".
 */
export function formatDelta(a: Maybe, b: Maybe): string {
  if (missing(a) || missing(b)) return DASH;
  if (a === 0 && b === 0) return '0%';
  if (a === 0) return 'new';
  if (Math.sign(a) !== Math.sign(b) && b !== 0) return 'n/a';
  const ratio = b / a;
  const factor = (r: number) => (r >= 10 ? Math.round(r).toLocaleString('en-US') : r.toFixed(1));
  if (ratio >= DELTA_FACTOR_FROM) return `\u00D7${factor(ratio)}`;
  // The same the other way: 1 s against 5 ms is "÷200", where a percentage rounds to "−100%".
  if (ratio > 0 && ratio <= 1 / DELTA_FACTOR_FROM) return `\u00F7${factor(1 / ratio)}`;
  const pct = ((b - a) / Math.abs(a)) * 100;
  const abs = Math.abs(pct);
  const text = abs >= 10 ? Math.round(abs).toString() : abs.toFixed(1);
  if (text === '0' || text === '0.0') return '0%';
  return `${pct > 0 ? '+' : '\u2212'}${text}%`;
}

export const NOT_ENOUGH_DATA = 'not enough data yet';

/**
 * The compare readout after "canary vs stable:": the signed delta, or a plain sentence while either
 * side has no value yet (a bare dash there read like a broken figure).
 */
export function formatDeltaReadout(a: Maybe, b: Maybe): string {
  return missing(a) || missing(b) ? NOT_ENOUGH_DATA : formatDelta(a, b);
}

/** A window length for labels: "5m", "1h", "7d". */
export function formatSpan(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86_400) return `${Math.round((s / 3600) * 10) / 10}h`;
  return `${Math.round((s / 86_400) * 10) / 10}d`;
}

/** Axis ticks: short, unitless (the unit is in the chart's title and legend): "0", "0.25", "3.5", "40", "1.2k", "3M". */
export function formatCompact(v: Maybe): string {
  if (missing(v)) return DASH;
  const abs = Math.abs(v);
  const trim = (s: string) => s.replace(/\.0+$|(\.\d*?)0+$/, '$1');
  if (abs >= 1e9) return `${trim((v / 1e9).toFixed(1))}B`;
  if (abs >= 1e6) return `${trim((v / 1e6).toFixed(1))}M`;
  if (abs >= 1e3) return `${trim((v / 1e3).toFixed(1))}k`;
  if (abs >= 10 || abs === 0) return Math.round(v).toString();
  if (abs >= 1) return trim(v.toFixed(1));
  return trim(v.toFixed(2));
}
