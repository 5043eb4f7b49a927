import { CATALOGUE, type MetricName } from '../metrics/catalogue.js';
import { isRecord } from '../lib/json.js';

/**
 * Reading a Grafana dashboard JSON model the way Grafana would run it against Prometheus:
 * which queries its panels hold, what they look like with the template variables filled in,
 * and which catalogue metric families they read.
 */

export interface PanelQuery {
  readonly panel: string;
  readonly refId: string;
  readonly expr: string;
}

/** Every Prometheus query of every panel, rows' nested panels included, in dashboard order. */
export function panelQueries(dashboard: unknown): PanelQuery[] {
  const out: PanelQuery[] = [];
  const visit = (panels: unknown): void => {
    if (!Array.isArray(panels)) return;
    for (const panel of panels) {
      if (!isRecord(panel)) continue;
      const title = typeof panel.title === 'string' ? panel.title : `panel ${String(panel.id)}`;
      if (Array.isArray(panel.targets)) {
        for (const target of panel.targets) {
          if (isRecord(target) && typeof target.expr === 'string' && target.expr.trim() !== '') {
            out.push({ panel: title, refId: typeof target.refId === 'string' ? target.refId : '?', expr: target.expr });
          }
        }
      }
      visit(panel.panels);
    }
  };
  if (isRecord(dashboard)) visit(dashboard.panels);
  return out;
}

export interface VariableValues {
  /** Prometheus scrape interval in seconds, the base Grafana derives its intervals from. */
  readonly scrapeIntervalSeconds: number;
  /** Regex standing in for every multi-select variable ("All"). */
  readonly allValue?: string;
  /** Stand-in for $__range, in seconds. */
  readonly rangeSeconds?: number;
}

/**
 * Fills Grafana's variables the way "All" and a default time range would: custom variables
 * become a match-everything regex (dashboard selectors use `=~` for them), $__rate_interval
 * is four scrape intervals (Grafana's floor), $__interval one.
 */
export function substituteVariables(expr: string, values: VariableValues): string {
  const all = values.allValue ?? '.*';
  const interval = Math.max(1, Math.round(values.scrapeIntervalSeconds));
  const builtins: Record<string, string> = {
    __rate_interval: `${4 * interval}s`,
    __interval: `${interval}s`,
    __interval_ms: String(interval * 1000),
    __range: `${values.rangeSeconds ?? 3600}s`,
    __range_s: String(values.rangeSeconds ?? 3600),
  };
  const value = (name: string) => builtins[name] ?? all;
  return expr
    .replace(/\$\{(\w+)(?::[^}]*)?\}/g, (_, name: string) => value(name))
    .replace(/\[\[(\w+)(?::[^\]]*)?\]\]/g, (_, name: string) => value(name))
    .replace(/\$(\w+)/g, (_, name: string) => value(name));
}

const HISTOGRAM_SUFFIXES = ['_bucket', '_count', '_sum'] as const;

/** Metric names a query mentions (anything shaped like `zai_proxy_…`). */
export function metricNamesIn(expr: string): string[] {
  return [...new Set(expr.match(/\bzai_proxy_[a-z0-9_]+/g) ?? [])];
}

/** The catalogue family a series name belongs to, or undefined when it is not in the catalogue. */
export function familyOf(seriesName: string): MetricName | undefined {
  if (seriesName in CATALOGUE) {
    const name = seriesName as MetricName;
    // A histogram is only queryable through its suffixed series.
    return CATALOGUE[name].kind === 'histogram' ? undefined : name;
  }
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (!seriesName.endsWith(suffix)) continue;
    const base = seriesName.slice(0, -suffix.length);
    if (base in CATALOGUE && CATALOGUE[base as MetricName].kind === 'histogram') return base as MetricName;
  }
  return undefined;
}
