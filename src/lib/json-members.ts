/**
 * Where some top-level members of a JSON object are, without parsing the rest: the proxy needs
 * a request's `model` and `stream` on every request, and a full parse builds every message of
 * the prompt (all of a 1 MB prompt) only to read two fields. A long string is skipped by a
 * native search for its closing quote, nested values by counting brackets between strings.
 *
 * This locates, it does not validate: it answers for every valid JSON object exactly as a full
 * parse would (the last of duplicate keys wins), gives up (undefined) on text that does not
 * have an object's shape, and may still locate members in text a full parse would refuse (a
 * bad number or escape inside some other member).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Bytes of a string walked in JavaScript before a native search for its end takes over. */
const SHORT_STRING = 64;

/** A member's value: `body.subarray(start, end)` is its JSON text. */
export interface ValueSpan {
  start: number;
  end: number;
}

/**
 * The value of each of `keys` among `body`'s top-level members, in
 * the same order; undefined for a key that is absent. Undefined altogether when `body` is not
 * shaped like one JSON object.
 */
export function topLevelMembers(body: Buffer, keys: readonly Buffer[]): (ValueSpan | undefined)[] | undefined {
  const n = body.length;
  const found: (ValueSpan | undefined)[] = new Array(keys.length).fill(undefined);
  let i = skipSpace(body, 0, n);
  if (body[i] !== OPEN_OBJECT) return undefined;
  i = skipSpace(body, i + 1, n);
  if (body[i] === CLOSE_OBJECT) return skipSpace(body, i + 1, n) === n ? found : undefined;
  for (;;) {
    if (body[i] !== QUOTE) return undefined;
    const keyEnd = stringEnd(body, i, n);
    if (keyEnd < 0) return undefined;
    const which = keyIndex(body, i + 1, keyEnd - 1, keys);
    i = skipSpace(body, keyEnd, n);
    if (body[i] !== COLON) return undefined;
    const start = skipSpace(body, i + 1, n);
    const end = valueEnd(body, start, n);
    if (end < 0) return undefined;
    if (which >= 0) found[which] = { start, end };
    i = skipSpace(body, end, n);
    if (body[i] === COMMA) {
      i = skipSpace(body, i + 1, n);
      continue;
    }
    if (body[i] !== CLOSE_OBJECT) return undefined;
    return skipSpace(body, i + 1, n) === n ? found : undefined;
  }
}

function skipSpace(body: Buffer, i: number, n: number): number {
  for (; i < n; i++) {
    const c = body[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
  }
  return i;
}

/** Which of `keys` the key whose bytes run from `from` to `to` is, or -1. */
function keyIndex(body: Buffer, from: number, to: number, keys: readonly Buffer[]): number {
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    if (key.length !== to - from) continue;
    let j = 0;
    while (j < key.length && body[from + j] === key[j]) j++;
    if (j === key.length) return k;
  }
  // A key may be written with escapes ("mod\u0065l" is "model"): rare, so decoded only then.
  let escaped = false;
  for (let j = from; j < to && !escaped; j++) escaped = body[j] === BACKSLASH;
  if (!escaped) return -1;
  let key: unknown;
  try {
    key = JSON.parse(body.toString('utf8', from - 1, to + 1));
  } catch {
    return -1;
  }
  return keys.findIndex((k) => k.toString('utf8') === key);
}

/** The index just after the string that opens at `at` (a quote), or -1 if it never closes. */
function stringEnd(body: Buffer, at: number, n: number): number {
  // Keys and short values end within a few bytes, where a loop is cheaper than a native search.
  const stop = Math.min(n, at + SHORT_STRING);
  let i = at + 1;
  for (; i < stop; i++) {
    const c = body[i]!;
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) i++; // the escaped byte is never the end (\u takes four hex digits)
  }
  for (;;) {
    const q = body.indexOf(QUOTE, i);
    if (q < 0) return -1;
    let slashes = 0;
    while (body[q - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return q + 1;
    i = q + 1;
  }
}

/**
 * The index just after the value that starts at `at`, or -1 when it does not end. Brackets
 * are counted, not matched by kind: telling `[}` from `[]` is a validator's job.
 */
function valueEnd(body: Buffer, at: number, n: number): number {
  const first = body[at];
  if (first === QUOTE) return stringEnd(body, at, n);
  let i = at;
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    // A number or a literal: up to the next delimiter.
    for (; i < n; i++) {
      const c = body[i]!;
      if (c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) break;
    }
    return i > at ? i : -1;
  }
  let depth = 0;
  while (i < n) {
    const c = body[i]!;
    if (c === QUOTE) {
      i = stringEnd(body, i, n);
      if (i < 0) return -1;
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && --depth === 0) return i + 1;
    i++;
  }
  return -1;
}
