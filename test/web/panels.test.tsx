/** @jsxRuntime automatic */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import type { MetricsResponse, VariantSnapshot } from '../../src/dashboard/model.js';
import { ClockContext } from '../../web/src/app/clock.js';
import { appendSnapshot, datasetFromHistory, type Dataset } from '../../web/src/data/dataset.js';
import { costByModel, projectedPerDay, queuedForS, windowTotals } from '../../web/src/data/window.js';
import { bindingLine } from '../../web/src/format/limiter.js';
import { CostPanel } from '../../web/src/panels/CostPanel.js';
import { LatencyPanel } from '../../web/src/panels/LatencyPanel.js';
import { LimitsPanel } from '../../web/src/panels/LimitsPanel.js';
import { QuotaPanel } from '../../web/src/panels/QuotaPanel.js';
import { RequestsPanel } from '../../web/src/panels/RequestsPanel.js';
import { TokensPanel } from '../../web/src/panels/TokensPanel.js';
import { buildView, type PanelView } from '../../web/src/panels/view.js';
import { paletteFor } from '../../web/src/theme/palette.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const q = (p50: number | null) => ({ p50, p90: p50, p95: p50, p99: p50 });

/** A snapshot with every field of the wire model, overridable where a test cares. */
function snap(
  variant: string,
  ts: number,
  o: {
    tokensIn?: number;
    tokensOut?: number;
    cost?: number;
    costByModel?: Record<string, number>;
    requests?: number;
    errors5xx?: number;
    p50?: number | null;
    quota?: VariantSnapshot['quota'];
  } = {},
): VariantSnapshot {
  const window_s = 60;
  const reqs = o.requests ?? 60;
  const e5 = o.errors5xx ?? 0;
  return {
    ts,
    variant,
    window_s,
    requests: {
      rate: reqs / window_s,
      by_class: { '1xx': 0, '2xx': (reqs - e5) / window_s, '3xx': 0, '4xx': 0, '5xx': e5 / window_s },
      by_code: { '200': (reqs - e5) / window_s },
      window: reqs,
      lifetime: 1000,
      error_ratio: reqs ? e5 / reqs : null,
      throttled_ratio: 0,
      client_disconnect_rate: 0,
    },
    latency_ms: q(o.p50 === undefined ? 120 : o.p50),
    ttfb_ms: q(40),
    overhead_ms: q(0.2),
    tokens: {
      rate: { input: (o.tokensIn ?? 6000) / window_s, output: (o.tokensOut ?? 3000) / window_s, cache_read: 0, cache_write: 0 },
      window: { input: o.tokensIn ?? 6000, output: o.tokensOut ?? 3000, cache_read: 0, cache_write: 0 },
      lifetime: { input: 1e6, output: 5e5, cache_read: 0, cache_write: 0 },
      output_input_ratio: 0.5,
      throughput_output: { p90: 80, p99: 120 },
      throughput_input: { p90: 2000, p99: 4000 },
      usage_source_rate: { reported: 1 },
    },
    cost_usd: {
      window: o.cost ?? 0.01,
      window_by_direction: { input: (o.cost ?? 0.01) * 0.4, output: (o.cost ?? 0.01) * 0.6, cache_read: 0, cache_write: 0 },
      per_hour: (o.cost ?? 0.01) * 60,
      lifetime: 5,
      per_day: (o.cost ?? 0.01) * 1440,
      window_by_model: o.costByModel ?? { 'glm-4.7': o.cost ?? 0.01 },
      per_day_by_model: Object.fromEntries(Object.entries(o.costByModel ?? { 'glm-4.7': o.cost ?? 0.01 }).map(([m, usd]) => [m, usd * 1440])),
    },
    limiter: {
      rate_rps: 10,
      ceiling_rps: 12,
      concurrency_limit: 8,
      queue_depth: 0,
      wait_ms: q(1),
      waits_rate: 1,
      rejection_rate: 0,
      rejections_by_reason: {},
      adjustments_window: {},
    },
    errors: { upstream_rate: 0, upstream_by_type: {}, zai_by_class: {}, zai_by_code: {}, retry_rate: 0, retries_by_reason: {} },
    workers: { in_flight: 2, max_workers: 10, utilization: 0.2 },
    quota: o.quota === undefined ? null : o.quota,
    build: { version: variant === 'stable' ? '0.1.0' : '0.2.0', commit: 'abc1234', build_time: '2026-11-27T00:00:00Z' },
    scrape: { up: true, duration_ms: 5, last_success_ms: ts, targets: 1, targets_up: 1, series: 100 },
  };
}

