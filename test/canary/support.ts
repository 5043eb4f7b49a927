import { emptyArm, LATENCY_BOUNDS, type ArmCounts } from '../../src/canary/judgement.js';

/** An arm with `requests` requests, `errors` of them 5xx, all taking about `latencyS`, `tokens` input/output per request. */
export function arm(variant: string, o: { requests: number; errors?: number; latencyS?: number; input?: number; output?: number }): ArmCounts {
  const a = emptyArm(variant);
  const errors = o.errors ?? 0;
  a.byStatus['200'] = o.requests - errors;
  if (errors > 0) a.byStatus['500'] = errors;
  const bucket = LATENCY_BOUNDS.findIndex((b) => b >= (o.latencyS ?? 0.004));
  for (let i = 0; i <= LATENCY_BOUNDS.length; i++) {
    a.latency[i] = i >= bucket ? o.requests : 0;
    a.ttfb[i] = a.latency[i]!;
  }
  const ok = o.requests - errors;
  a.tokens.input = ok * (o.input ?? 12);
  a.tokens.output = ok * (o.output ?? 20);
  a.costUsd = ok * 0.0001;
  a.models['glm-4.7'] = { counted: ok, tokens: { ...a.tokens } };
  return a;
}
