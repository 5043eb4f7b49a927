import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/fields.js';
import { CATALOGUE, type MetricName } from '../../src/metrics/catalogue.js';
import type { PrometheusApi, QueryResult, ScrapeTarget } from '../../src/monitoring/prometheus-api.js';
import { PrometheusUnreachableError } from '../../src/monitoring/prometheus-api.js';
import {
  buildChecklist,
  comparedVariants,
  EVENT_DRIVEN_FAMILIES,
  formatChecklist,
  type Observations,
  passed,
  seriesOfFamily,
  verifyMonitoring,
} from '../../src/monitoring/verify.js';
import { parseVerifyArgs } from '../../src/monitoring/verify-main.js';

const families = Object.keys(CATALOGUE) as MetricName[];
const everySeries = new Set(families.flatMap(seriesOfFamily));
const target = (over: Partial<ScrapeTarget> = {}): ScrapeTarget => ({
  job: 'zai-proxy',
  instance: '10.0.0.1:8080',
  health: 'up',
  lastError: '',
  scrapeUrl: 'http://10.0.0.1:8080/metrics',
  scrapeIntervalSeconds: 15,
  ...over,
});
const healthy = (over: Partial<Observations> = {}): Observations => ({
  prometheusUrl: 'http://prom:9090',
  job: 'zai-proxy',
  expectedIntervalSeconds: 15,
  targets: [target(), target({ job: 'zai-proxy-canary', instance: '10.0.0.2:8080' })],
  seriesNames: everySeries,
  traffic: { windowSeconds: 150, completions: 40, tokens: 12000 },
  dashboard: {
    file: 'zai-proxy.json',
    panels: [
      { panel: 'Total tokens (1h)', refId: 'A', expr: 'sum(increase(zai_proxy_tokens_total[1h]))', result: { ok: true, samples: [{ labels: {}, value: 5 }] } },
    ],
  },
  ...over,
});
const failures = (o: Observations) => buildChecklist(o).filter((c) => c.status === 'fail');
const warnings = (o: Observations) => buildChecklist(o).filter((c) => c.status === 'warn');

