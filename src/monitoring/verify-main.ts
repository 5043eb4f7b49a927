import { readFileSync } from 'node:fs';
import { parseCommandLine } from '../cli/parse-args.js';
import { ConfigError, parseDurationMs } from '../config/fields.js';
import { prometheusApi } from './prometheus-api.js';
import { formatChecklist, JOB_NAME, passed, verifyMonitoring, type VerifyOptions } from './verify.js';

export const USAGE = 'usage: zai-proxy verify-monitoring --prometheus URL [--grafana-dashboard FILE] [--job NAME] [--expected-interval 15s]';

/** Reads the command line into options; bad input is a ConfigError (exit 2 with one line). */
export function parseVerifyArgs(args: string[]): VerifyOptions {
  const { values } = parseCommandLine(
    {
      args,
      options: {
        prometheus: { type: 'string' },
        'grafana-dashboard': { type: 'string' },
        job: { type: 'string', default: 'zai-proxy' },
        'expected-interval': { type: 'string', default: '15s' },
      },
      strict: true,
    },
    (message) => new ConfigError(`${message}\n${USAGE}`),
  );
  const url = values.prometheus;
  if (!url || !/^https?:\/\/[^/]/.test(url)) throw new ConfigError(`--prometheus must be an http(s) URL\n${USAGE}`);
  const job = values.job!;
  if (!JOB_NAME.test(job)) throw new ConfigError(`--job must be a plain job name (letters, digits, _ . : -), got ${JSON.stringify(job)}`);
  const intervalMs = parseDurationMs(values['expected-interval']!);
  if (intervalMs === undefined || intervalMs <= 0)
    throw new ConfigError(`--expected-interval must be a duration like 15s, got ${JSON.stringify(values['expected-interval'])}`);
  const file = values['grafana-dashboard'];
  let dashboard: VerifyOptions['dashboard'];
  if (file !== undefined) {
    try {
      dashboard = { file, model: JSON.parse(readFileSync(file, 'utf8')) as unknown };
    } catch (err) {
      dashboard = { file, error: (err as Error).message };
    }
  }
  return { prometheusUrl: url.replace(/\/+$/, ''), job, expectedIntervalSeconds: intervalMs / 1000, dashboard };
}

export async function main(args: string[]): Promise<void> {
  const opts = parseVerifyArgs(args);
  const checks = await verifyMonitoring(prometheusApi(opts.prometheusUrl), opts);
  process.stdout.write(formatChecklist(checks));
  if (!passed(checks)) process.exitCode = 1;
}
