// The thread behind TokenCounter (token-counter.ts): counts every text it is sent with
// estimateTokens, one large text at a time, and answers with the count or the error's
// message. It loads the tokenizer as it starts. What it is sent is bounded by the counter.
import { parentPort } from 'node:worker_threads';
import { estimateTokens, warmTokenizer } from './estimate.js';

/** A text to count, sent to the thread. */
export interface CountRequest {
  id: number;
  text: string;
}

/** The thread's answer to the request with the same id: its count, or why there is none. */
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
