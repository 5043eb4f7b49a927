/** @jsxRuntime automatic */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { StrictMode, useCallback, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { createApi } from './api/client.js';
import { App } from './app/App.js';
import { type RangeKey, isRange } from './data/dataset.js';
import type { EventSourceLike } from './live/feed.js';
import type { Theme } from './theme/palette.js';
import { initialTheme, rememberTheme } from './theme/theme.js';

const storage = (() => {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
})();

// Range and variant live in the hash, so a reload or a shared link shows the same view.
const params = new URLSearchParams(window.location.hash.slice(1));
const hashRange = params.get('range');
// No range in the link: the page picks one from the history there is, once /api/status tells.
const initialRange: RangeKey | null = isRange(hashRange) ? hashRange : null;
const initialVariant = params.get('variant');

const api = createApi((input, init) => fetch(input, init));
const openEventSource = (url: string): EventSourceLike => new EventSource(url);

function setDocumentTheme(theme: Theme) {
  document.documentElement.dataset.theme = theme;
  document.documentElement.style.colorScheme = theme;
}

function Root() {
  const [theme, setTheme] = useState<Theme>(() => initialTheme(storage, window.matchMedia?.('(prefers-color-scheme: light)').matches ?? null));
  setDocumentTheme(theme);
  const onTheme = useCallback((t: Theme) => {
    rememberTheme(storage, t);
    setTheme(t);
  }, []);
  const onSelection = useCallback((range: RangeKey | null, variant: string | null) => {
    const p = new URLSearchParams(range ? { range } : {});
    if (variant) p.set('variant', variant);
    window.history.replaceState(null, '', `#${p.toString()}`);
  }, []);
  return (
    <App
      api={api}
      openEventSource={openEventSource}
      initialRange={initialRange}
      initialVariant={initialVariant}
      theme={theme}
      onTheme={onTheme}
      onSelection={onSelection}
    />
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
