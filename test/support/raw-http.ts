import { connect, type Socket } from 'node:net';

/** A raw TCP client for hostile-input tests: writes bytes as given, records what comes back. */
export interface RawConnection {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves with everything received once the server closes the connection. */
  closed: Promise<string>;
  /** Milliseconds from connect to close (NaN while open). */
  closedAfterMs(): number;
}

export function rawConnect(base: string): Promise<RawConnection> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let got = '';
    let closedAt = NaN;
    const t0 = performance.now();
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (got += d));
    const closed = new Promise<string>((done) =>
      socket.on('close', () => {
        closedAt = performance.now() - t0;
        done(got);
      }),
    );
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, received: () => got, closed, closedAfterMs: () => closedAt }));
    socket.once('error', reject);
  });
}

/**
 * Sends `bytes` on a fresh connection and returns everything received until the server closes
 * it (the writing side stays open: Node treats a half-close as the client leaving).
 */
export async function rawExchange(base: string, bytes: string | Buffer): Promise<string> {
  const c = await rawConnect(base);
  c.socket.write(bytes);
  return c.closed;
}

/** A complete HTTP/1.1 POST with a JSON body, as bytes; `Connection: close` unless `keepAlive`. */
export function rawPost(path: string, body: unknown, { keepAlive = false, headers = '' } = {}): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return (
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
    `${keepAlive ? '' : 'Connection: close\r\n'}${headers}\r\n${text}`
  );
}
