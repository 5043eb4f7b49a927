import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { prometheusReader } from '../../src/canary/prometheus-reader.js';
import { windowIncrease } from '../../src/canary/promql-increase.js';
import { requireBinary } from '../support/binaries.js';
import { startPrometheus, type TestPrometheus } from '../support/prometheus-server.js';

/**
 * The increases the Argo analysis queries and canary-report's Prometheus source are made of,
 * against a real Prometheus scraping an exporter whose counters the test sets: a series born
 * inside the window counts from zero, a reset counts its whole new value, a series that went
 * away keeps what it counted, and the numbers are exact (increase() would extrapolate them).
 */

const prometheusBin = requireBinary('prometheus');
const NAME = 'zai_proxy_requests_total';

describe('counter increases in PromQL, against a real Prometheus', { skip: prometheusBin.skip }, () => {
  const values = new Map<string, number>();
  let exporter: Server;
  let prom: TestPrometheus;
  const startedAt = Date.now();
  let endedAt = 0;

  /** Sets a series (undefined: stops exporting it) and waits until Prometheus has scraped it twice. */
  const set = async (status: string, v: number | undefined) => {
    if (v === undefined) values.delete(status);
    else values.set(status, v);
    const selector = `${NAME}{variant="c", status_code="${status}"}`;
    let first: number | undefined;
    await prom.waitFor(`${status}=${v} scraped twice`, async () => {
      const r = await prom.api.query(v === undefined ? `absent(${selector})` : `timestamp(${selector} == ${v})`);
      if (!r.ok || r.samples.length === 0) return false;
      if (v === undefined) return true;
      const ts = r.samples[0]!.value;
      first ??= ts;
      return ts > first;
    });
  };

  before(async () => {
    exporter = createServer((_req, res) => {
      const lines = ['# TYPE zai_proxy_requests_total counter', ...[...values].map(([status, v]) => `${NAME}{variant="c",status_code="${status}"} ${v}`)];
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`${lines.join('\n')}\n`);
    });
    exporter.listen(0, '127.0.0.1');
    await once(exporter, 'listening');
    prom = await startPrometheus(prometheusBin.path!, {
      job: 'exporter',
      targets: [`127.0.0.1:${(exporter.address() as { port: number }).port}`],
      intervalSeconds: 1,
    });
    await prom.waitFor('the exporter scraped', async () => {
      const r = await prom.api.query('up');
      return r.ok && r.samples[0]?.value === 1;
    });
    // 200: born inside the window at 3, then 7, reset to 2, then 5: 3 + 4 + 2 + 3 = 12.
    for (const v of [3, 7, 2, 5]) await set('200', v);
    // 500: born at 4, then gone (its pod replaced): it keeps its 4.
    await set('500', 4);
    await set('500', undefined);
    endedAt = Date.now();
  });

  after(async () => {
    await prom?.stop();
    exporter?.close();
  });

  it('windowIncrease: exact increases of born, reset and vanished series', async () => {
    const span = `${Math.ceil((Date.now() - startedAt) / 1000) + 5}s`;
    const r = await prom.api.query(`sum by (status_code) (${windowIncrease(`${NAME}{variant="c"}`, span, '1s')})`);
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.deepEqual(Object.fromEntries(r.samples.map((s) => [s.labels.status_code, s.value])), { '200': 12, '500': 4 });
  });

  it('prometheusReader counts the same', async () => {
    const reader = prometheusReader(prom.url);
    const read = await reader.read({ stable: 's', canary: 'c', fromMs: startedAt - 5_000, toMs: endedAt + 1_000 });
    assert.deepEqual(read.canary.byStatus, { '200': 12, '500': 4 });
    assert.deepEqual(read.stable.byStatus, {});
    assert.deepEqual(read.variantsSeen, ['c']);
  });
});
