/**
 * Chart colours per theme. Canvas strokes cannot read CSS variables, so the chart asks for the
 * palette of the current theme and is rebuilt when the theme changes.
 */
export type Theme = 'light' | 'dark';

export interface Palette {
  readonly axis: string;
  readonly grid: string;
  readonly text: string;
  /** Metric tones for a single variant; SeriesDef.tone indexes this. */
  readonly tones: readonly string[];
  /** Per-variant families for compare mode: the first variant (stable) cool, the second (canary) warm. */
  readonly families: readonly (readonly string[])[];
}

export const TONE = { blue: 0, violet: 1, cyan: 2, amber: 3, green: 4, red: 5, slate: 6, pink: 7 } as const;

const DARK: Palette = {
  axis: '#94a3b8',
  grid: 'rgba(148,163,184,0.14)',
  text: '#cbd5e1',
  tones: ['#60a5fa', '#a78bfa', '#22d3ee', '#fbbf24', '#4ade80', '#f87171', '#cbd5e1', '#f472b6'],
  families: [
    ['#60a5fa', '#818cf8', '#22d3ee', '#2dd4bf', '#93c5fd', '#a5b4fc', '#67e8f9', '#5eead4'],
    ['#fb923c', '#f472b6', '#fbbf24', '#f87171', '#fdba74', '#f9a8d4', '#fcd34d', '#fca5a5'],
  ],
};

const LIGHT: Palette = {
  axis: '#475569',
  grid: 'rgba(71,85,105,0.14)',
  text: '#334155',
  tones: ['#2563eb', '#7c3aed', '#0891b2', '#b45309', '#15803d', '#dc2626', '#475569', '#db2777'],
  families: [
    ['#2563eb', '#4f46e5', '#0891b2', '#0f766e', '#1d4ed8', '#4338ca', '#0e7490', '#115e59'],
    ['#ea580c', '#db2777', '#b45309', '#dc2626', '#c2410c', '#be185d', '#92400e', '#b91c1c'],
  ],
};

export const paletteFor = (theme: Theme): Palette => (theme === 'dark' ? DARK : LIGHT);

/** Colour of a series: by metric for one variant, by variant family when variants are overlaid. */
export function seriesColor(p: Palette, tone: number, variantIndex: number, overlaid: boolean): string {
  if (!overlaid) return p.tones[tone % p.tones.length];
  const family = p.families[Math.min(variantIndex, p.families.length - 1)];
  return family[tone % family.length];
}

/** Badge colour of a variant name, the same everywhere on the page. */
export function variantColor(p: Palette, variantIndex: number): string {
  return p.families[Math.min(variantIndex, p.families.length - 1)][0];
}
