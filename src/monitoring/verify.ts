import { CATALOGUE, type MetricName } from '../metrics/catalogue.js';
import { familyOf, metricNamesIn, panelQueries, substituteVariables } from './dashboard-queries.js';
import { PrometheusUnreachableError, type PrometheusApi, type QueryResult, type ScrapeTarget } from './prometheus-api.js';

/**
 * `zai-proxy verify-monitoring`: the checks an operator would make by hand after deploying
 * the ServiceMonitor and the dashboard. Observing (Prometheus HTTP calls) is kept apart from
 * judging: `buildChecklist` turns plain observations into ✓/⚠/✗ lines with a fix for each
 * ✗, so every verdict is tested without a Prometheus.
 *
 * Decision on families that only appear after an event: prom-client exports a labelled
 * series only once it is touched, so a healthy proxy that never retried has no
 * zai_proxy_retry_attempts_total. Those families (and panels reading only them) are reported
 * as "not yet seen" warnings, which do not fail the run; everything else missing fails.
 */

/** Families that exist only after a specific event, with the event, for the warning text (declared in the catalogue). */
export const EVENT_DRIVEN_FAMILIES: Readonly<Partial<Record<MetricName, string>>> = Object.fromEntries(
  Object.entries(CATALOGUE).flatMap(([name, s]) => ('appearsWhen' in s ? [[name, s.appearsWhen]] : [])),
);

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface Check {
  readonly status: CheckStatus;
  readonly title: string;
  readonly fix?: string;
}

export interface PanelObservation {
  readonly panel: string;
  readonly refId: string;
  readonly expr: string;
  readonly result: QueryResult;
}

export interface Observations {
  readonly prometheusUrl: string;
  readonly job: string;
  readonly expectedIntervalSeconds: number;
  /** Set when Prometheus did not answer; nothing else is then observed. */
  readonly unreachable?: string;
  /** Targets whose job is `job` or starts with `job-` (zai-proxy-stable, zai-proxy-canary). */
  readonly targets: readonly ScrapeTarget[];
  /** Series names of zai_proxy_* metrics currently in Prometheus for those jobs. */
  readonly seriesNames: ReadonlySet<string>;
  /** Increases over `windowSeconds`; undefined values mean the query returned nothing. */
  readonly traffic?: { readonly windowSeconds: number; readonly completions: number | undefined; readonly tokens: number | undefined };
  readonly dashboard?: { readonly file: string; readonly error?: string; readonly panels: readonly PanelObservation[] };
  /** Variants the targets report (from zai_proxy_build_info); undefined when not observed. */
  readonly variants?: readonly string[];
}

/**
 * The variants a query compares, from its literal `variant="…"` matchers: a panel naming two
 * (canary / stable) can only answer while both run, so with one variant it is not applicable.
 */
export function comparedVariants(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\bvariant\s*=\s*"([^"]*)"/g)].map((m) => m[1]!))].sort();
}

/** The series a family must show in Prometheus: histograms through _bucket and _count. */
export function seriesOfFamily(name: MetricName): string[] {
  return CATALOGUE[name].kind === 'histogram' ? [`${name}_bucket`, `${name}_count`] : [name];
}

const seconds = (s: number) => (Number.isInteger(s) ? `${s}s` : `${s.toFixed(3)}s`);

