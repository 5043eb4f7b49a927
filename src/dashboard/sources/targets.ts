/** A scrape target: `url`, or `name=url` to force the variant name for everything on that page. */
export interface Target {
  readonly name: string | null;
  readonly url: string;
}

export class TargetError extends Error {
  override name = 'TargetError';
}

export function parseTargets(items: readonly string[]): Target[] {
  return items.map((item) => {
    const eq = item.indexOf('=');
    const schemeAt = item.indexOf('://');
    const hasName = eq > 0 && (schemeAt === -1 || eq < schemeAt);
    const name = hasName ? item.slice(0, eq).trim() : null;
    const raw = hasName ? item.slice(eq + 1).trim() : item.trim();
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new TargetError(`scrape target is not a URL: ${JSON.stringify(redactUrl(raw))}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TargetError(`scrape target must be http(s): ${redactUrl(raw)}`);
    if (name !== null && !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new TargetError(`invalid target name ${JSON.stringify(name)}`);
    return { name, url: url.href };
  });
}

/**
 * Scrubs a message (an error from fetch, say) of everything secret in a target URL: the URL
 * itself becomes its redacted form, and its password, user info and query values are masked
 * wherever else they appear.
 */
export function redactUrlSecrets(message: string, raw: string): string {
  let out = message;
  const secrets: string[] = [];
  try {
    const u = new URL(raw);
    out = out.split(u.href).join(redactUrl(u.href));
    if (u.username || u.password) secrets.push(`${u.username}:${u.password}`, decodeURIComponent(u.password), u.password);
    for (const value of u.searchParams.values()) secrets.push(value, encodeURIComponent(value));
    if (u.search) secrets.push(u.search);
  } catch {
    // not a URL: nothing more to find
  }
  out = out.split(raw).join(redactUrl(raw));
  for (const s of secrets.filter((x) => x.length >= 2).sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out;
}

/** A URL for display: user info and query (which may carry tokens) removed. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.href;
  } catch {
    return raw.replace(/\/\/[^@/]*@/, '//').replace(/\?.*$/, '');
  }
}
