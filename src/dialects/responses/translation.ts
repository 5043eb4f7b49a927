import { openaiChat } from '../openai-chat.js';
import type { Translation } from '../translation.js';
import { upstreamErrorFacts } from '../upstream-error.js';
import { chatRequestFromResponses, type ResponsesContext } from './request.js';
import { responseFromChat } from './response.js';
import { ResponsesStream } from './stream.js';

/**
 * The Responses API (`POST /v1/responses`, what Codex and `client.responses.create` speak)
 * over Z.AI's chat completions, which is all Z.AI offers. Errors keep the OpenAI shape the
 * Responses API uses too (`{"error": {message, type, param, code}}`); an upstream error's
 * Z.AI business code travels in `code`, so a client can still tell 1302 from 1308.
 */
export const responsesOverChat: Translation = {
  upstream: openaiChat,
  errorBody: ({ type, message, code }) => JSON.stringify({ error: { message, type, param: null, code: code ?? null } }),
  request: (json) => chatRequestFromResponses(json),
  response: (chat, context) => responseFromChat(chat, context as ResponsesContext),
  stream: (context) => new ResponsesStream(context as ResponsesContext),
  error: (status, body) => responsesOverChat.errorBody(upstreamErrorFacts(status, body)),
};