export function buildChecklist(o: Observations): Check[] {
  if (o.unreachable !== undefined) {
    return [
      {
        status: 'fail',
        title: `Prometheus at ${o.prometheusUrl} does not answer: ${o.unreachable}`,
        fix: 'Check the --prometheus URL (in a cluster: kubectl port-forward svc/prometheus-operated 9090) and that Prometheus is running.',
      },
    ];
  }
  const checks: Check[] = [{ status: 'pass', title: `Prometheus answers at ${o.prometheusUrl}` }];

  // Targets
  if (o.targets.length === 0) {
    checks.push({
      status: 'fail',
      title: `no scrape target with job "${o.job}" (or "${o.job}-…")`,
      fix: 'Apply the ServiceMonitor (deploy/kubernetes/servicemonitor.yaml) and make sure your Prometheus selects it (serviceMonitorSelector labels, namespace selector); locally, use the job of deploy/prometheus/prometheus.yml. Pass --job if your job has another name.',
    });
  } else {
    const up = o.targets.filter((t) => t.health === 'up');
    if (up.length > 0) checks.push({ status: 'pass', title: `${up.length} proxy target(s) up: ${up.map((t) => `${t.instance} (${t.job})`).join(', ')}` });
    for (const t of o.targets.filter((t) => t.health !== 'up')) {
      checks.push({
        status: 'fail',
        title: `target ${t.instance} (job ${t.job}) is ${t.health}${t.lastError ? `: ${t.lastError}` : ''}`,
        fix: `Is the proxy running and listening beyond loopback (HOST=0.0.0.0 in a pod)? Does ${t.scrapeUrl || 'its /metrics'} answer? Check the Service selector and the port name "http".`,
      });
    }
    const wrong = o.targets.filter((t) => t.scrapeIntervalSeconds !== undefined && t.scrapeIntervalSeconds !== o.expectedIntervalSeconds);
    const unknown = o.targets.filter((t) => t.scrapeIntervalSeconds === undefined);
    if (wrong.length > 0) {
      checks.push({
        status: 'fail',
        title: `scrape interval is ${[...new Set(wrong.map((t) => seconds(t.scrapeIntervalSeconds!)))].join(', ')}, expected ${seconds(o.expectedIntervalSeconds)}`,
        fix: `Set interval: ${seconds(o.expectedIntervalSeconds)} on the ServiceMonitor endpoint (or scrape_interval in the scrape config); rate windows and alerts assume it.`,
      });
    } else if (unknown.length > 0) {
      checks.push({ status: 'warn', title: 'this Prometheus does not report scrape intervals; interval not checked' });
    } else {
      checks.push({ status: 'pass', title: `scrape interval is ${seconds(o.expectedIntervalSeconds)}` });
    }
  }

  // Metric families
  const families = Object.keys(CATALOGUE) as MetricName[];
  const seen = (n: MetricName) => seriesOfFamily(n).every((s) => o.seriesNames.has(s));
  const present = families.filter(seen);
  checks.push({
    status: present.length > 0 ? 'pass' : 'fail',
    title: `${present.length} of ${families.length} catalogue metric families present`,
    ...(present.length === 0
      ? { fix: 'Prometheus has no zai_proxy_* series from these targets: check the targets above and that /metrics is the proxy’s.' }
      : {}),
  });
  for (const name of families.filter((n) => !seen(n))) {
    const event = EVENT_DRIVEN_FAMILIES[name];
    const missing = seriesOfFamily(name).filter((s) => !o.seriesNames.has(s));
    checks.push(
      event !== undefined
        ? { status: 'warn', title: `${name} not yet seen (it appears once ${event})` }
        : {
            status: 'fail',
            title: `${name} is missing (${missing.join(', ')})`,
            fix: 'The proxy does not export it: compare zai_proxy_build_info with a release that has the full catalogue, and check that every replica is scraped.',
          },
    );
  }

  // Token accounting while traffic flows
  if (o.traffic) {
    const w = seconds(o.traffic.windowSeconds);
    const { completions, tokens } = o.traffic;
    if (!completions) {
      checks.push({ status: 'warn', title: `no successful completions in the last ${w}; token accounting not judged (send traffic and re-run)` });
    } else if (!tokens) {
      checks.push({
        status: 'fail',
        title: `${Math.round(completions)} successful completions in the last ${w} but zai_proxy_tokens_total did not move`,
        fix: 'Token accounting is broken: check the proxy logs for accounting errors, TOKEN_COUNTING_ENABLED, and whether the upstream reports usage.',
      });
    } else {
      checks.push({
        status: 'pass',
        title: `token counters moving: ${Math.round(tokens)} tokens over ${Math.round(completions)} completions in the last ${w}`,
      });
    }
  }

  // Dashboard panels
  if (o.dashboard) {
    const d = o.dashboard;
    if (d.error !== undefined) {
      checks.push({
        status: 'fail',
        title: `dashboard ${d.file} cannot be read: ${d.error}`,
        fix: 'Pass the Grafana JSON model (deploy/grafana/zai-proxy.json).',
      });
    } else {
      let answering = 0;
      for (const p of d.panels) {
        const label = `panel "${p.panel}" ${p.refId}`;
        if (!p.result.ok) {
          checks.push({ status: 'fail', title: `${label} fails: ${p.result.error}`, fix: `Fix the panel query: ${p.expr}` });
          continue;
        }
        if (p.result.samples.length > 0) {
          answering++;
          continue;
        }
        const compared = comparedVariants(p.expr);
        const absent = o.variants === undefined || compared.length < 2 ? [] : compared.filter((v) => !o.variants!.includes(v));
        if (absent.length > 0) {
          const reporting = o.variants!.length > 0 ? o.variants!.join(', ') : 'none';
          checks.push({
            status: 'warn',
            title: `${label} not applicable: it compares ${compared.join(' with ')}, but ${absent.join(' and ')} ${absent.length > 1 ? 'do' : 'does'} not report (variants reporting: ${reporting})`,
          });
          continue;
        }
        const names = metricNamesIn(p.expr);
        const unknownNames = names.filter((n) => familyOf(n) === undefined);
        const fams = names.map(familyOf).filter((f): f is MetricName => f !== undefined);
        const waiting = fams.filter((f) => !seen(f) && EVENT_DRIVEN_FAMILIES[f] !== undefined);
        if (unknownNames.length > 0) {
          checks.push({
            status: 'fail',
            title: `${label} returns no data: ${unknownNames.join(', ')} not in the metric catalogue`,
            fix: 'Use the catalogue names (src/metrics/catalogue.ts).',
          });
        } else if (waiting.length > 0) {
          checks.push({ status: 'warn', title: `${label} has no data yet (${waiting.join(', ')} not yet seen)` });
        } else {
          checks.push({
            status: 'fail',
            title: `${label} returns no data although its metrics exist`,
            fix: `Run the query in Prometheus and check its label matchers and windows: ${p.expr}`,
          });
        }
      }
      checks.push({
        status: answering > 0 ? 'pass' : 'fail',
        title: `${answering} of ${d.panels.length} dashboard queries return data (${d.file})`,
        ...(answering === 0 ? { fix: 'Nothing on the dashboard would show data: fix the targets first.' } : {}),
      });
    }
  }
  return checks;
}

