import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorBody, messageForCode, quotaExhaustedMessage, statusForCode } from './errors.js';
import { ChunkGate, SlidingWindowCeiling } from './limits.js';
import { quotaBody } from './quota.js';
import {
  MODELS_BODY,
  anthropicMessageBody,
  anthropicStreamEvents,
  openaiCompletionBody,
  openaiStreamEvents,
  type CompletionSpec,
  type StreamEvent,
} from './responses.js';
import { SCENARIO_DEFAULTS, ScenarioError, mergeScenario, parseScenarioPatch, type SimFault, type SimScenario } from './scenario.js';
import { StatsBook, type SimStats } from './stats.js';
import { QUOTA_PATH } from '../quota/poller.js';
import { listen } from '../lib/listen.js';
import { keyEchoAnswer, silentUntilClosed } from './hostile.js';
import { agentTurn, knownModel, promptTokensFor } from './agent.js';

export interface Simulator {
  url: string;
  openaiBaseUrl: string;
  anthropicBaseUrl: string;
  quotaBaseUrl: string;
  setScenario(patch: Partial<SimScenario>): void;
  resetScenario(): void;
  scenario(): SimScenario;
  stats(): SimStats;
  resetStats(): void;
  waitFor(predicate: (s: SimStats) => boolean, timeoutMs?: number): Promise<SimStats>;
  releaseChunk(n?: number): void;
  close(): Promise<void>;
}

export interface SimulatorOptions {
  port?: number;
  host?: string;
  scenario?: Partial<SimScenario>;
  /** Clock for the rate ceiling, quota resets and `created` stamps (default Date.now). */
  now?: () => number;
}

type Flavour = 'openai' | 'anthropic';

