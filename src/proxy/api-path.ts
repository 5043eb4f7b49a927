/**
 * Request paths under `/v1/` travel upstream with the operator's key, appended to a base such
 * as `/api/paas/v4`. A path with dot-segments or escaped slashes (`/v1/../../api/monitor/…`,
 * `/v1/%2e%2e/…`) is harmless to us but not to whatever normalises it later (a front end, the
 * upstream itself): it could reach endpoints outside the base with our key. So a `/v1` path is
 * percent-decoded once, its dot-segments resolved and empty segments dropped; if what is left
 * still lies under `/v1/` it is routed in that clean form (re-encoded segment by segment),
 * otherwise it is refused.
 */
export type ApiPath = { ok: true; path: string } | { ok: false; reason: string };

const PREFIX = '/v1/';
/** Anything that can change a path's meaning once decoded or normalised. */
const SUSPECT = /%|\/\.|\/\/|\\/;

export function normaliseApiPath(raw: string): ApiPath {
  if (!SUSPECT.test(raw)) return { ok: true, path: raw };
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return refuseIfApi(raw, 'it has an invalid percent-escape');
  }
  const wasApi = raw.startsWith(PREFIX) || decoded.startsWith(PREFIX) || decoded === '/v1';
  if (!wasApi) return { ok: true, path: raw };
  if (decoded.includes('\0')) return { ok: false, reason: 'it contains a NUL byte' };
  const segments: string[] = [];
  // A backslash is a separator to some servers: treat it as one here too.
  for (const segment of decoded.split(/[/\\]/)) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0) return { ok: false, reason: 'it climbs above the root' };
      segments.pop();
    } else segments.push(segment);
  }
  if (segments[0] !== 'v1' || segments.length < 2) return { ok: false, reason: 'once normalised it leaves /v1/' };
  return { ok: true, path: `/${segments.map(encodeURIComponent).join('/')}` };
}

function refuseIfApi(raw: string, reason: string): ApiPath {
  return raw.startsWith(PREFIX) ? { ok: false, reason } : { ok: true, path: raw };
}
