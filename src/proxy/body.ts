import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { BodyBudgetExhausted, type BodyBudget } from './body-budget.js';

export class BodyTooLarge extends Error {}

/** How long the rest of a refused body is read into nothing before the connection closes. */
const REFUSED_BODY_LINGER_MS = 2_000;

/**
 * For an answer to a request whose body was refused before it was read: the connection
 * closes after the answer, with a lingering close. Node would close a `Connection: close`
 * socket the moment the answer is flushed, under a client still sending its body, which then
 * sees a reset (EPIPE / ECONNRESET) instead of the answer. Instead the proxy ends its side
 * and keeps reading the rest of the body into nothing for a short grace, then closes.
 */
export function closeAfterRefusal(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('connection', 'close');
  req.resume();
  const socket = req.socket;
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), REFUSED_BODY_LINGER_MS);
    socket.once('close', () => clearTimeout(timer));
  };
}

/**
 * Reads a request body into memory, refusing (before reading) anything declared over `max`
 * bytes. A chunked body that grows past `max` is refused too, but the request is left open
 * (its rest is discarded as it arrives) so the client can still read the 413 before the
 * connection closes: destroying it would reset the socket, which SDKs retry as a network error.
 *
 * The body's bytes are taken from `budget` (a declared length at once, a chunked body as it
 * arrives) and given back when `res` closes; past the budget it fails with BodyBudgetExhausted.
 */
export function readRequestBody(req: IncomingMessage, res: ServerResponse, max: number, budget: BodyBudget): Promise<Buffer> {
  const declared = req.headers['content-length'];
  const size = declared === undefined ? undefined : Number(declared);
  if (size !== undefined && size > max) return Promise.reject(new BodyTooLarge());
  let taken = 0;
  const take = (n: number) => {
    if (!budget.take(n)) return false;
    taken += n;
    return true;
  };
  if (size !== undefined && size > 0 && !take(size)) return Promise.reject(new BodyBudgetExhausted());
  res.on('close', () => budget.give(taken));
  return readAll(req, max, () => new BodyTooLarge(), 'discard', size === undefined ? take : undefined);
}

/**
 * Reads a stream to its end, failing with `tooLarge()` once more than `max` bytes arrive; the
 * stream is then destroyed, or with `onTooLarge: 'discard'` left flowing into nothing.
 */
export function readAll(
  stream: Readable,
  max: number,
  tooLarge: () => Error = () => new BodyTooLarge(),
  onTooLarge: 'destroy' | 'discard' = 'destroy',
  /** Asked before each chunk is kept; false stops reading with BodyBudgetExhausted. */
  accept?: (bytes: number) => boolean,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Listeners stay attached once settled (they ignore what follows): taking four off every
    // request body cost about 800 instructions. Only a refused body stops being listened to.
    let settled = false;
    const stop = (err: Error) => {
      settled = true;
      stream.off('data', onData);
      chunks.length = 0;
      if (onTooLarge === 'destroy') stream.destroy();
      else stream.resume();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) return stop(tooLarge());
      if (accept && !accept(chunk.length)) return stop(new BodyBudgetExhausted());
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (settled) return;
      settled = true;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      // The listeners (and so this array) live as long as the request: the chunks must not.
      chunks.length = 0;
      resolve(body);
    };
    const onError = (err: Error) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    const onClose = () => {
      // 'close' without 'end': the peer went away mid-body.
      if (settled) return;
      settled = true;
      reject(Object.assign(new Error('stream closed before end'), { code: 'ECONNRESET' }));
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
