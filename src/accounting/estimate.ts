import { createRequire } from 'node:module';
import { isRecord } from '../lib/json.js';

/**
 * Local token estimate, used only when the upstream reports no usage. cl100k_base BPE from
 * gpt-tokenizer: of the npm candidates it was the fastest on prose, JSON and code and the
 * quickest to load (bench/tokenizers.ts; figures in README.md). GLM's own tokenizer is not on
 * npm, so this is an estimate and is labelled as one (usage source `estimated`).
 *
 * The tokenizer (about 40 MB) is loaded on the first estimate. The proxy estimates on a thread
 * of its own (token-counter.ts), so the tokenizer never enters the heap that relays requests.
 */

type CountTokens = (text: string) => number;

const require = createRequire(import.meta.url);
let counter: CountTokens | undefined;

function tokenizer(): CountTokens {
  if (counter) return counter;
  // The CommonJS build loads synchronously, which estimateTokensSync needs.
  const m = require('gpt-tokenizer/cjs/encoding/cl100k_base') as {
    countTokens(text: string, opts: { disallowedSpecial: Set<string> }): number;
  };
  // Special-token text such as "<|endoftext|>" in a prompt is ordinary text here, not an error.
  const opts = { disallowedSpecial: new Set<string>() };
  counter = (text) => m.countTokens(text, opts);
  return counter;
}

/** Loads the tokenizer now (a one-off stall of ~150 ms) so that the first estimate does not. */
export function warmTokenizer(): void {
  tokenizer();
}

/** Texts up to this size are counted in one go (a few ms at most). */
export const SYNC_MAX_CHARS = 16 * 1024;
/** Larger texts are counted in slices of about this size… */
export const SLICE_CHARS = 4 * 1024;
/** …and the loop is given back once this much time went into counting since the last yield. */
export const YIELD_EVERY_MS = 4;
/** How far back from a slice end to look for whitespace to cut at, so words stay whole. */
const CUT_WINDOW = 256;

/**
 * BPE merges within one pre-token cost quadratic time: measured, 16 K spaces or letters in one
 * run take 200–330 ms, while 16 KiB of ordinary text takes ~2 ms. A client can send such runs
 * (padding, minified or CJK text without punctuation), so runs longer than this are counted in
 * pieces of this length. That changes the count by at most a token per piece boundary.
 */
export const MAX_RUN_CHARS = 64;
/** Longest run one match takes: a longer run is matched again where this one stops (an unbounded match of megabytes overflows the regex stack). */
const RUN_MATCH_MAX = 16_384;
const RUN = `{${MAX_RUN_CHARS},${RUN_MATCH_MAX}}`;
const LONG_RUN = new RegExp(`[\\p{L}\\p{M}]${RUN}|[^\\s\\p{L}\\p{M}\\p{N}]${RUN}|\\s${RUN}`, 'gu');

/** Whether `text` holds a run LONG_RUN would cut (the regex, for tests of the pre-check). */
export function hasLongRun(text: string): boolean {
  LONG_RUN.lastIndex = 0;
  const found = LONG_RUN.test(text);
  LONG_RUN.lastIndex = 0;
  return found;
}

/**
 * A cheap over-approximation of hasLongRun: false means no run of MAX_RUN_CHARS exists, so
 * the text is counted whole without the regex (which costs more than the counting on prose).
 * Every run LONG_RUN can match lies inside a stretch of non-ASCII-whitespace characters (letters,
 * marks, symbols) or of ASCII whitespace and non-ASCII characters (any \s run): both are
 * measured in one pass over the char codes.
 */
export function mayHaveLongRun(text: string): boolean {
  let solid = 0;
  let spacey = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) {
      solid = 0;
      spacey++;
    } else if (c < 0x80) {
      solid++;
      spacey = 0;
    } else {
      solid++;
      spacey++;
    }
    if (solid >= MAX_RUN_CHARS || spacey >= MAX_RUN_CHARS) return true;
  }
  return false;
}

