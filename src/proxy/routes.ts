import { anthropicFlavour, openaiFlavour, type Flavour } from './flavours.js';

/**
 * The whole HTTP surface of the proxy in one table. `label` is the bounded `path` label of
 * every metric (METRICS.md); `consumes` says whether an answer spends tokens.
 */
export type Route =
  | { kind: 'upstream'; flavour: Flavour; base: 'openai' | 'anthropic'; label: RouteLabel; upstreamPath: string; consumes: boolean }
  | { kind: 'health' | 'ready' | 'metrics' | 'quota' | 'admin-reset-rate-limit' }
  | { kind: 'not-found' };

export type RouteLabel = '/v1/chat/completions' | '/v1/messages' | '/v1/messages/count_tokens' | '/v1/models' | 'other';

const LOCAL: Record<string, Route> = {
  '/health': { kind: 'health' },
  '/healthz': { kind: 'health' },
  '/ready': { kind: 'ready' },
  '/metrics': { kind: 'metrics' },
  '/quota': { kind: 'quota' },
  '/admin/reset-rate-limit': { kind: 'admin-reset-rate-limit' },
};

const ANTHROPIC: Record<string, RouteLabel> = {
  '/v1/messages': '/v1/messages',
  '/v1/messages/count_tokens': '/v1/messages/count_tokens',
};

const OPENAI_LABELS: Record<string, RouteLabel> = {
  '/v1/chat/completions': '/v1/chat/completions',
  '/v1/models': '/v1/models',
};

/**
 * Matches a request path (without the query string). Anthropic routes keep their path under
 * the Anthropic base; every other `/v1/x` maps to `{openai base}/x`.
 */
export function matchRoute(pathname: string): Route {
  const local = LOCAL[pathname];
  if (local) return local;
  const anthropic = ANTHROPIC[pathname];
  if (anthropic) {
    return {
      kind: 'upstream',
      flavour: anthropicFlavour,
      base: 'anthropic',
      label: anthropic,
      upstreamPath: pathname,
      consumes: anthropic === '/v1/messages',
    };
  }
  if (pathname.startsWith('/v1/') && pathname.length > 4) {
    const label = OPENAI_LABELS[pathname] ?? 'other';
    return {
      kind: 'upstream',
      flavour: openaiFlavour,
      base: 'openai',
      label,
      upstreamPath: pathname.slice(3),
      consumes: label === '/v1/chat/completions',
    };
  }
  return { kind: 'not-found' };
}
