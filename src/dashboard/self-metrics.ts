import client from 'prom-client';

/** The dashboard's own /metrics: a registry of its own, so it never mixes with proxy series. */
export function createDashboardMetrics() {
  const registry = new client.Registry();
  const registers = [registry];
  return {
    registry,
    scrapes: new client.Counter({
      name: 'zai_dashboard_scrapes_total',
      help: 'Scrapes of proxy targets, by result',
      labelNames: ['target', 'result'] as const,
      registers,
    }),
    scrapeDuration: new client.Histogram({
      name: 'zai_dashboard_scrape_duration_seconds',
      help: 'Time to fetch and parse one target page',
      labelNames: ['target'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    skippedLines: new client.Counter({
      name: 'zai_dashboard_parse_skipped_lines_total',
      help: 'Unparseable exposition lines skipped',
      labelNames: ['target'] as const,
      registers,
    }),
    storeWrites: new client.Counter({
      name: 'zai_dashboard_store_writes_total',
      help: 'Snapshots written to the history store, by result',
      labelNames: ['result'] as const,
      registers,
    }),
    storeBytes: new client.Gauge({ name: 'zai_dashboard_store_size_bytes', help: 'History database size on disk (database plus WAL)', registers }),
    sseClients: new client.Gauge({ name: 'zai_dashboard_sse_clients', help: 'Connected SSE clients', registers }),
    sseDropped: new client.Counter({ name: 'zai_dashboard_sse_dropped_clients_total', help: 'SSE clients disconnected for falling behind', registers }),
    sourceErrors: new client.Counter({ name: 'zai_dashboard_prometheus_query_errors_total', help: 'Failed queries to PROMETHEUS_URL', registers }),
  };
}
export type DashboardMetrics = ReturnType<typeof createDashboardMetrics>;
