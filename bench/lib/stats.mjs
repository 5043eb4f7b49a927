// Order statistics for the bench: medians, quantiles and the spread of a set of ratios.
export function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}

export const median = (xs) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Median with the smallest and largest value, rounded for a table. */
export function spread(xs, digits = 3) {
  const r = (v) => +v.toFixed(digits);
  return { median: r(median(xs)), min: r(Math.min(...xs)), max: r(Math.max(...xs)), n: xs.length };
}

export const fmt = (s) => `${s.median} (${s.min}–${s.max})`;

/** Quantile `q` of delays pooled from binned counts ([bin, count] lists of one bin width). */
export function pooledQuantile(binLists, widthMs, q) {
  const counts = new Map();
  for (const list of binLists) for (const [bin, n] of list) counts.set(bin, (counts.get(bin) ?? 0) + n);
  const sorted = [...counts].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((a, [, n]) => a + n, 0);
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [bin, n] of sorted) {
    seen += n;
    if (seen >= rank) return +(bin * widthMs).toFixed(3);
  }
  return NaN;
}
