import { parseDurationMs } from '../config/fields.js';
import { parseCommandLine } from '../cli/parse-args.js';
import { SourceUnreadableError, type ArmReader } from './arms.js';
import { formatReport } from './format.js';
import { DEFAULT_THRESHOLDS, EXIT_CODE, EXIT_UNREADABLE, type Thresholds } from './judgement.js';
import { canaryReport } from './report.js';

/** `zai-proxy canary-report`: the verdict a person or a pipeline acts on. */

/** Same default as the dashboard's DB_PATH, without loading the dashboard's configuration. */
const DEFAULT_DB_PATH = './data/dashboard.sqlite';
/** Bad arguments: neither a verdict nor an unreadable source (sysexits EX_USAGE). */
export const EXIT_USAGE = 64;

const pc = (x: number) => `${x * 100}%`;
export const USAGE = `usage: zai-proxy canary-report [--db FILE | --prometheus URL] [options]

Compares the canary arm with the stable arm over a window and gives a verdict.
Source (one of):
  --db FILE                     the dashboard's SQLite store (default: $DB_PATH or ${DEFAULT_DB_PATH})
  --prometheus URL              a Prometheus scraping both arms
Options:
  --since DURATION              window to judge (default 30m)
  --stable NAME / --canary NAME variant labels of the arms (default stable / canary)
  --stable-match M --canary-match M
                                with --prometheus: PromQL matchers that pick each arm instead of
                                the variant label (an Argo Rollout's arms share one variant):
                                --canary-match 'pod=~"zai-proxy-<canary-hash>-.*"'
  --json                        print the report as JSON
Thresholds (defaults in brackets):
  --promote-error-rate R        promote only below this error rate [${pc(DEFAULT_THRESHOLDS.promoteErrorRate)}]
  --promote-latency-ratio X     promote only while canary p95 <= X * stable p95 [${DEFAULT_THRESHOLDS.promoteLatencyRatio}]
  --rollback-error-rate R       roll back above this error rate [${pc(DEFAULT_THRESHOLDS.rollbackErrorRate)}]
  --rollback-latency-ratio X    roll back when canary p95 > X * stable p95 [${DEFAULT_THRESHOLDS.rollbackLatencyRatio}]
  --latency-slack DURATION      p95 differences up to this are never worse [${DEFAULT_THRESHOLDS.latencySlackMs}ms]
  --token-tolerance R           roll back when tokens/request disagree by more [${pc(DEFAULT_THRESHOLDS.tokenTolerance)}]
  --sustain DURATION            how long an error/latency failure must last [${DEFAULT_THRESHOLDS.sustainS}s]
  --min-requests N              requests per arm before anything is judged [${DEFAULT_THRESHOLDS.minRequests}]
  --alpha P                     significance of the error-rate test [${DEFAULT_THRESHOLDS.alpha}]
Exit codes: 0 promote, 1 hold or not enough data, 2 rollback, 3 cannot read the source, ${EXIT_USAGE} bad arguments.
`;

class UsageError extends Error {}

/** "5%" or "0.05" → 0.05 */
function fraction(flag: string, raw: string): number {
  const text = raw.trim();
  const v = text.endsWith('%') ? Number(text.slice(0, -1)) / 100 : Number(text);
  if (text === '' || !Number.isFinite(v) || v < 0 || v > 1) throw new UsageError(`${flag} must be a fraction like 0.05 or 5%, got ${JSON.stringify(raw)}`);
  return v;
}
function positive(flag: string, raw: string): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v <= 0) throw new UsageError(`${flag} must be a positive number, got ${JSON.stringify(raw)}`);
  return v;
}
function durationMs(flag: string, raw: string): number {
  const v = parseDurationMs(raw);
  if (v === undefined || v <= 0) throw new UsageError(`${flag} must be a duration like 30m, got ${JSON.stringify(raw)}`);
  return v;
}

export interface CanaryArgs {
  help: boolean;
  source: { kind: 'store'; path: string } | { kind: 'prometheus'; url: string; matchers?: { stable: string; canary: string } };
  sinceMs: number;
  stable: string;
  canary: string;
  json: boolean;
  thresholds: Partial<Thresholds>;
}