describe('verify-monitoring checklist', () => {
  it('passes a healthy setup with every line ✓', () => {
    const checks = buildChecklist(healthy());
    assert.ok(passed(checks));
    assert.deepEqual(
      checks.filter((c) => c.status !== 'pass'),
      [],
    );
    assert.match(formatChecklist(checks), /^✓ Prometheus answers at http:\/\/prom:9090\n✓ 2 proxy target\(s\) up/);
  });

  it('an unreachable Prometheus is one ✗ with a fix', () => {
    const checks = buildChecklist({ ...healthy(), unreachable: 'connect ECONNREFUSED' });
    assert.equal(checks.length, 1);
    assert.equal(checks[0]!.status, 'fail');
    assert.ok(checks[0]!.fix);
  });

  it('no target for the job tells to deploy or select the ServiceMonitor', () => {
    const [f, ...rest] = failures(healthy({ targets: [] }));
    assert.equal(rest.length, 0);
    assert.match(f!.title, /no scrape target with job "zai-proxy"/);
    assert.match(f!.fix!, /ServiceMonitor/);
  });

  it('a down target is a ✗ naming the instance and its scrape error', () => {
    const [f] = failures(healthy({ targets: [target(), target({ instance: '10.0.0.2:8080', health: 'down', lastError: 'connection refused' })] }));
    assert.equal(f!.title, 'target 10.0.0.2:8080 (job zai-proxy) is down: connection refused');
    assert.match(f!.fix!, /HOST=0\.0\.0\.0/);
  });

  it('a scrape interval other than the expected one fails', () => {
    const [f] = failures(healthy({ targets: [target({ scrapeIntervalSeconds: 30 })] }));
    assert.equal(f!.title, 'scrape interval is 30s, expected 15s');
  });

  it('a missing ordinary family fails, a missing event-driven one only warns', () => {
    const without = (...names: string[]) => new Set([...everySeries].filter((s) => !names.includes(s)));
    const [f] = failures(healthy({ seriesNames: without('zai_proxy_token_rate_bucket') }));
    assert.equal(f!.title, 'zai_proxy_token_rate is missing (zai_proxy_token_rate_bucket)');
    const o = healthy({ seriesNames: without('zai_proxy_retry_attempts_total') });
    assert.deepEqual(failures(o), []);
    assert.match(warnings(o)[0]!.title, /zai_proxy_retry_attempts_total not yet seen \(it appears once the proxy retries a request\)/);
  });

  it('every event-driven family is a catalogue family', () => {
    for (const name of Object.keys(EVENT_DRIVEN_FAMILIES)) assert.ok(name in CATALOGUE, name);
  });

  it('completions without token movement fail; no traffic only warns', () => {
    const [f] = failures(healthy({ traffic: { windowSeconds: 150, completions: 40, tokens: 0 } }));
    assert.match(f!.title, /40 successful completions in the last 150s but zai_proxy_tokens_total did not move/);
    const idle = healthy({ traffic: { windowSeconds: 150, completions: undefined, tokens: undefined } });
    assert.deepEqual(failures(idle), []);
    assert.match(warnings(idle)[0]!.title, /no successful completions/);
  });

  it('panel queries: errors fail, empty results fail unless they wait on an event-driven family', () => {
    const panel = (expr: string, result: QueryResult) => ({ panel: 'p', refId: 'A', expr, result });
    const o = healthy({
      seriesNames: new Set([...everySeries].filter((s) => s !== 'zai_proxy_retry_attempts_total')),
      dashboard: {
        file: 'd.json',
        panels: [
          panel('sum(rate(zai_proxy_tokens_total[5m])', { ok: false, error: 'bad_data: unclosed left parenthesis' }),
          panel('sum(rate(zai_proxy_retry_attempts_total[5m]))', { ok: true, samples: [] }),
          panel('sum(rate(zai_proxy_tokens_total{direction="sideways"}[5m]))', { ok: true, samples: [] }),
          panel('sum(rate(zai_proxy_token_total[5m]))', { ok: true, samples: [] }),
          panel('sum(rate(zai_proxy_tokens_total[5m]))', { ok: true, samples: [{ labels: {}, value: 1 }] }),
        ],
      },
    });
    const titles = buildChecklist(o).map((c) => `${c.status} ${c.title}`);
    assert.ok(titles.includes('fail panel "p" A fails: bad_data: unclosed left parenthesis'));
    assert.ok(titles.includes('warn panel "p" A has no data yet (zai_proxy_retry_attempts_total not yet seen)'));
    assert.ok(titles.includes('fail panel "p" A returns no data although its metrics exist'));
    assert.ok(titles.includes('fail panel "p" A returns no data: zai_proxy_token_total not in the metric catalogue'));
    assert.ok(titles.includes('pass 1 of 5 dashboard queries return data (d.json)'));
  });
});

describe('comparison panels with one or two variants', () => {
  const compare =
    'histogram_quantile(0.95, sum by (le) (rate(zai_proxy_request_duration_seconds_bucket{variant="canary"}[10m]))) / histogram_quantile(0.95, sum by (le) (rate(zai_proxy_request_duration_seconds_bucket{variant="stable"}[10m])))';
  const withPanel = (variants: string[] | undefined, samples: number) =>
    healthy({
      variants,
      dashboard: {
        file: 'd.json',
        panels: [
          {
            panel: 'Canary / stable p95',
            refId: 'A',
            expr: compare,
            result: { ok: true, samples: Array.from({ length: samples }, () => ({ labels: {}, value: 1 })) },
          },
        ],
      },
    });

  it('reads the compared variants from literal matchers only', () => {
    assert.deepEqual(comparedVariants(compare), ['canary', 'stable']);
    assert.deepEqual(comparedVariants('sum by (variant) (rate(zai_proxy_requests_total{variant=~"$variant"}[5m]))'), []);
  });

  it('is not applicable (a warning naming why) when only one variant reports', () => {
    const o = withPanel(['production'], 0);
    assert.deepEqual(
      failures(o).filter((c) => c.title.includes('Canary / stable')),
      [],
    );
    assert.ok(
      warnings(o).some(
        (c) =>
          c.title ===
          'panel "Canary / stable p95" A not applicable: it compares canary with stable, but canary and stable do not report (variants reporting: production)',
      ),
      formatChecklist(buildChecklist(o)),
    );
    assert.ok(warnings(withPanel(['stable'], 0)).some((c) => c.title.includes('but canary does not report (variants reporting: stable)')));
  });

  it('fails when both variants report and the query still answers nothing', () => {
    assert.ok(failures(withPanel(['canary', 'stable'], 0)).some((c) => c.title === 'panel "Canary / stable p95" A returns no data although its metrics exist'));
    assert.deepEqual(failures(withPanel(['canary', 'stable'], 1)), []);
  });
});

