import { topLevelMembers, type ValueSpan } from '../lib/json-members.js';

const KEYS = [Buffer.from('model'), Buffer.from('stream')];

/** What the proxy reads from every request body: the model asked for and whether it streams. */
export interface RequestFacts {
  model: unknown;
  stream: boolean;
}

/**
 * The request's `model` and `stream`, as a full parse would give them, read without parsing
 * the prompt (topLevelMembers). A body that is not a JSON object has neither: the upstream,
 * not the proxy, answers malformed requests.
 */
export function requestFacts(body: Buffer): RequestFacts {
  const [model, stream] = topLevelMembers(body, KEYS) ?? [];
  return { model: model && valueAt(body, model), stream: stream !== undefined && isTrue(body, stream) };
}

function valueAt(body: Buffer, { start, end }: ValueSpan): unknown {
  // The usual model value, a string without escapes, needs no parser.
  let plain = body[start] === 0x22;
  for (let i = start + 1; plain && i < end - 1; i++) plain = body[i] !== 0x5c;
  if (plain) return body.toString('utf8', start + 1, end - 1);
  try {
    return JSON.parse(body.toString('utf8', start, end));
  } catch {
    return undefined;
  }
}

const isTrue = (body: Buffer, { start, end }: ValueSpan) =>
  end - start === 4 && body[start] === 0x74 && body[start + 1] === 0x72 && body[start + 2] === 0x75 && body[start + 3] === 0x65;