export function parseCanaryArgs(args: string[], env: NodeJS.ProcessEnv = process.env): CanaryArgs {
  const { values } = parseCommandLine(
    {
      args,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        db: { type: 'string' },
        prometheus: { type: 'string' },
        since: { type: 'string', default: '30m' },
        stable: { type: 'string', default: 'stable' },
        canary: { type: 'string', default: 'canary' },
        'stable-match': { type: 'string' },
        'canary-match': { type: 'string' },
        json: { type: 'boolean', default: false },
        'promote-error-rate': { type: 'string' },
        'promote-latency-ratio': { type: 'string' },
        'rollback-error-rate': { type: 'string' },
        'rollback-latency-ratio': { type: 'string' },
        'latency-slack': { type: 'string' },
        'token-tolerance': { type: 'string' },
        sustain: { type: 'string' },
        'min-requests': { type: 'string' },
        alpha: { type: 'string' },
      },
    },
    (message) => new UsageError(message),
  );
  if (values.db !== undefined && values.prometheus !== undefined) throw new UsageError('give either --db or --prometheus, not both');
  if (values.prometheus !== undefined && !/^https?:\/\/[^/]/.test(values.prometheus)) throw new UsageError('--prometheus must be an http(s) URL');
  const sm = values['stable-match'];
  const cm = values['canary-match'];
  if ((sm === undefined) !== (cm === undefined)) throw new UsageError('give both --stable-match and --canary-match, or neither');
  if (sm !== undefined && values.prometheus === undefined) throw new UsageError('--stable-match and --canary-match need --prometheus');
  if (values.stable === values.canary) throw new UsageError('--stable and --canary must name two different variants');
  const t: Partial<Thresholds> = {};
  const v = values as unknown as Record<string, string | undefined>;
  const set = <K extends keyof Thresholds>(key: K, flag: string, parse: (flag: string, raw: string) => Thresholds[K]) => {
    if (v[flag] !== undefined) t[key] = parse(`--${flag}`, v[flag]!);
  };
  set('promoteErrorRate', 'promote-error-rate', fraction);
  set('promoteLatencyRatio', 'promote-latency-ratio', positive);
  set('rollbackErrorRate', 'rollback-error-rate', fraction);
  set('rollbackLatencyRatio', 'rollback-latency-ratio', positive);
  set('latencySlackMs', 'latency-slack', durationMs);
  set('tokenTolerance', 'token-tolerance', fraction);
  set('sustainS', 'sustain', (f, raw) => durationMs(f, raw) / 1000);
  set('minRequests', 'min-requests', (f, raw) => {
    const n = positive(f, raw);
    if (!Number.isInteger(n)) throw new UsageError(`${f} must be a whole number`);
    return n;
  });
  set('alpha', 'alpha', fraction);
  return {
    help: values.help === true,
    source:
      values.prometheus !== undefined
        ? { kind: 'prometheus', url: values.prometheus, ...(sm !== undefined && cm !== undefined ? { matchers: { stable: sm, canary: cm } } : {}) }
        : { kind: 'store', path: values.db ?? (env.DB_PATH?.trim() || DEFAULT_DB_PATH) },
    sinceMs: durationMs('--since', values.since!),
    stable: values.stable!,
    canary: values.canary!,
    json: values.json === true,
    thresholds: t,
  };
}

async function openReader(source: CanaryArgs['source']): Promise<ArmReader> {
  if (source.kind === 'prometheus') return (await import('./prometheus-reader.js')).prometheusReader(source.url, { matchers: source.matchers });
  return (await import('./store-reader.js')).storeReader(source.path);
}

export async function main(args: string[]): Promise<void> {
  let parsed: CanaryArgs;
  try {
    parsed = parseCanaryArgs(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`zai-proxy canary-report: ${err.message}\n\n${USAGE}`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  if (parsed.help || args.includes('--help')) {
    process.stdout.write(USAGE);
    return;
  }
  let reader: ArmReader | undefined;
  try {
    reader = await openReader(parsed.source);
    const report = await canaryReport(reader, parsed);
    process.stdout.write(parsed.json ? `${JSON.stringify({ source: reader.description, ...report }, null, 2)}\n` : formatReport(report, reader.description));
    process.exitCode = EXIT_CODE[report.verdict];
  } catch (err) {
    if (!(err instanceof SourceUnreadableError)) throw err;
    process.stderr.write(`zai-proxy canary-report: ${err.message}\n`);
    process.exitCode = EXIT_UNREADABLE;
  } finally {
    reader?.close();
  }
}
