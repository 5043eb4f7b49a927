import type { Metrics } from '../metrics/catalogue.js';
import { pricingTier, type Direction, type PriceTable } from './pricing.js';
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

/**
 * Turns one finished request's usage into the token, cost and rate metrics. The tier is read
 * from the injected clock when the request finishes, as the Go original did.
 */
export class UsageRecorder {
  private readonly metrics: Metrics;
  private readonly prices: PriceTable;
  private readonly now: () => number;

  constructor(metrics: Metrics, prices: PriceTable, now: () => number = Date.now) {
    this.metrics = metrics;
    this.prices = prices;
    this.now = now;
  }

  /** Never throws: a failure is counted (return false) and the caller logs it. */
  record(r: UsageRecord): boolean {
    try {
      const m = this.metrics;
      m.zai_proxy_usage_source_total.inc({ source: r.source });
      const u = r.usage;
      if (!u) return true;
      const tier = pricingTier(this.now());
      this.add(r.model, 'input', u.input, tier);
      this.add(r.model, 'output', u.output, tier);
      this.add(r.model, 'cache_read', u.cacheRead, tier);
      this.add(r.model, 'cache_write', u.cacheWrite, tier);
      if (positive(u.output) && positive(r.generationSeconds)) this.observeRate(r.model, 'output', u.output, r.generationSeconds);
      const prompt = u.input + u.cacheRead;
      if (positive(prompt) && positive(r.ttfbSeconds)) this.observeRate(r.model, 'input', prompt, r.ttfbSeconds);
      return true;
    } catch {
      return false;
    }
  }

  private add(model: string, direction: Direction, tokens: number, tier: ReturnType<typeof pricingTier>): void {
    if (!positive(tokens)) return;
    const labels = { direction, model, pricing_tier: tier };
    this.metrics.zai_proxy_tokens_total.inc(labels, tokens);
    const usd = tokens * this.prices.usdPerToken(model, direction, tier);
    // A zero-priced direction still gets its cost series, so panels can tell "free" from "missing".
    this.metrics.zai_proxy_estimated_cost_usd_total.inc(labels, Number.isFinite(usd) && usd > 0 ? usd : 0);
  }

  private observeRate(model: string, direction: 'input' | 'output', tokens: number, seconds: number): void {
    const perSecond = tokens / seconds;
    const perToken = seconds / tokens;
    if (!Number.isFinite(perSecond) || !Number.isFinite(perToken)) return;
    const labels = { direction, model };
    this.metrics.zai_proxy_token_rate.observe(labels, perSecond);
    this.metrics.zai_proxy_token_rate_seconds.observe(labels, perToken);
  }
}
