/**
 * `n` rounded to two decimals, as `String(Math.round(n * 100) / 100)` writes it ("1.5", "0.07",
 * "3"), built from integers: a fraction goes through V8's shortest double-to-text conversion,
 * which cost more than anything else in writing a request's timings (the `server-timing`
 * header and the access line carry five such numbers a request).
 */
export function twoDecimals(n: number): string {
  const hundredths = Math.round(n * 100);
  if (!Number.isSafeInteger(hundredths)) return String(hundredths / 100);
  const sign = hundredths < 0 ? '-' : '';
  const abs = Math.abs(hundredths);
  const whole = Math.floor(abs / 100);
  const frac = abs - whole * 100;
  if (frac === 0) return sign + whole;
  if (frac % 10 === 0) return `${sign}${whole}.${frac / 10}`;
  return `${sign}${whole}.${frac < 10 ? '0' : ''}${frac}`;
}
