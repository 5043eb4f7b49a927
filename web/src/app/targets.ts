export type TargetLike = { up: boolean; last_scrape_ms?: number | null };

/** Down: tried and failed. A target not scraped yet (the dashboard just started) is not down. */
export const isDown = (t: TargetLike): boolean => !t.up && t.last_scrape_ms !== null;
