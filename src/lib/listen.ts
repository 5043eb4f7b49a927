import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The http:// URL of a host and port, with an IPv6 address in brackets. */
export const httpUrl = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

/** The http:// URL of a listening server. */
export function serverUrl(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  return httpUrl(address, port);
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
