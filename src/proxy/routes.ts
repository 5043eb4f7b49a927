import { anthropicMessages } from '../dialects/anthropic-messages.js';
import type { Dialect } from '../dialects/dialect.js';
import { openaiChat } from '../dialects/openai-chat.js';
import { anthropicModelList } from '../dialects/anthropic-models.js';
import { responsesOverChat } from '../dialects/responses/translation.js';
import type { Translation } from '../dialects/translation.js';

/**
 * The whole HTTP surface of the proxy in one table. `label` is the bounded `path` label of
 * every metric (docs/metrics.md); `consumes` says whether an answer spends tokens; `readsUsage`
 * whether usage is read from its answers (consuming routes, and unknown `/v1/*` paths that
 * may be generation endpoints the table does not know yet). A route with a `translation`
 * speaks the client's API over a different upstream dialect.
 */
export interface UpstreamRoute {
  kind: 'upstream';
  /** What the upstream speaks on this route: its base, path mapping, key, usage readers. */
  dialect: Dialect;
  label: RouteLabel;
  upstreamPath: string;
  consumes: boolean;
  readsUsage: boolean;
  translation?: Translation;
}

export type Route = UpstreamRoute | { kind: 'root' | 'health' | 'ready' | 'metrics' | 'quota' | 'admin-reset-rate-limit' } | { kind: 'not-found' };

export type RouteLabel = '/v1/chat/completions' | '/v1/responses' | '/v1/messages' | '/v1/messages/count_tokens' | '/v1/models' | 'other';

const LOCAL: Record<string, Route> = {
  '/': { kind: 'root' },
  '/health': { kind: 'health' },
  '/healthz': { kind: 'health' },
  '/ready': { kind: 'ready' },
  '/metrics': { kind: 'metrics' },
  '/quota': { kind: 'quota' },
  '/admin/reset-rate-limit': { kind: 'admin-reset-rate-limit' },
};

const route = (dialect: Dialect, label: RouteLabel, pathname: string, consumes: boolean, readsUsage = consumes): UpstreamRoute => ({
  kind: 'upstream',
  dialect,
  label,
  upstreamPath: dialect.upstreamPath(pathname),
  consumes,
  readsUsage,
});

/** A route whose client API is translated onto `upstreamPathname` of the translation's dialect. */
const translated = (translation: Translation, label: RouteLabel, upstreamPathname: string, consumes: boolean): UpstreamRoute => ({
  ...route(translation.upstream, label, upstreamPathname, consumes),
  translation,
});

const KNOWN: Record<string, UpstreamRoute> = {
  '/v1/chat/completions': route(openaiChat, '/v1/chat/completions', '/v1/chat/completions', true),
  '/v1/responses': translated(responsesOverChat, '/v1/responses', '/v1/chat/completions', true),
  '/v1/messages': route(anthropicMessages, '/v1/messages', '/v1/messages', true),
  '/v1/messages/count_tokens': route(anthropicMessages, '/v1/messages/count_tokens', '/v1/messages/count_tokens', false),
  '/v1/models': route(openaiChat, '/v1/models', '/v1/models', false),
};

/** Z.AI's Anthropic base has no model list: Anthropic clients get the OpenAI one, reshaped. */
const ANTHROPIC_MODELS = translated(anthropicModelList, '/v1/models', '/v1/models', false);

/**
 * Matches a request path (without the query string). `anthropicClient` (the request carries
 * `anthropic-version`) picks the Anthropic shape where a path exists in both APIs. Every
 * other `/v1/x` maps to `{openai base}/x`.
 */
export function matchRoute(pathname: string, anthropicClient = false): Route {
  const local = LOCAL[pathname];
  if (local) return local;
  if (anthropicClient && pathname === '/v1/models') return ANTHROPIC_MODELS;
  const known = KNOWN[pathname];
  if (known) return known;
  // An unknown endpoint may still spend tokens: its answer is read for usage, but never required to have any.
  if (pathname.startsWith('/v1/') && pathname.length > 4) return route(openaiChat, 'other', pathname, false, true);
  return { kind: 'not-found' };
}
