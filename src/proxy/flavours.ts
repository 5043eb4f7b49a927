import type { Dialect } from '../accounting/usage.js';

/**
 * The two upstream API shapes, as data: how credentials travel and how errors the proxy
 * itself produces must look to a client of that shape. Handlers never branch on a flavour's
 * name; they read its description.
 */
export interface Flavour {
  readonly name: Dialect;
  /** Sets the operator's key on upstream headers the way this API expects it. */
  readonly injectKey: (headers: Record<string, string>, key: string) => void;
  /** The JSON error body a client of this API expects. */
  readonly errorBody: (e: { status: number; type: string; message: string; code?: string }) => string;
}

export const openaiFlavour: Flavour = {
  name: 'openai',
  injectKey: (headers, key) => {
    headers.authorization = `Bearer ${key}`;
  },
  errorBody: ({ type, message, code }) => JSON.stringify({ error: { message, type, code: code ?? type } }),
};

export const anthropicFlavour: Flavour = {
  name: 'anthropic',
  injectKey: (headers, key) => {
    headers['x-api-key'] = key;
  },
  errorBody: ({ type, message }) => JSON.stringify({ type: 'error', error: { type, message } }),
};
