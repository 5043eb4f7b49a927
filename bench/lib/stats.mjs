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
