import fc from 'fast-check';

/**
 * Shared pieces of the fuzz suite: fixed seeds and bounded runs, so a failure reproduces
 * exactly and the whole suite stays a few seconds long on a loaded machine.
 */
export const SEED = 20261202;
export const runs = (numRuns: number) => ({ numRuns, seed: SEED, endOnFailure: true }) as const;

/** Cuts `bytes` at the given offsets (any order, any range): the pieces joined give `bytes` back. */
export function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of at) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  out.push(bytes.subarray(from));
  return out;
}

/** Offsets to cut a buffer at: none, a few, or many (down to one byte per chunk). */
export const cuts = fc.oneof(fc.array(fc.nat(), { maxLength: 8 }), fc.array(fc.nat(), { minLength: 20, maxLength: 400 }));

/** Arbitrary text: any code points (lone surrogates included), and the characters parsers split on. */
export const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom('\n', '\r', ':', ' ', '{', '}', '"', '\\', '=', ',', '#', 'a', '1', '.', 'e', '-', 'data', 'event'), maxLength: 300 }),
);

/** Milliseconds a call took; used only with generous bounds that a hang or a blow-up would exceed. */
export function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}
