// The proxy as every bench runs it: in front of the bench upstream (bench/upstream.mjs), with
// its limits on but opened wide, so a bench measures the proxy's cost rather than the
// limiter's holds, and nothing learned is persisted between runs.
export const benchProxyEnv = (upstreamBase) => ({
  ZAI_OPENAI_BASE_URL: `${upstreamBase}/api/paas/v4`,
  RATE_LIMIT_STATE_FILE: 'none',
  RATE_LIMIT_MAX: '1000000',
  RATE_LIMIT_INITIAL: '1000000',
  MAX_WORKERS: '256',
  QUEUE_MAX: '10000',
});