function history(points: VariantSnapshot[], range = '1h'): MetricsResponse {
  return { range, range_ms: 3_600_000, from_ms: NOW - 3_600_000, to_ms: NOW, resolution: '1m', step_ms: 60_000, variant: 'all', points };
}

function view(ds: Dataset, variants: string[]): PanelView {
  const latest = new Map<string, VariantSnapshot>();
  for (const [v, list] of ds.byVariant) latest.set(v, list[list.length - 1]);
  return buildView({
    dataset: ds,
    variants,
    overlaid: variants.length > 1,
    allVariants: [...ds.byVariant.keys()],
    latest,
    palette: paletteFor('dark'),
    nowMs: NOW,
    rangeMs: ds.rangeMs,
    rangeLabel: 'the last 1h',
  });
}

const render = (el: ReactElement) => renderToStaticMarkup(<ClockContext.Provider value={() => NOW}>{el}</ClockContext.Provider>);
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('range totals', () => {
  test('sum each point window, project cost per day from the covered time', () => {
    const pts = [snap('stable', NOW - 120_000, { cost: 0.5 }), snap('stable', NOW - 60_000, { cost: 0.25 })];
    const t = windowTotals(pts);
    assert.equal(t.tokens.input, 12_000);
    assert.equal(t.tokensTotal, 18_000);
    assert.equal(t.costUsd, 0.75);
    assert.equal(t.coveredS, 120);
    assert.equal(projectedPerDay(t), 0.75 * 720);
    assert.equal(projectedPerDay(windowTotals([])), null);
  });
  test('a live snapshot inside the newest history bucket is not counted twice; later ones are appended', () => {
    const ds = datasetFromHistory('1h', history([snap('stable', NOW - 60_000)]));
    assert.equal(appendSnapshot(ds, snap('stable', NOW - 30_000), NOW), ds);
    const next = appendSnapshot(ds, snap('stable', NOW), NOW);
    assert.equal(next.byVariant.get('stable')!.length, 2);
    assert.equal(next.version, ds.version + 1);
  });
});

