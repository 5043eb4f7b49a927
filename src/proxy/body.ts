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
  return readAll(req, max, size === undefined ? take : undefined);
}

/** What one read of a body keeps until it settles; on the stream, so its listeners can be shared. */
interface BodyRead {
  readonly chunks: Buffer[];
  size: number;
  readonly max: number;
  readonly accept: ((bytes: number) => boolean) | undefined;
  readonly resolve: (body: Buffer) => void;
  readonly reject: (err: Error) => void;
}

const READ = Symbol('body read');
type Reading = Readable & { [READ]?: BodyRead };

/**
 * Reads a body to its end, failing with BodyTooLarge once more than `max` bytes arrive (the
 * rest then flows into nothing).
 *
 * The listeners are functions of this module, shared by every read, and the read's state
 * hangs on the stream until it settles: they stay attached afterwards (taking four off every
 * request body cost about 800 instructions), and closures of their own would stay alive with
 * them for as long as the request lasts, a streamed one included.
 */
function readAll(
  stream: Readable,
  max: number,
  /** Asked before each chunk is kept; false stops reading with BodyBudgetExhausted. */
  accept: ((bytes: number) => boolean) | undefined,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    (stream as Reading)[READ] = { chunks: [], size: 0, max, accept, resolve, reject };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/** The read in progress on `stream`, taken off it: it settles now. */
function settle(stream: Reading): BodyRead | undefined {
  const read = stream[READ];
  stream[READ] = undefined;
  return read;
}

function onData(this: Reading, chunk: Buffer): void {
  const read = this[READ];
  if (!read) return;
  read.size += chunk.length;
  if (read.size > read.max) return refuse(this, new BodyTooLarge());
  if (read.accept && !read.accept(chunk.length)) return refuse(this, new BodyBudgetExhausted());
  read.chunks.push(chunk);
}

function refuse(stream: Reading, err: Error): void {
  const read = settle(stream)!;
  stream.off('data', onData);
  stream.resume();
  read.reject(err);
}

function onEnd(this: Reading): void {
  const read = settle(this);
  if (read) read.resolve(read.chunks.length === 1 ? read.chunks[0]! : Buffer.concat(read.chunks, read.size));
}

function onError(this: Reading, err: Error): void {
  settle(this)?.reject(err);
}

function onClose(this: Reading): void {
  // 'close' without 'end': the peer went away mid-body.
  settle(this)?.reject(Object.assign(new Error('stream closed before end'), { code: 'ECONNRESET' }));
}
