import client from 'prom-client';

type Family = Awaited<ReturnType<client.Registry['getMetricsAsJSON']>>[number];

/** A worker's families as its registry's getMetricsAsJSON() gives them. */
export type WorkerReport = Family[];

/**
 * One scrape for the whole cluster: every worker's registry, merged by prom-client's
 * AggregatorRegistry.aggregate with the aggregator each family declares (catalogue.ts:
 * counters and histogram buckets summed, gauges as their meaning says).
 *
 * A sum of counters must not go down, or Prometheus reads a reset and rate() jumps. So a
 * worker that does not answer in time is counted with its last report, and the counters and
 * histograms of a worker that exited are kept (`retired`) and added to every later sum.
 * What it counted after its last report is lost; nothing is counted twice.
 */
export class MetricsMerger {
  private readonly last = new Map<number, WorkerReport>();
  private retired: WorkerReport = [];

  /** Keeps a worker's latest report (by its process id, not its slot: a replacement starts at zero). */
  report(pid: number, families: WorkerReport): void {
    this.last.set(pid, families);
  }

  /** A worker exited: its counters and histograms stay in the sums, its gauges leave. */
  retire(pid: number): void {
    const families = this.last.get(pid);
    this.last.delete(pid);
    if (!families) return;
    const monotonic = families.filter((f) => ['counter', 'histogram'].includes(String(f.type)));
    this.retired = merged([this.retired, monotonic]);
  }

  /** The exposition of every worker's last report, the retired sums and `extra` (the primary's own). */
  async text(extra: WorkerReport): Promise<{ text: string; contentType: string }> {
    const registry = client.AggregatorRegistry.aggregate([...this.last.values(), this.retired, extra]);
    return { text: await registry.metrics(), contentType: registry.contentType };
  }
}

/** Families of several reports merged into one report (for the retired sums). */
function merged(reports: WorkerReport[]): WorkerReport {
  const registry = client.AggregatorRegistry.aggregate(reports);
  // The aggregated registry's metrics are plain wrappers whose get() returns the merged family.
  return registry.getMetricsAsArray().map((m) => (m as unknown as { get(): Family }).get());
}