describe('panels', () => {
  test('tokens show range totals with threshold words, not colour alone', () => {
    const ds = datasetFromHistory(
      '1h',
      history([snap('stable', NOW - 120_000, { tokensIn: 20_000, tokensOut: 10_000 }), snap('stable', NOW - 60_000, { tokensIn: 10_000, tokensOut: 20_000 })]),
    );
    const out = text(render(<TokensPanel view={view(ds, ['stable'])} />));
    assert.match(out, /Total 60\.0k ▲ elevated/);
    assert.match(out, /Input 30\.0k ▲ elevated/);
    assert.match(out, /Output 30\.0k ▲ elevated/);
    assert.match(out, /Output \/ input 1\.00×/);
    assert.match(out, /Token rate by variant/);
  });
  test('compare mode shows both variants and the delta readout', () => {
    const ds = datasetFromHistory('1h', history([snap('stable', NOW - 60_000, { p50: 100 }), snap('canary', NOW - 60_000, { p50: 150 })]));
    const html = render(<LatencyPanel view={view(ds, ['stable', 'canary'])} />);
    const out = text(html);
    assert.match(out, /p50 stable 100ms canary 150ms ▲ canary vs stable: \+50% \(worse\)/);
    assert.match(html, /data-series-key="p50:canary"/);
    assert.doesNotMatch(text(render(<LatencyPanel view={view(ds, ['canary'])} />)), /vs stable/);
  });
  test('equal quantiles in compare mode say they share a histogram bucket, not "0%"', () => {
    const ds = datasetFromHistory('1h', history([snap('stable', NOW - 60_000, { p50: 250 }), snap('canary', NOW - 60_000, { p50: 250 })]));
    const html = render(<LatencyPanel view={view(ds, ['stable', 'canary'])} />);
    assert.match(text(html), /p50 stable 250ms canary 250ms = canary vs stable: same histogram bucket, difference unknown/);
    assert.doesNotMatch(text(html), /p50 stable 250ms canary 250ms = canary vs stable: 0%/);
    assert.match(text(html), /quantiles estimated from histogram buckets/);
    assert.match(html, /data-bucket-artefact/);
  });
  test('quantiles that read alike count as one bucket, and a 0% difference is neither better nor worse', () => {
    const ds = datasetFromHistory('1h', history([snap('stable', NOW - 60_000, { p50: 0.91 }), snap('canary', NOW - 60_000, { p50: 0.94 })]));
    assert.match(
      text(render(<LatencyPanel view={view(ds, ['stable', 'canary'])} />)),
      /p50 stable 0\.9ms canary 0\.9ms = canary vs stable: same histogram bucket/,
    );
    const near = datasetFromHistory('1h', history([snap('stable', NOW - 120_000, { cost: 1000 }), snap('canary', NOW - 120_000, { cost: 1000.2 })]));
    const out = text(render(<CostPanel view={view(near, ['stable', 'canary'])} />));
    assert.match(out, /= canary vs stable: 0%/);
    assert.doesNotMatch(out, /0% \((worse|better)\)/);
  });
  test('a large difference reads as a factor', () => {
    const ds = datasetFromHistory('1h', history([snap('stable', NOW - 60_000, { p50: 3 }), snap('canary', NOW - 60_000, { p50: 4909 })]));
    assert.match(text(render(<LatencyPanel view={view(ds, ['stable', 'canary'])} />)), /p50 stable 3\.0ms canary 4\.91s ▲ canary vs stable: ×1,636 \(worse\)/);
  });
  test('legends give the newest value and the peak in the range, so a spike is not read as 0', () => {
    const ds = datasetFromHistory('1h', history([snap('stable', NOW - 120_000, { p50: 900 }), snap('stable', NOW - 60_000, { p50: 100 })]));
    const out = text(render(<LatencyPanel view={view(ds, ['stable'])} />));
    assert.match(out, /p50 now 100ms · peak 900ms/);
    const flat = datasetFromHistory('1h', history([snap('stable', NOW - 60_000, { p50: 100 })]));
    assert.doesNotMatch(text(render(<LatencyPanel view={view(flat, ['stable'])} />)), /peak/);
  });
  test('a quantile at its histogram\'s top bound reads "at least"', () => {
    const capped = snap('stable', NOW - 60_000, { p50: 300_000 });
    capped.tokens.throughput_input = { p90: 100_000, p99: 100_000 };
    const ds = datasetFromHistory('1h', history([capped]));
    assert.match(text(render(<TokensPanel view={view(ds, ['stable'])} />)), /input p90 now ≥100\.0k tok\/s/);
    assert.match(text(render(<TokensPanel view={view(ds, ['stable'])} />)), /output p90 now 80\.0 tok\/s/);
    assert.match(text(render(<LatencyPanel view={view(ds, ['stable'])} />)), /p50 ≥300\.00s/);
  });
  test('the per-request speed chart says what it measures', () => {
    const ds = datasetFromHistory('1h', history([snap('stable', NOW - 60_000)]));
    const out = text(render(<TokensPanel view={view(ds, ['stable'])} />));
    assert.match(
      out,
      /Speed within one request, tok\/s \(p90 \/ p99\) How fast a single client was served: output tokens over the time the answer took after its first byte/,
    );
    assert.doesNotMatch(out, /Throughput per request/);
  });
  test('compare mode without values on both sides says so instead of a bare dash', () => {
    const ds = datasetFromHistory('1h', history([snap('stable', NOW - 60_000, { p50: 100 }), snap('canary', NOW - 60_000, { p50: null })]));
    const out = text(render(<LatencyPanel view={view(ds, ['stable', 'canary'])} />));
    assert.match(out, /p50 stable 100ms canary - canary vs stable: not enough data yet/);
    assert.doesNotMatch(out, /vs stable: -/);
  });
  test('compare mode stays quiet when every value already explains its absence', () => {
    // One snapshot per variant: too little for a per-day projection, which says so in words.
    const young = (v: string) => ({ ...snap(v, NOW - 5_000, { cost: 1 }), window_s: 5 });
    const ds = datasetFromHistory('1h', history([young('stable'), young('canary')]));
    const out = text(render(<CostPanel view={view(ds, ['stable', 'canary'])} />));
    assert.match(out, /Projected per day stable after a minute of data canary after a minute of data By direction/);
  });
  test('requests: error share from the range, and a plain sentence when there were none', () => {
    const ds = datasetFromHistory('1h', history([snap('stable', NOW - 60_000, { requests: 100, errors5xx: 6 })]));
    assert.match(text(render(<RequestsPanel view={view(ds, ['stable'])} />)), /Error rate \(5xx\) 6\.0% ✖ critical/);
    const none = datasetFromHistory('1h', history([snap('stable', NOW - 60_000, { requests: 0 })]));
    assert.match(text(render(<RequestsPanel view={view(none, ['stable'])} />)), /Error rate \(5xx\) no requests/);
  });
  test('cost over the range, projected per day and by direction, summed per variant', () => {
    const ds = datasetFromHistory(
      '1h',
      history([snap('stable', NOW - 120_000, { cost: 2 }), snap('stable', NOW - 60_000, { cost: 6 }), snap('canary', NOW - 60_000, { cost: 9.5 })]),
    );
    const out = text(render(<CostPanel view={view(ds, ['stable', 'canary'])} />));
    assert.match(out, /Spent \(the last 1h\) stable \$8\.00 canary \$9\.50/);
    assert.match(out, /Projected per day stable \$5,760 canary \$13,680/);
    assert.match(out, /Input \$3\.20 \$3\.80/);
  });
  test('cost by model: range spend per model with its pace per day and share, largest first', () => {
    const ds = datasetFromHistory(
      '1h',
      history([
        snap('stable', NOW - 120_000, { cost: 3, costByModel: { 'glm-4.7': 2, 'glm-4.5-air': 1 } }),
        snap('stable', NOW - 60_000, { cost: 5, costByModel: { 'glm-4.7': 1, 'glm-5': 4 } }),
      ]),
    );
    const html = render(<CostPanel view={view(ds, ['stable'])} />);
    const out = text(html);
    // 120 s covered: $4 → $2,880/day.
    assert.match(out, /By model Model Spent Share glm-5 \$4\.00 \$2,880\/day 50% glm-4\.7 \$3\.00 \$2,160\/day 38% glm-4\.5-air \$1\.00 \$720\.00\/day 13%/);
    assert.match(html, /data-cost-model="glm-5"/);
    // Compare mode: one column per variant, a model only one variant used shows $0.00 for the other.
    const both = datasetFromHistory(
      '1h',
      history([
        snap('stable', NOW - 60_000, { cost: 2, costByModel: { 'glm-4.7': 2 } }),
        snap('canary', NOW - 60_000, { cost: 1, costByModel: { 'glm-5': 1 } }),
      ]),
    );
    assert.match(
      text(render(<CostPanel view={view(both, ['stable', 'canary'])} />)),
      /Model stable canary glm-4\.7 \$2\.00 \$2,880\/day \$0\.00 \$0\.00\/day glm-5 \$0\.00 \$0\.00\/day \$1\.00 \$1,440\/day/,
    );
    // History from before the field existed: the table says there is nothing to show.
    const legacy = snap('stable', NOW - 60_000);
    delete (legacy.cost_usd as Partial<typeof legacy.cost_usd>).window_by_model;
    assert.match(
      text(render(<CostPanel view={view(datasetFromHistory('1h', history([legacy])), ['stable'])} />)),
      /By model No priced requests in this range yet\./,
    );
  });
  test('before a minute is covered the projection is a small note, not a figure per model', () => {
    const young = { ...snap('stable', NOW - 5_000, { cost: 1 }), window_s: 5 };
    const html = render(<CostPanel view={view(datasetFromHistory('1h', history([young])), ['stable'])} />);
    assert.match(html, /stat-value-muted[^>]*>after a minute of data/);
    assert.doesNotMatch(text(html), /\/day/);
  });
  test('cost by model folds the long tail into one row', () => {
    const many = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`m${i}`, 9 - i]));
    const rows = costByModel([windowTotals([snap('stable', NOW, { costByModel: many })])], 6);
    assert.deepEqual(
      rows.map((r) => [r.model, r.models, r.usd[0]]),
      [
        ['m0', 1, 9],
        ['m1', 1, 8],
        ['m2', 1, 7],
        ['m3', 1, 6],
        ['m4', 1, 5],
        [null, 4, 4 + 3 + 2 + 1],
      ],
    );
    assert.deepEqual(costByModel([windowTotals([snap('stable', NOW, { costByModel: { a: 1 } })])], 6).length, 1);
  });
  test('quota: used fraction with level word, reset countdown, sample age and staleness', () => {
    const quota = {
      windows: {
        five_hour: { limit_type: 'credit_limit', usage_ratio: 0.92, remaining_ratio: 0.08, reset_ms: NOW + 90 * 60_000 },
        weekly: { limit_type: 'credit_limit', usage_ratio: 0.12, remaining_ratio: 0.88, reset_ms: null },
      },
      sample_age_s: 42,
      poll_rate: {},
    };
    const ds = datasetFromHistory('1h', history([snap('stable', NOW - 60_000, { quota })]));
    const out = text(render(<QuotaPanel view={view(ds, ['stable'])} />));
    assert.match(out, /5-hour 92% used ✖ critical resets in 1h 30m counted in credits/);
    assert.match(render(<QuotaPanel view={view(ds, ['stable'])} />), /title="Z\.AI reports this window as a CREDIT_LIMIT entry of the Coding Plan\./);
    assert.match(out, /Weekly 12% used ● normal no reset advertised/);
    assert.match(out, /sample 42s old/);
    assert.doesNotMatch(out, /stale/);
    const old = datasetFromHistory('1h', history([snap('stable', NOW - 60_000, { quota: { ...quota, sample_age_s: 20 * 60 } })]));
    assert.match(text(render(<QuotaPanel view={view(old, ['stable'])} />)), /sample 20m old ⚠ stale/);
    const none = datasetFromHistory('1h', history([snap('stable', NOW - 60_000)]));
    assert.match(text(render(<QuotaPanel view={view(none, ['stable'])} />)), /stable : no quota telemetry/);
  });
  test('a chart with nothing to draw says so instead of a flat line', () => {
    const ds = datasetFromHistory('1h', history([snap('stable', NOW - 60_000)]));
    assert.match(text(render(<TokensPanel view={view(ds, ['stable'])} />)), /Token rate by direction/);
    const empty = datasetFromHistory('1h', history([]));
    assert.match(text(render(<RequestsPanel view={view(empty, [])} />)), /No requests in this range\. Send traffic through the proxy\./);
  });
});

