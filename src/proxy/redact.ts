import type { OutgoingHttpHeaders } from 'node:http';
import type { HeaderList } from './headers.js';

const MASK = '[redacted]';

/**
 * Removes the operator's key from what the upstream sends back before it reaches a client: an
 * upstream (or a gateway in front of it) may echo the credential it was given in an error
 * message or a debug header. Z.AI keys are `<id>.<secret>`, so the secret half is masked on
 * its own too.
 */
export class SecretRedactor {
  private readonly secrets: string[];
  private readonly buffers: Buffer[];

  constructor(key: string | undefined) {
    const secrets = new Set<string>();
    if (key !== undefined && key.length > 0) {
      secrets.add(key);
      const secretHalf = key.slice(key.lastIndexOf('.') + 1);
      if (secretHalf !== key && secretHalf.length >= 8) secrets.add(secretHalf);
    }
    // Longest first, so the whole key is masked as one before its half is looked for.
    this.secrets = [...secrets].sort((a, b) => b.length - a.length);
    this.buffers = this.secrets.map((s) => Buffer.from(s));
  }

  body(body: Buffer): Buffer {
    let out = body;
    for (const secret of this.buffers) {
      if (out.indexOf(secret) === -1) continue;
      const parts: Buffer[] = [];
      let from = 0;
      for (let at = out.indexOf(secret); at !== -1; at = out.indexOf(secret, from)) {
        parts.push(out.subarray(from, at), Buffer.from(MASK));
        from = at + secret.length;
      }
      parts.push(out.subarray(from));
      out = Buffer.concat(parts);
    }
    return out;
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return out;
  }

  /** Masks the key in every value of a header list, in place. */
  headerList(list: HeaderList): void {
    if (this.secrets.length === 0) return;
    for (let i = 1; i < list.length; i += 2) {
      const value = list[i]!;
      list[i] = typeof value === 'string' ? this.text(value) : value.map((v) => this.text(v));
    }
  }

  /** Masks the key in every header value, in place. */
  headers(headers: OutgoingHttpHeaders): void {
    if (this.secrets.length === 0) return;
    for (const name in headers) {
      const value = headers[name];
      if (typeof value === 'string') headers[name] = this.text(value);
      else if (Array.isArray(value)) headers[name] = value.map((v) => this.text(v));
    }
  }
}