const JSON_TYPE = 'application/json';
const OPENAI_PREFIXES = ['/api/paas/v4', '/api/coding/paas/v4'];
const ANTHROPIC_PREFIX = '/api/anthropic';
const DEFAULT_RATE_WINDOW_MS = 1000;
const DEFAULT_QUOTA_RESET_MS = 5 * 3_600_000;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The credential a request carries, whichever header it came in. */
function presentedKey(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth) return auth.startsWith('Bearer ') ? auth.slice(7).trim() : auth.trim();
  const x = req.headers['x-api-key'];
  return typeof x === 'string' ? x : undefined;
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const now = opts.now ?? Date.now;
  const initial = opts.scenario ? mergeScenario({}, parseScenarioPatch(opts.scenario).set) : {};
  let scenario: SimScenario = mergeScenario({}, initial);
  const book = new StatsBook();
  const ceiling = new SlidingWindowCeiling();
  const gate = new ChunkGate();
  const sockets = new Set<Socket>();
  let nextId = 0;

  const setScenario = (patch: Partial<SimScenario>) => {
    const parsed = parseScenarioPatch(patch);
    scenario = mergeScenario(scenario, parsed.set, parsed.unset);
    // Ungating lets held streams finish and forgets spare credits, so no release leaks into
    // the next gated test.
    if (scenario.gateChunks !== true) gate.drain();
  };
  const resetScenario = () => {
    scenario = mergeScenario({}, initial);
    ceiling.reset();
    if (scenario.gateChunks !== true) gate.drain();
  };

  function sendError(res: ServerResponse, status: number, code: number, message: string, extra?: Record<string, string>): void {
    const body = errorBody(scenario.errorShape ?? SCENARIO_DEFAULTS.errorShape, code, message);
    res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body), ...extra });
    res.end(body);
  }

  function sendJson(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  function authorised(req: IncomingMessage, res: ServerResponse): boolean {
    const required = scenario.requiredKey;
    if (required === undefined || presentedKey(req) === required) return true;
    book.outcome('401');
    sendError(res, 401, 1000, messageForCode(1000));
    return false;
  }

  /** The first fault with uses left fires and is consumed (`times: -1` never runs out). */
  function takeFault(): SimFault | undefined {
    const faults = scenario.faults;
    if (!faults || faults.length === 0) return undefined;
    const i = faults.findIndex((f) => (f.times ?? 1) !== 0);
    if (i < 0) return undefined;
    const fault = faults[i]!;
    const times = fault.times ?? 1;
    if (times > 0) {
      if (times === 1) faults.splice(i, 1);
      else fault.times = times - 1;
    }
    return fault;
  }

  /** Rejections in order of precedence: auth, quota, rate, concurrency. */
  function rejected(res: ServerResponse): boolean {
    const q = scenario.quota;
    if (q?.exhausted) {
      const code = q.code ?? 1308;
      book.outcome(String(code));
      sendError(res, 429, code, quotaExhaustedMessage(code, q.resetAt ?? now() + DEFAULT_QUOTA_RESET_MS));
      return true;
    }
    const w = scenario.quotaWindow;
    if (w && (w.usedTokens ?? 0) >= w.budgetTokens) {
      book.outcome('1308');
      sendError(res, 429, 1308, quotaExhaustedMessage(1308, w.resetAt));
      return true;
    }
    const r = scenario.rateLimit;
    if (r && !ceiling.tryAdmit(now(), r.rps, r.windowMs ?? DEFAULT_RATE_WINDOW_MS)) {
      book.outcome('1303');
      sendError(res, 429, 1303, messageForCode(1303));
      return true;
    }
    const c = scenario.concurrencyLimit;
    if (c !== undefined && book.current.inFlight >= c) {
      book.outcome('1302');
      sendError(res, 429, 1302, messageForCode(1302));
      return true;
    }
    return false;
  }

  function consumeQuota(spec: CompletionSpec): void {
    const w = scenario.quotaWindow;
    if (w) w.usedTokens = (w.usedTokens ?? 0) + spec.promptTokens + spec.outputTokens;
  }

  /** Z.AI answers a model it does not know with 400 / 1211 before anything else happens. */
  function unknownModel(res: ServerResponse, body: unknown): boolean {
    if (knownModel((body as { model?: unknown } | undefined)?.model)) return false;
    book.outcome('1211');
    sendError(res, 400, 1211, messageForCode(1211));
    return true;
  }

  async function generation(flavour: Flavour, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    if (!authorised(req, res) || unknownModel(res, body) || rejected(res)) return;

    const stats = book.current;
    stats.inFlight++;
    if (stats.inFlight > stats.maxInFlight) stats.maxInFlight = stats.inFlight;
    book.changed();
    // Created only when something waits (streams, slow faults): the plain JSON path stays cheap.
    let abort: AbortController | undefined;
    let closed = false;
    let selfDestroyed = false;
    res.once('close', () => {
      closed = true;
      book.current.inFlight--;
      if (!res.writableFinished && !selfDestroyed) book.current.clientAborts++;
      abort?.abort();
      book.changed();
    });
    const signal = () => {
      abort ??= new AbortController();
      if (closed) abort.abort();
      return abort.signal;
    };
    const destroy = () => {
      selfDestroyed = true;
      // Let what was already written reach the kernel first: destroy() alone drops it, and a
      // mid-stream reset must deliver the chunks before the cut.
      const socket = req.socket;
      socket.write('', () => socket.destroy());
    };

    const request = (body ?? {}) as Record<string, unknown>;
    const stream = request.stream === true;
    const turn = agentTurn(request, {
      outputTokens: scenario.outputTokens ?? SCENARIO_DEFAULTS.outputTokens,
      reasoning: scenario.reasoning === true,
      toolUse: scenario.toolUse ?? 'auto',
      nextScripted: () => scenario.toolCalls?.shift(),
      callId: () => (flavour === 'openai' ? `call_sim_${++nextId}` : `toolu_sim_${++nextId}`),
    });
    const chunksWanted = scenario.streamChunks ?? SCENARIO_DEFAULTS.streamChunks;
    const spec: CompletionSpec = {
      id: flavour === 'openai' ? `chatcmpl-sim-${++nextId}` : `msg_sim_${++nextId}`,
      created: Math.floor(now() / 1000),
      model: typeof request.model === 'string' ? request.model : 'glm-4.7',
      promptTokens: promptTokensFor(body),
      outputTokens: turn.outputTokens,
      cachedTokens: scenario.cachedTokens ?? SCENARIO_DEFAULTS.cachedTokens,
      cacheCreationTokens: scenario.cacheCreationTokens ?? SCENARIO_DEFAULTS.cacheCreationTokens,
      chunks: turn.stop === 'max_tokens' ? Math.min(chunksWanted, turn.outputTokens) : chunksWanted,
      reasoning: turn.thinking,
      streamUsage: scenario.streamUsage ?? SCENARIO_DEFAULTS.streamUsage,
      ...(turn.toolCall ? { toolCall: turn.toolCall } : {}),
      stop: turn.stop,
    };
    const whole = () =>
      stream
        ? (flavour === 'openai' ? openaiStreamEvents(spec) : anthropicStreamEvents(spec)).map((e) => e.text).join('')
        : flavour === 'openai'
          ? openaiCompletionBody(spec)
          : anthropicMessageBody(spec);
    const contentType = stream ? 'text/event-stream' : JSON_TYPE;

    let fault = takeFault();
    if (fault) book.outcome(`fault:${fault.kind}`);
    try {
      if (fault?.kind === 'slowFirstByte') {
        await sleep(fault.delayMs, undefined, { signal: signal() });
        fault = undefined;
      }
      switch (fault?.kind) {
        case undefined:
          break;
        case 'status':
          return sendError(res, fault.status, fault.code ?? fault.status, messageForCode(fault.code ?? fault.status));
        case 'zaiError': {
          const status = fault.status ?? statusForCode(fault.code);
          const resetAt = now() + DEFAULT_QUOTA_RESET_MS;
          const message = fault.code === 1308 || fault.code === 1310 ? quotaExhaustedMessage(fault.code, resetAt) : messageForCode(fault.code);
          return sendError(res, status, fault.code, message, fault.retryAfter ? { 'retry-after': fault.retryAfter } : undefined);
        }
        case 'resetBeforeHeaders':
          return destroy();
        case 'emptyBody':
          res.writeHead(200, { 'content-type': contentType, 'content-length': 0 });
          return void res.end();
        case 'malformedJson': {
          // A complete 200 whose JSON is cut in half (on a stream request too: the body is JSON-ish garbage).
          const full = whole();
          return sendJson(res, 200, full.slice(0, Math.floor(full.length / 2)));
        }
        case 'truncated': {
          const full = Buffer.from(whole());
          res.writeHead(200, { 'content-type': contentType, 'content-length': full.length });
          res.write(full.subarray(0, Math.floor(full.length / 2)));
          return destroy();
        }
        case 'headersThenSilence':
          res.writeHead(200, { 'content-type': contentType });
          res.flushHeaders();
          return silentUntilClosed(signal());
        case 'echoKey': {
          const echo = keyEchoAnswer(presentedKey(req));
          res.writeHead(echo.status, echo.headers);
          return void res.end(echo.body);
        }
        case 'resetMidStream':
        case 'stallMidStream':
        case 'malformedSse':
          if (!stream) {
            const full = Buffer.from(whole());
            res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': full.length });
            res.write(full.subarray(0, Math.floor(full.length / 2)));
            return fault.kind === 'stallMidStream' ? silentUntilClosed(signal()) : destroy();
          }
          break;
      }

      if (!stream) {
        const text = whole();
        consumeQuota(spec);
        book.outcome('ok');
        return sendJson(res, 200, text);
      }
      const events = flavour === 'openai' ? openaiStreamEvents(spec) : anthropicStreamEvents(spec);
      await writeStream(res, events, signal(), fault, destroy);
      if (res.writableEnded) {
        consumeQuota(spec);
        if (!fault) book.outcome('ok');
      }
    } catch (err) {
      if (!isAbort(err)) throw err;
    }
  }

  async function writeStream(res: ServerResponse, events: StreamEvent[], signal: AbortSignal, fault: SimFault | undefined, destroy: () => void): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const interval = scenario.chunkIntervalMs ?? SCENARIO_DEFAULTS.chunkIntervalMs;
    const gated = scenario.gateChunks === true;
    let written = 0;
    for (const ev of events) {
      if (signal.aborted) return;
      if (ev.delta) {
        if (written > 0 && interval > 0) await sleep(interval, undefined, { signal });
        if (gated) {
          const ticket = gate.acquire();
          signal.addEventListener('abort', ticket.abandon, { once: true });
          await ticket.ready;
          signal.removeEventListener('abort', ticket.abandon);
          if (signal.aborted) return;
        }
        if (fault?.kind === 'resetMidStream' && written === fault.afterChunks) return destroy();
        if (fault?.kind === 'stallMidStream' && written === fault.afterChunks) return silentUntilClosed(signal);
        if (fault?.kind === 'malformedSse' && written === 1) {
          // A cut event, then lines that are not SSE at all, then the stream just ends.
          res.write('data: {"id":"cut","choices":[{"delta":{"content":"brok\n\n');
          res.write('this is not an event\n:::\n\n');
          return void res.end();
        }
      }
      res.write(ev.text);
      if (ev.delta) {
        written++;
        book.current.chunksSent++;
        book.changed();
      }
    }
    res.end();
  }

  async function control(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/_sim/scenario' && method === 'GET') return sendJson(res, 200, JSON.stringify(scenario));
    if (path === '/_sim/scenario' && (method === 'PUT' || method === 'PATCH')) {
      const raw = parseJson(await readBody(req));
      try {
        const parsed = parseScenarioPatch(raw);
        scenario = mergeScenario(scenario, parsed.set, parsed.unset);
      } catch (err) {
        if (err instanceof ScenarioError) return sendJson(res, 400, JSON.stringify({ error: err.message }));
        throw err;
      }
      return sendJson(res, 200, JSON.stringify(scenario));
    }
    if (path === '/_sim/reset' && method === 'POST') {
      resetScenario();
      book.reset();
      return sendJson(res, 200, '{"ok":true}');
    }
    if (path === '/_sim/stats' && method === 'GET') return sendJson(res, 200, JSON.stringify(book.view()));
    if (path === '/_sim/stats/reset' && method === 'POST') {
      book.reset();
      return sendJson(res, 200, '{"ok":true}');
    }
    if (path === '/_sim/release' && method === 'POST') {
      const n = Number(new URLSearchParams(query).get('n') ?? '1');
      if (!Number.isInteger(n) || n < 1 || n > 1_000_000) return sendJson(res, 400, '{"error":"n must be a positive integer"}');
      gate.release(n);
      return sendJson(res, 200, JSON.stringify({ released: n }));
    }
    return sendJson(res, 404, '{"error":"unknown control path"}');
  }

  function record(req: IncomingMessage, path: string, query: string): void {
    const s = book.current;
    s.requests++;
    book.bump(s.byRoute, path);
    s.lastQuery = query;
    book.headers(path, req.rawHeaders);
    book.changed();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    if (path.startsWith('/_sim/')) return control(req, res, path, query);

    record(req, path, query);
    const method = req.method ?? 'GET';
    const text = method === 'GET' || method === 'HEAD' ? '' : await readBody(req);
    const body = parseJson(text);
    if (text.length > 0) book.current.lastBody = body;

    for (const prefix of OPENAI_PREFIXES) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      if (rest === '/chat/completions' && method === 'POST') return generation('openai', req, res, body);
      if (rest === '/models' && method === 'GET') {
        if (!authorised(req, res)) return;
        book.outcome('ok');
        return sendJson(res, 200, MODELS_BODY);
      }
    }
    if (path === `${ANTHROPIC_PREFIX}/v1/messages` && method === 'POST') return generation('anthropic', req, res, body);
    if (path === `${ANTHROPIC_PREFIX}/v1/messages/count_tokens` && method === 'POST') {
      if (!authorised(req, res) || unknownModel(res, body)) return;
      book.outcome('ok');
      return sendJson(res, 200, `{"input_tokens":${promptTokensFor(body)}}`);
    }
    if (path === QUOTA_PATH && method === 'GET') return quota(req, res);
    book.outcome('404');
    return sendError(res, 404, 404, `Not Found: ${method} ${path}`.slice(0, 200));
  }

  function quota(req: IncomingMessage, res: ServerResponse): void {
    if (!req.headers.authorization) {
      book.outcome('401');
      return sendError(res, 401, 1000, messageForCode(1000));
    }
    if (!authorised(req, res)) return;
    const override = scenario.quotaResponse;
    book.outcome('ok');
    if (override?.status !== undefined || override?.body !== undefined) {
      const body = override.body ?? quotaBody(scenario);
      res.writeHead(override.status ?? 200, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
      return void res.end(body);
    }
    return sendJson(res, 200, quotaBody(scenario));
  }

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    handle(req, res).catch(() => {
      // A bug here must not kill the test process; answer 500 if we still can.
      if (!res.headersSent) sendError(res, 500, 500, 'simulator internal error');
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const url = await listen(server, opts.port ?? 0, opts.host ?? '127.0.0.1');

  return {
    url,
    openaiBaseUrl: `${url}/api/paas/v4`,
    anthropicBaseUrl: `${url}/api/anthropic`,
    quotaBaseUrl: url,
    setScenario,
    resetScenario,
    scenario: () => structuredClone(scenario),
    stats: () => book.snapshot(),
    resetStats: () => book.reset(),
    waitFor: (predicate, timeoutMs) => book.waitFor(predicate, timeoutMs),
    releaseChunk: (n = 1) => gate.release(n),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        gate.drain();
      }),
  };
}