describe('limits', () => {
  /** A 5 s point whose limiter fields a test sets. */
  const lim = (variant: string, ts: number, l: Partial<VariantSnapshot['limiter']>, workers?: Partial<VariantSnapshot['workers']>): VariantSnapshot => {
    const s = { ...snap(variant, ts), window_s: 5 };
    return { ...s, limiter: { ...s.limiter, ...l }, workers: { ...s.workers, ...workers } };
  };
  const held = { rate_rps: 19.6, ceiling_rps: 20, ceiling_headroom_ratio: 0.02 };
  const series = (variant: string, fromS: number, toS: number, l: Partial<VariantSnapshot['limiter']>) => {
    const out: VariantSnapshot[] = [];
    for (let t = fromS; t <= toS; t += 5) out.push(lim(variant, NOW - t * 1000, l));
    return out.reverse();
  };
  const raw = (points: VariantSnapshot[]): MetricsResponse => ({ ...history(points, '15m'), range_ms: 900_000, resolution: '5s', step_ms: 5_000 });

  test('one sentence names the binding limit and the headroom under the inferred ceiling', () => {
    assert.equal(
      bindingLine(lim('stable', NOW, { ...held, binding: 'learned_rate', binding_replicas: { learned_rate: 1 } })),
      'binding: learned rate — holding 19.6 req/s, 2% under the inferred ceiling 20',
    );
    assert.equal(
      bindingLine(lim('stable', NOW, { ...held, binding: 'concurrency', binding_replicas: { concurrency: 1 }, concurrency_limit: 8 }, { in_flight: 8 })),
      'binding: concurrency — 8 of 8 in flight (100%); rate limit 19.6 req/s, 2% under the inferred ceiling 20',
    );
    assert.equal(
      bindingLine(lim('stable', NOW, { rate_rps: 12, ceiling_rps: 20, ceiling_headroom_ratio: 0.4, binding: 'quota_pacing' })),
      'binding: quota pacing — spreading the remaining quota over its window; rate limit 12 req/s, 40% under the inferred ceiling 20',
    );
    assert.equal(
      bindingLine(lim('stable', NOW, { rate_rps: 10.5, ceiling_rps: 10, ceiling_headroom_ratio: -0.05, binding: 'upstream' })),
      'binding: upstream — Z.AI is refusing requests (429, 1302, 1303); probing at 10.5 req/s, 5% over the inferred ceiling 10',
    );
    assert.equal(
      bindingLine(lim('stable', NOW, { ...held, binding: 'none' })),
      'binding: none — requests are admitted as they arrive; rate limit 19.6 req/s, 2% under the inferred ceiling 20',
    );
    // Three replicas, two held by the learned rate: the summed rate is shown per replica.
    assert.equal(
      bindingLine(
        lim('stable', NOW, {
          rate_rps: 58.8,
          ceiling_rps: 20,
          ceiling_headroom_ratio: 0.02,
          binding: 'learned_rate',
          binding_replicas: { learned_rate: 2, concurrency: 1 },
        }),
      ),
      'binding: learned rate (on 2 of 3 replicas) — holding 19.6 req/s per replica, 2% under the inferred ceiling 20',
    );
    // A proxy without the gauge, and a point stored before the field existed.
    assert.equal(
      bindingLine(lim('stable', NOW, { ...held, binding: null })),
      'binding: not reported by this proxy — rate limit 19.6 req/s, 2% under the inferred ceiling 20',
    );
    const legacy = lim('stable', NOW, { rate_rps: 9, ceiling_rps: 10 });
    assert.equal(bindingLine(legacy), 'binding: not reported by this proxy — rate limit 9 req/s, 10% under the inferred ceiling 10');
  });

  test('a queue counts as sustained only while it stays non-empty without a gap', () => {
    assert.equal(queuedForS(series('stable', 0, 120, { queue_depth: 2 }), 5_000), 120);
    assert.equal(queuedForS([...series('stable', 40, 120, { queue_depth: 2 }), ...series('stable', 0, 35, { queue_depth: 0 })], 5_000), 0);
    assert.equal(queuedForS([...series('stable', 40, 120, { queue_depth: 0 }), ...series('stable', 0, 35, { queue_depth: 1 })], 5_000), 35);
    // A target down for a minute: the queue before the gap does not count.
    assert.equal(queuedForS([...series('stable', 100, 200, { queue_depth: 1 }), ...series('stable', 0, 30, { queue_depth: 1 })], 5_000), 30);
    assert.equal(queuedForS([], 5_000), 0);
  });

  test('queue depth and admission wait carry badges with their thresholds stated; the binding line per variant', () => {
    const points = [
      ...series('stable', 0, 90, { ...held, binding: 'learned_rate', binding_replicas: { learned_rate: 1 }, queue_depth: 3, wait_ms: q(4_200) }),
      ...series('canary', 0, 90, { ...held, binding: 'none', binding_replicas: { none: 1 }, queue_depth: 0, wait_ms: q(12) }),
    ];
    const ds = datasetFromHistory('15m', raw(points));
    const html = render(<LimitsPanel view={view(ds, ['stable'])} />);
    const out = text(html);
    assert.match(out, /binding: learned rate — holding 19\.6 req\/s, 2% under the inferred ceiling 20/);
    assert.match(html, /data-binding="learned_rate"/);
    assert.match(out, /Queue depth 3 for 1m ▲ elevated/);
    assert.match(out, /Admission wait p95 4\.20s ▲ elevated/);
    assert.match(
      out,
      /Admission wait p95: ● normal under 2s, ▲ elevated from 2s, ✖ critical from 10s\. Queue depth: ● normal while empty or non-empty under 1 min, ▲ elevated once non-empty for 1 min, ✖ critical after 5 min\./,
    );
    assert.match(html, /data-stat="lim-wait" title="Admission wait p95: ● normal under 2s/);

    const both = text(render(<LimitsPanel view={view(ds, ['stable', 'canary'])} />));
    assert.match(both, /stable binding: learned rate — holding 19\.6 req\/s.* canary binding: none — requests are admitted as they arrive/);
    assert.match(both, /Queue depth stable 3 for 1m ▲ elevated canary 0 ● normal/);

    const long = datasetFromHistory('15m', raw(series('stable', 0, 400, { queue_depth: 9, wait_ms: q(15_000) })));
    const stuck = text(render(<LimitsPanel view={view(long, ['stable'])} />));
    assert.match(stuck, /Queue depth 9 for 6m ✖ critical/);
    assert.match(stuck, /Admission wait p95 15\.00s ✖ critical/);
    assert.match(stuck, /binding: not reported by this proxy/);
  });
});