export interface VerifyOptions {
  readonly prometheusUrl: string;
  readonly job: string;
  readonly expectedIntervalSeconds: number;
  /** Parsed Grafana JSON (or the error reading it), with the file name for messages. */
  readonly dashboard?: { readonly file: string; readonly model?: unknown; readonly error?: string };
}

/** Job names end up in a PromQL regex; they are plain identifiers in every real setup. */
export const JOB_NAME = /^[A-Za-z0-9_.:-]+$/;

export async function observe(api: PrometheusApi, opts: VerifyOptions): Promise<Observations> {
  const base = { prometheusUrl: opts.prometheusUrl, job: opts.job, expectedIntervalSeconds: opts.expectedIntervalSeconds };
  let targets: ScrapeTarget[];
  try {
    targets = (await api.targets()).filter((t) => t.job === opts.job || t.job.startsWith(`${opts.job}-`));
  } catch (err) {
    if (err instanceof PrometheusUnreachableError) return { ...base, unreachable: err.message, targets: [], seriesNames: new Set() };
    throw err;
  }
  const jobRe = `${opts.job.replace(/\./g, '\\\\.')}(-.*)?`;
  const names = await api.query(`group by (__name__) ({__name__=~"zai_proxy_.+", job=~"${jobRe}"})`);
  const seriesNames = new Set(names.ok ? names.samples.map((s) => s.labels.__name__ ?? '') : []);

  // Ten scrapes: enough samples for increase() to see movement, short enough to mean "now".
  const windowSeconds = Math.max(10 * opts.expectedIntervalSeconds, 10);
  const sumOf = async (expr: string) => {
    const r = await api.query(expr);
    return r.ok && r.samples.length > 0 ? r.samples[0]!.value : undefined;
  };
  const completions = await sumOf(
    `sum(increase(zai_proxy_requests_total{job=~"${jobRe}", path=~"/v1/chat/completions|/v1/messages", status_code=~"2.."}[${windowSeconds}s]))`,
  );
  const tokens = await sumOf(`sum(increase(zai_proxy_tokens_total{job=~"${jobRe}"}[${windowSeconds}s]))`);
  const variantAnswer = await api.query(`group by (variant) (zai_proxy_build_info{job=~"${jobRe}"})`);
  const variants = variantAnswer.ok
    ? variantAnswer.samples
        .map((s) => s.labels.variant ?? '')
        .filter((v) => v !== '')
        .sort()
    : undefined;

  let dashboard: Observations['dashboard'];
  if (opts.dashboard) {
    if (opts.dashboard.error !== undefined) {
      dashboard = { file: opts.dashboard.file, error: opts.dashboard.error, panels: [] };
    } else {
      const panels: PanelObservation[] = [];
      for (const q of panelQueries(opts.dashboard.model)) {
        const expr = substituteVariables(q.expr, { scrapeIntervalSeconds: opts.expectedIntervalSeconds });
        panels.push({ ...q, expr, result: await api.query(expr) });
      }
      dashboard = { file: opts.dashboard.file, panels };
    }
  }
  return { ...base, targets, seriesNames, traffic: { windowSeconds, completions, tokens }, dashboard, variants };
}

export async function verifyMonitoring(api: PrometheusApi, opts: VerifyOptions): Promise<Check[]> {
  return buildChecklist(await observe(api, opts));
}

const MARK: Record<CheckStatus, string> = { pass: '✓', warn: '⚠', fail: '✗' };

export function formatChecklist(checks: readonly Check[]): string {
  const lines = checks.flatMap((c) => [`${MARK[c.status]} ${c.title}`, ...(c.fix ? [`    fix: ${c.fix}`] : [])]);
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  lines.push('', failed === 0 ? `all checks passed${warned ? ` (${warned} warning(s))` : ''}` : `${failed} check(s) failed`);
  return `${lines.join('\n')}\n`;
}

export const passed = (checks: readonly Check[]) => checks.every((c) => c.status !== 'fail');