function countBounded(count: CountTokens, text: string): number {
  if (!mayHaveLongRun(text)) return count(text);
  let total = 0;
  let last = 0;
  for (const m of text.matchAll(LONG_RUN)) {
    const at = m.index;
    if (at > last) total += count(text.slice(last, at));
    const runEnd = at + m[0].length;
    for (let p = at; p < runEnd; ) {
      let end = Math.min(p + MAX_RUN_CHARS, runEnd);
      const c = text.charCodeAt(end);
      if (end < runEnd && c >= 0xdc00 && c <= 0xdfff) end++; // keep a surrogate pair whole
      total += count(text.slice(p, end));
      p = end;
    }
    last = runEnd;
  }
  return last === 0 ? count(text) : total + (last < text.length ? count(text.slice(last)) : 0);
}

/** Counts a small text (up to SYNC_MAX_CHARS) at once: a few milliseconds at most. */
export function estimateTokensSync(text: string): number {
  return text.length === 0 ? 0 : countBounded(tokenizer(), text);
}

/** Where to end the slice that starts at `start`: at whitespace, never inside a surrogate pair. */
export function sliceEnd(text: string, start: number, size = SLICE_CHARS): number {
  const hard = start + size;
  if (hard >= text.length) return text.length;
  for (let i = hard; i > hard - CUT_WINDOW && i > start; i--) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a) return i;
  }
  const c = text.charCodeAt(hard);
  return c >= 0xdc00 && c <= 0xdfff ? hard + 1 : hard;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Counts any text without holding the event loop: small slices, and a setImmediate whenever
 * counting has taken YIELD_EVERY_MS since the last one, so other requests' I/O runs every few
 * milliseconds whatever the text (code counts ~3× slower than prose). Measured on a 1 MB
 * prompt: see README.md. Cutting at whitespace changes the count by a few tokens per MB.
 */
export function estimateTokens(text: string, opts: EstimateOptions = {}): Promise<number> {
  if (text.length <= SYNC_MAX_CHARS) return Promise.resolve(estimateTokensSync(text));
  // One large text at a time: estimates that ran side by side would each take their slice
  // in the same turn of the loop, and together hold it for their sum. When more text waits
  // than the proxy counts in about a second, a new one is approximated from its size instead:
  // under that load counting it would only hold the loop for everyone.
  if (queuedChars + text.length > (opts.queueMaxChars ?? QUEUE_MAX_CHARS)) return Promise.resolve(approximateTokens(text));
  const now = opts.now ?? performance.now.bind(performance);
  queuedChars += text.length;
  const done = () => void (queuedChars -= text.length);
  const counted = largeQueue.then(() => countInSlices(text, now));
  largeQueue = counted.then(done, done);
  return counted;
}

export interface EstimateOptions {
  /** The clock slices are timed by (tests drive it). */
  now?: () => number;
  /** Characters of large texts that may wait for their turn (QUEUE_MAX_CHARS). */
  queueMaxChars?: number;
}

/** About a second of counting on this class of machine (~20 ms per 1 MB of prose), ~2 bytes a character in memory. */
export const QUEUE_MAX_CHARS = 32 * 1024 * 1024;
/** cl100k averages about four bytes of English text per token (fewer for CJK, more for code). */
const BYTES_PER_TOKEN = 4;
let queuedChars = 0;
let largeQueue: Promise<void> = Promise.resolve();

/** A size-based guess, for a text the proxy has no time to count. */
export function approximateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / BYTES_PER_TOKEN);
}

async function countInSlices(text: string, now: () => number): Promise<number> {
  let total = 0;
  let since = now();
  for (let start = 0; start < text.length; ) {
    const end = sliceEnd(text, start);
    total += estimateTokensSync(text.slice(start, end));
    start = end;
    if (start < text.length && now() - since >= YIELD_EVERY_MS) {
      await yieldToLoop();
      since = now();
    }
  }
  return total;
}

