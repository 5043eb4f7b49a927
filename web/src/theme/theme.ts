import type { Theme } from './palette.js';

export const THEME_STORAGE_KEY = 'zai-dashboard-theme';

interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** A remembered choice wins; otherwise the system's preference; otherwise dark (a monitoring screen). */
export function initialTheme(storage: StorageLike | null, prefersLight: boolean | null): Theme {
  let stored: string | null = null;
  try {
    stored = storage?.getItem(THEME_STORAGE_KEY) ?? null;
  } catch {
    stored = null; // storage can throw in private modes; the page still works
  }
  if (stored === 'light' || stored === 'dark') return stored;
  return prefersLight ? 'light' : 'dark';
}

export function rememberTheme(storage: StorageLike | null, theme: Theme): void {
  try {
    storage?.setItem(THEME_STORAGE_KEY, theme);
  } catch {
    // not remembered; nothing else depends on it
  }
}
