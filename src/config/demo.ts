import { int, logLevel, readEnv } from './fields.js';

/** Every environment variable `zai-proxy demo` reads: the usual port variables, one per part. */
export const demoEnvShape = {
  /** The dashboard, as under `zai-proxy dashboard`. */
  DASHBOARD_PORT: int(3000, { min: 0, max: 65535 }),
  /** The stable proxy; the canary listens on PORT+1 (0: both pick free ports). */
  PORT: int(8080, { min: 0, max: 65534 }),
  /** The simulator, as under `zai-proxy sim`. */
  SIM_PORT: int(9999, { min: 0, max: 65535 }),
  LOG_LEVEL: logLevel('warn'),
};

export const readDemoEnv = (env: NodeJS.ProcessEnv = process.env) => readEnv(demoEnvShape, env);