// ---- what counts as prompt ------------------------------------------------------------

type Json = Record<string, unknown>;
/** Bounds recursion into nested tool results, so a hostile body cannot blow the stack. */
const MAX_DEPTH = 16;

function pushString(out: string[], v: unknown): void {
  if (typeof v === 'string' && v.length > 0) out.push(v);
}

function pushJson(out: string[], v: unknown): void {
  if (v === undefined || v === null) return;
  if (typeof v === 'string') pushString(out, v);
  else out.push(JSON.stringify(v));
}

/** A content value: a string, or an array of blocks/parts in either dialect. */
function pushContent(out: string[], content: unknown, depth: number): void {
  if (typeof content === 'string') return pushString(out, content);
  if (!Array.isArray(content) || depth > MAX_DEPTH) return;
  for (const block of content) {
    if (typeof block === 'string') pushString(out, block);
    else if (isRecord(block)) pushBlock(out, block, depth + 1);
  }
}

function pushBlock(out: string[], b: Json, depth: number): void {
  switch (b.type) {
    // Images and other binary attachments: their base64 is not text tokens.
    case 'image':
    case 'image_url':
    case 'input_image':
    case 'input_audio':
    case 'redacted_thinking':
      return;
    case 'tool_use':
    case 'server_tool_use':
      pushString(out, b.name);
      pushJson(out, b.input);
      return;
    case 'tool_result':
      pushContent(out, b.content, depth);
      return;
    case 'thinking':
      pushString(out, b.thinking);
      return;
    case 'document':
      // Text documents count; base64 PDFs do not.
      if (isRecord(b.source) && b.source.type === 'text') pushString(out, b.source.data);
      else if (isRecord(b.source) && b.source.type === 'content') pushContent(out, b.source.content, depth);
      pushString(out, b.title);
      pushString(out, b.context);
      return;
    default:
      pushString(out, b.text);
  }
}

function pushMessages(out: string[], messages: unknown): void {
  if (!Array.isArray(messages)) return;
  for (const m of messages) {
    if (!isRecord(m)) continue;
    // The role is sent too and costs a token or so per message.
    pushString(out, m.role);
    pushString(out, m.name);
    pushContent(out, m.content, 0);
    pushString(out, m.reasoning_content);
    if (Array.isArray(m.tool_calls)) {
      for (const call of m.tool_calls) {
        if (!isRecord(call) || !isRecord(call.function)) continue;
        pushString(out, call.function.name);
        pushJson(out, call.function.arguments);
      }
    }
    if (isRecord(m.function_call)) {
      pushString(out, m.function_call.name);
      pushJson(out, m.function_call.arguments);
    }
  }
}

function pushTools(out: string[], tools: unknown): void {
  if (!Array.isArray(tools)) return;
  for (const t of tools) {
    if (!isRecord(t)) continue;
    // OpenAI nests the definition under `function`; Anthropic and legacy `functions` do not.
    const def = isRecord(t.function) ? t.function : t;
    pushString(out, def.name);
    pushString(out, def.description);
    pushJson(out, def.input_schema ?? def.parameters);
  }
}

/**
 * Everything a request sends as prompt, as one text to count: system (string or blocks),
 * messages (strings or blocks: text, tool_use input, tool_result content, thinking), tool
 * definitions (name, description, JSON schema), OpenAI tool_calls/function arguments. Image
 * and other binary payloads are left out. Block shapes of both dialects are recognised in
 * either, because clients mix them; a top-level `system` exists only in Anthropic requests.
 */
export function promptText(request: unknown): string {
  if (!isRecord(request)) return '';
  const out: string[] = [];
  pushContent(out, request.system, 0);
  pushMessages(out, request.messages);
  pushTools(out, request.tools);
  pushTools(out, request.functions);
  return out.join('\n');
}