describe('verifyMonitoring over a Prometheus API', () => {
  it('keeps only the proxy jobs and substitutes dashboard variables before querying', async () => {
    const queries: string[] = [];
    const api: PrometheusApi = {
      targets: async () => [
        target(),
        target({ job: 'zai-proxy-canary' }),
        target({ job: 'node-exporter', health: 'down' }),
        target({ job: 'zai-proxyish', health: 'down' }),
      ],
      query: async (expr) => {
        queries.push(expr);
        if (expr.startsWith('group by (__name__)')) return { ok: true, samples: [...everySeries].map((s) => ({ labels: { __name__: s }, value: 1 })) };
        return { ok: true, samples: [{ labels: {}, value: 3 }] };
      },
    };
    const model = {
      panels: [
        { type: 'row', panels: [{ title: 'T', targets: [{ refId: 'A', expr: 'sum(rate(zai_proxy_tokens_total{variant=~"$variant"}[$__rate_interval]))' }] }] },
      ],
    };
    const checks = await verifyMonitoring(api, { prometheusUrl: 'http://p', job: 'zai-proxy', expectedIntervalSeconds: 15, dashboard: { file: 'd', model } });
    assert.ok(passed(checks), formatChecklist(checks));
    assert.ok(queries.includes('sum(rate(zai_proxy_tokens_total{variant=~".*"}[60s]))'));
    assert.ok(queries.some((q) => q.includes('job=~"zai-proxy(-.*)?"')));
  });

  it('turns an unreachable Prometheus into the ✗ line instead of throwing', async () => {
    const api: PrometheusApi = {
      targets: async () => {
        throw new PrometheusUnreachableError('http://p does not answer: ECONNREFUSED');
      },
      query: async () => assert.fail('no query after the targets call failed'),
    };
    const checks = await verifyMonitoring(api, { prometheusUrl: 'http://p', job: 'zai-proxy', expectedIntervalSeconds: 15 });
    assert.equal(passed(checks), false);
    assert.match(checks[0]!.title, /ECONNREFUSED/);
  });
});

describe('verify-monitoring arguments', () => {
  it('reads the documented flags with their defaults', () => {
    assert.deepEqual(parseVerifyArgs(['--prometheus', 'http://127.0.0.1:9090/']), {
      prometheusUrl: 'http://127.0.0.1:9090',
      job: 'zai-proxy',
      expectedIntervalSeconds: 15,
      dashboard: undefined,
    });
    const o = parseVerifyArgs(['--prometheus', 'http://p', '--job', 'proxy', '--expected-interval', '1s', '--grafana-dashboard', '/nonexistent.json']);
    assert.equal(o.expectedIntervalSeconds, 1);
    assert.equal(o.job, 'proxy');
    assert.match(o.dashboard?.error ?? '', /ENOENT/);
  });

  it('rejects a missing URL, an odd job name and a bad interval with a ConfigError', () => {
    assert.throws(() => parseVerifyArgs([]), ConfigError);
    assert.throws(() => parseVerifyArgs(['--prometheus', 'http://p', '--job', 'a"b']), ConfigError);
    assert.throws(() => parseVerifyArgs(['--prometheus', 'http://p', '--expected-interval', 'soon']), ConfigError);
    assert.throws(() => parseVerifyArgs(['--prometheus', 'http://p', '--frobnicate']), ConfigError);
  });
});
