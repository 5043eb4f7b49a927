/**
 * The errors the simulator sends, in Z.AI's two body shapes (docs/zai.md, "Errors"): nested
 * `{"error":{"code":"1302","message":"…"}}` with a string code, or flat `{"code":1302,"msg":"…"}`.
 */

export type ErrorShape = 'nested' | 'flat';

/** HTTP status and message Z.AI pairs with each business code the simulator can send. */
const ZAI_CODES: Record<number, { status: number; message: string }> = {
  1000: { status: 401, message: 'Authentication failed' },
  1113: { status: 429, message: 'Insufficient balance or no resource package. Please recharge.' },
  1211: { status: 400, message: 'Model does not exist, please check the model code.' },
  1301: { status: 400, message: 'The system detected potentially unsafe or sensitive content in input or generation.' },
  1302: { status: 429, message: 'High concurrency usage of this API, please reduce concurrency or contact customer service to increase limits' },
  1303: { status: 429, message: 'High frequency usage of this API, please reduce frequency or contact customer service to increase limits' },
  1305: { status: 429, message: 'The service may be temporarily overloaded, please try again later' },
  1308: { status: 429, message: 'Usage limit reached for 5 hour.' },
  1310: { status: 429, message: 'Weekly/Monthly Limit Exhausted.' },
  1312: { status: 429, message: 'The model is currently experiencing high traffic. Please try again later.' },
  1313: { status: 429, message: 'Your account has violated the fair use policy of the Coding Plan.' },
};

export function statusForCode(code: number): number {
  return ZAI_CODES[code]?.status ?? (code >= 100 && code <= 599 ? code : 500);
}

export function messageForCode(code: number): string {
  return ZAI_CODES[code]?.message ?? 'Internal error';
}

export function errorBody(shape: ErrorShape, code: number, message: string): string {
  return shape === 'flat' ? JSON.stringify({ code, msg: message, success: false }) : JSON.stringify({ error: { code: String(code), message } });
}

const BEIJING_OFFSET_MS = 8 * 3_600_000;

/** `YYYY-MM-DD HH:MM:SS` in Beijing time (UTC+8), the wording of 1308/1310 messages. */
export function formatBeijingTime(epochMs: number): string {
  return new Date(epochMs + BEIJING_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

/** The 1308/1310 message, e.g. `Usage limit reached for 5 hour. Your limit will reset at 2026-08-01 13:00:00`. */
export function quotaExhaustedMessage(code: 1308 | 1310, resetAt: number): string {
  return `${messageForCode(code)} Your limit will reset at ${formatBeijingTime(resetAt)}`;
}
