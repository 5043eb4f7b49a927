import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The http:// URL of a listening server, with IPv6 addresses in brackets. */
export function serverUrl(server: Server): string {
  const { address, family, port } = server.address() as AddressInfo;
  return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
}

/** Starts listening and resolves with the server's URL; rejects with the listen error (e.g. EADDRINUSE). */
export function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(serverUrl(server));
    });
  });
}
