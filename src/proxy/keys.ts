import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (key: string) => createHash('sha256').update(key).digest();

/**
 * A set of secrets checked in constant time. `Set.has` and `===` return sooner the earlier
 * two strings differ, which lets a remote caller guess a key byte by byte from response
 * times. Here every presented key is hashed (so lengths never matter) and compared with every
 * configured key, without stopping at the first match.
 */
export class KeyRing {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = [...new Set(keys)].map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  has(presented: string): boolean {
    if (this.digests.length === 0) return false;
    const d = digest(presented);
    let found = false;
    for (const k of this.digests) found = timingSafeEqual(k, d) || found;
    return found;
  }
}
