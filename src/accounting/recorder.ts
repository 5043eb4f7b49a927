import type { Metrics } from '../metrics/catalogue.js';
import type { CounterChild, HistogramChild } from '../metrics/fast.js';
import { pricingTier, type Direction, type PriceTable, type PricingTier } from './pricing.js';
import type { TokenUsage } from './usage.js';

/** Where a request's token counts came from. */
export type UsageSource = 'reported' | 'estimated' | 'none';

export interface UsageRecord {
  /** Already a bounded label value (lower-cased, capped set). */
  model: string;
  usage: TokenUsage | undefined;
  source: UsageSource;
  /** Request sent to first upstream byte relayed. */
  ttfbSeconds?: number;
  /** First to last byte of the response. */
  generationSeconds?: number;
}

const positive = (n: number | undefined): n is number => typeof n === 'number' && Number.isFinite(n) && n > 0;

const DIRECTIONS: readonly Direction[] = ['input', 'output', 'cache_read', 'cache_write'];

/** The label children and prices of one (model, tier), looked up once and reused. */
interface ModelSeries {
  model: string;
  tier: PricingTier;
  /** Per direction, made on first use so that a direction never seen exports no series. */
  tokens: Array<CounterChild | undefined>;
  cost: Array<CounterChild | undefined>;
  usdPerToken: number[];
  rate: Partial<Record<'input' | 'output', { perSecond: HistogramChild; perToken: HistogramChild }>>;
}

/**
 * Turns one finished request's usage into the token, cost and rate metrics. The tier is read
 * from the injected clock when the request finishes, as the Go original did. Label children
 * are cached per (model, tier) — both bounded — since this runs for every request.
 */
export class UsageRecorder {
  /** Per model, per tier: no key string is built per request. */
  private readonly series = new Map<string, Partial<Record<PricingTier, ModelSeries>>>();
  private readonly sources = new Map<UsageSource, CounterChild>();

  constructor(
    private readonly metrics: Metrics,
    private readonly prices: PriceTable,
    private readonly now: () => number = Date.now,
  ) {}

  /** Never throws: a failure is counted (return false) and the caller logs it. */
  record(r: UsageRecord): boolean {
    try {
      this.sourceChild(r.source).inc();
      const u = r.usage;
      if (!u) return true;
      const s = this.modelSeries(r.model, pricingTier(this.now()));
      const m = this.metrics;
      const counts = [u.input, u.output, u.cacheRead, u.cacheWrite];
      for (let i = 0; i < 4; i++) {
        const tokens = counts[i]!;
        if (!positive(tokens)) continue;
        (s.tokens[i] ??= m.zai_proxy_tokens_total.labels(DIRECTIONS[i]!, s.model, s.tier)).inc(tokens);
        // A zero-priced direction still gets its cost series, so panels can tell "free" from "missing".
        const usd = tokens * s.usdPerToken[i]!;
        (s.cost[i] ??= m.zai_proxy_estimated_cost_usd_total.labels(DIRECTIONS[i]!, s.model, s.tier)).inc(Number.isFinite(usd) && usd > 0 ? usd : 0);
      }
      if (positive(u.output) && positive(r.generationSeconds)) this.observeRate(s, 'output', u.output, r.generationSeconds);
      const prompt = u.input + u.cacheRead;
      if (positive(prompt) && positive(r.ttfbSeconds)) this.observeRate(s, 'input', prompt, r.ttfbSeconds);
      return true;
    } catch {
      return false;
    }
  }

  private observeRate(s: ModelSeries, direction: 'input' | 'output', tokens: number, seconds: number): void {
    const perSecond = tokens / seconds;
    const perToken = seconds / tokens;
    if (!Number.isFinite(perSecond) || !Number.isFinite(perToken)) return;
    const h = (s.rate[direction] ??= {
      perSecond: this.metrics.zai_proxy_token_rate.labels(direction, s.model),
      perToken: this.metrics.zai_proxy_token_rate_seconds.labels(direction, s.model),
    });
    h.perSecond.observe(perSecond);
    h.perToken.observe(perToken);
  }

  private sourceChild(source: UsageSource): CounterChild {
    let child = this.sources.get(source);
    if (!child) this.sources.set(source, (child = this.metrics.zai_proxy_usage_source_total.labels(source)));
    return child;
  }

  private modelSeries(model: string, tier: PricingTier): ModelSeries {
    let byTier = this.series.get(model);
    if (!byTier) this.series.set(model, (byTier = {}));
    let s = byTier[tier];
    if (!s) {
      s = {
        model,
        tier,
        tokens: [],
        cost: [],
        usdPerToken: DIRECTIONS.map((d) => this.prices.usdPerToken(model, d, tier)),
        rate: {},
      };
      byTier[tier] = s;
    }
    return s;
  }
}
