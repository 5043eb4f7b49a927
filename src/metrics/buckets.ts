/**
 * Histogram bucket bounds of the catalogue (src/metrics/catalogue.ts), in their own module with
 * no dependencies so the dashboard page can read them too: a quantile at a histogram's top bound
 * only says "at least this much", and the page says so.
 */

export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
export const SIZE_BUCKETS = [100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
export const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];
/** Past the default QUEUE_TIMEOUT (30 s), so a queue that holds clients to its timeout is seen as such. */
export const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60];
export const TOKEN_COUNT_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1];
export const SECONDS_PER_TOKEN_BUCKETS = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1];
export const TOKENS_PER_SECOND_BUCKETS = [10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000];
