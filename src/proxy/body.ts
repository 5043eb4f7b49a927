import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

export class BodyTooLarge extends Error {}

/** Reads a request body into memory, refusing (before reading) anything over `max` bytes. */
export function readRequestBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) return Promise.reject(new BodyTooLarge());
  return readAll(req, max, () => new BodyTooLarge());
}

/** Reads a stream to its end, failing with `tooLarge()` once more than `max` bytes arrive. */
export function readAll(stream: Readable, max: number, tooLarge: () => Error = () => new BodyTooLarge()): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        cleanup();
        stream.destroy();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      // 'close' without 'end': the peer went away mid-body.
      cleanup();
      reject(Object.assign(new Error('stream closed before end'), { code: 'ECONNRESET' }));
    };
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
