import { anthropicMessages } from './anthropic-messages.js';
import { openaiChat } from './openai-chat.js';
import type { Translation } from './translation.js';
import { upstreamErrorFacts } from './upstream-error.js';
import { isRecord } from '../lib/json.js';

/**
 * `GET /v1/models` for Anthropic clients (they send `anthropic-version`): Z.AI lists models
 * only on its OpenAI base, so the OpenAI list is fetched and reshaped into Anthropic's
 * `{data: [{type: "model", id, display_name, created_at}], has_more, first_id, last_id}`.
 * The whole list fits one page, so paging parameters have nothing to do.
 */
export const anthropicModelList: Translation = {
  upstream: openaiChat,
  method: 'GET',
  errorBody: anthropicMessages.errorBody,
  request: () => ({}),
  response: (upstream) => {
    const listed = isRecord(upstream) && Array.isArray(upstream.data) ? upstream.data : [];
    const data = listed
      .filter((m): m is Record<string, unknown> => isRecord(m) && typeof m.id === 'string')
      .map((m) => ({
        type: 'model',
        id: m.id as string,
        display_name: displayName(m.id as string),
        created_at: new Date(typeof m.created === 'number' ? m.created * 1000 : 0).toISOString(),
      }));
    return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  },
  error: (status, body) => anthropicMessages.errorBody(upstreamErrorFacts(status, body)),
};

/** `glm-4.5-air` → `GLM-4.5-Air`: the id in the capitalisation Z.AI uses in prose. */
function displayName(id: string): string {
  return id
    .split('-')
    .map((part, i) => (i === 0 ? part.toUpperCase() : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('-');
}
