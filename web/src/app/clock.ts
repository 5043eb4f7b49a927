import { createContext, useContext, useEffect, useState } from 'react';

/** The page's clock, injectable so panels with countdowns render deterministically in tests. */
export const ClockContext = createContext<() => number>(() => Date.now());

/** The current time, re-read every `everyMs` (only in the browser: effects do not run on the server). */
export function useNow(everyMs = 1000): number {
  const now = useContext(ClockContext);
  const [value, setValue] = useState(now);
  useEffect(() => {
    const id = setInterval(() => setValue(now()), everyMs);
    return () => clearInterval(id);
  }, [now, everyMs]);
  return value;
}
