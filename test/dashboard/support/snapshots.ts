import { deriveSnapshot, type DerivedSnapshot } from '../../../src/dashboard/snapshot/derive.js';
import { pointsWithIncreases } from '../../../src/dashboard/snapshot/increase.js';
import { parseExposition } from '../../../src/dashboard/snapshot/exposition.js';
import { isCounterLike, METRIC } from '../../../src/dashboard/snapshot/names.js';

/** A derived snapshot with `requests` finished in a 5 s window at `ts`. */
export function snapshotAt(ts: number, variant: string, requests: number, windowS = 5): DerivedSnapshot {
  const name = METRIC.zai_proxy_requests_total;
  const prev = pointsWithIncreases(parseExposition(`${name}{status_code="200",variant="${variant}"} 0\n`).samples, undefined, isCounterLike);
  const cur = pointsWithIncreases(parseExposition(`${name}{status_code="200",variant="${variant}"} ${requests}\n`).samples, prev.page, isCounterLike);
  return deriveSnapshot({
    ts,
    variant,
    windowS,
    points: cur.points,
    scrape: { up: true, duration_ms: 1, last_success_ms: ts, targets: 1, targets_up: 1, series: 1 },
  });
}
