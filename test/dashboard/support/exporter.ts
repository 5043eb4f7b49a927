import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMetrics, type Metrics } from '../../../src/metrics/catalogue.js';

/** A loopback /metrics endpoint serving a catalogue registry the test drives directly. */
export async function startExporter(variant: string): Promise<{ url: string; metrics: Metrics; server: Server; close(): Promise<void> }> {
  const metrics = createMetrics(variant);
  const server = createServer((_req, res) => {
    void metrics.registry.metrics().then((text) => {
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    metrics,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
