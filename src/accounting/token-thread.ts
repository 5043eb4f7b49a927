import { parentPort } from 'node:worker_threads';
import { estimateTokens, warmTokenizer } from './estimate.js';

/**
 * The thread behind TokenCounter (token-counter.ts): counts every text it is sent with
 * estimateTokens, which takes turns and bounds its backlog as it would on any thread, and
 * answers with the count or the error's message.
 */
export interface CountRequest {
  id: number;
  text: string;
}

export interface CountAnswer {
  id: number;
  tokens?: number;
  error?: string;
}

const port = parentPort;
if (port) {
  port.on('message', ({ id, text }: CountRequest) => {
    estimateTokens(text).then(
      (tokens) => port.postMessage({ id, tokens } satisfies CountAnswer),
      (err: unknown) => port.postMessage({ id, error: err instanceof Error ? err.message : String(err) } satisfies CountAnswer),
    );
  });
  warmTokenizer();
}
