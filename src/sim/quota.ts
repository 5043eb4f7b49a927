import type { SimScenario } from './scenario.js';

/**
 * The body of `GET /api/monitor/usage/quota/limit` (docs/zai.md, "Quota endpoint"). Without a
 * `quotaWindow` it is a fixed sample in the current shape; with one, a single 5-hour
 * CREDIT_LIMIT entry computed from its consumption.
 */
export function quotaBody(scenario: SimScenario): string {
  const w = scenario.quotaWindow;
  const legacy = scenario.quotaResponse?.legacy === true;
  let level = 'pro';
  let limits: unknown[];
  if (w) {
    level = w.level ?? 'pro';
    const used = w.usedTokens ?? 0;
    const percentage = w.budgetTokens > 0 ? Math.min(100, Math.round((used / w.budgetTokens) * 100)) : 100;
    limits = legacy
      ? [{ type: 'TOKENS_LIMIT', unit: 3, number: 5, percentage }]
      : [
          {
            type: 'CREDIT_LIMIT',
            unit: 3,
            number: 5,
            usage: w.budgetTokens,
            currentValue: used,
            remaining: Math.max(0, w.budgetTokens - used),
            percentage,
            nextResetTime: w.resetAt,
          },
        ];
  } else {
    limits = legacy
      ? [
          { type: 'TOKENS_LIMIT', unit: 3, number: 5, percentage: 37 },
          { type: 'TOKENS_LIMIT', unit: 6, number: 1, percentage: 52 },
        ]
      : [
          { type: 'CREDIT_LIMIT', unit: 3, number: 5, usage: 2000, currentValue: 740, remaining: 1259, percentage: 37, nextResetTime: 1788541838272 },
          { type: 'CREDIT_LIMIT', unit: 6, number: 1, usage: 10000, currentValue: 5207, remaining: 4792, percentage: 52, nextResetTime: 1788900000000 },
          { type: 'TIME_LIMIT', unit: 5, number: 1, usage: 100, currentValue: 12, remaining: 88, percentage: 12, nextResetTime: 1790000000000 },
        ];
  }
  return JSON.stringify({ code: 200, msg: 'Operation successful', success: true, data: { level, limits } });
}
