import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startSimulator, statusForCode, type Simulator, type SimFault } from '../../src/sim/index.js';
import { ZAI_ERROR_TABLE } from '../../src/zai/errors.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { pollUntil, freePort } from '../support/wait.js';

/**
 * The fault matrix: every upstream fault in both dialects, streaming and not. Each case pins
 * what the client sees, which counters move and by how much, that the proxy serves the same
 * request normally right after, and that requests in flight, the admission queue and the
 * upstream's open calls are all back at zero.
 */
const MAX_RETRIES = 1;
type Dialect = 'openai' | 'anthropic';
const DIALECTS: Dialect[] = ['openai', 'anthropic'];
const PATH: Record<Dialect, string> = { openai: '/v1/chat/completions', anthropic: '/v1/messages' };

/** What a client sees: the status, and for a 200 whether the body was whole, cut visibly (error event, aborted transfer) or neither. */
interface Seen {
  status: number;
  body: string;
  /** `whole`: a complete answer; `failed`: an error event and/or an aborted transfer; `error`: a non-200 answer. */
  shape: 'whole' | 'failed' | 'error' | 'incomplete';
  errorCode: string | undefined;
}

async function send(base: string, dialect: Dialect, stream: boolean, signal?: AbortSignal): Promise<Seen> {
  const res = await request(`${base}${PATH[dialect]}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'glm-4.7', max_tokens: 32, stream, messages: [{ role: 'user', content: 'hi' }] }),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
    ...(signal ? { signal } : {}),
  });
  let body = '';
  let aborted = false;
  try {
    for await (const c of res.body) body += (c as Buffer).toString('utf8');
  } catch {
    aborted = true;
  }
  const errorCode = res.headers['x-zai-error-code'] as string | undefined;
  if (res.statusCode !== 200) return { status: res.statusCode, body, shape: 'error', errorCode };
  const errorEvent = /^data: \{"error"|^event: error/m.test(body);
  if (aborted || errorEvent) {
    assert.ok(!stream || (aborted && errorEvent), `a failed stream carries an error event and is aborted: ${aborted} ${errorEvent} ${body.slice(-200)}`);
    return { status: 200, body, shape: 'failed', errorCode };
  }
  let whole: boolean;
  if (stream) whole = dialect === 'openai' ? body.includes('data: [DONE]') : body.includes('event: message_stop');
  else {
    try {
      const j = JSON.parse(body) as { choices?: unknown[]; content?: unknown[] };
      whole = (j.choices ?? j.content ?? []).length > 0;
    } catch {
      whole = false;
    }
  }
  return { status: 200, body, shape: whole ? 'whole' : 'incomplete', errorCode };
}

/** Every sample of the counters a fault moves, by label set. */
async function counters(proxy: TestProxy): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of await proxy.metrics.registry.getMetricsAsJSON()) {
    if (
      ![
        'zai_proxy_upstream_errors_total',
        'zai_proxy_zai_errors_total',
        'zai_proxy_retry_attempts_total',
        'zai_proxy_requests_total',
        'zai_proxy_client_disconnects_total',
      ].includes(m.name)
    )
      continue;
    for (const v of m.values) {
      const { variant: _v, route: _r, model: _m, method: _me, path: _p, ...labels } = v.labels as Record<string, string>;
      const key = `${m.name}${JSON.stringify(labels)}`;
      out.set(key, (out.get(key) ?? 0) + v.value);
    }
  }
  return out;
}
function deltas(a: Map<string, number>, b: Map<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of b) if (v - (a.get(k) ?? 0) !== 0) d[k] = v - (a.get(k) ?? 0);
  return d;
}

async function settled(proxy: TestProxy, sim: Simulator | undefined): Promise<void> {
  await pollUntil(
    async () => {
      const health = (await (await request(`${proxy.url}/health`)).body.json()) as { inFlight: number; limiter: { inFlight: number; queueDepth: number } };
      const gauges = (await proxy.metricsText()).match(/^zai_proxy_(concurrent_requests|queue_depth)\{[^}]*\} (\S+)/gm) ?? [];
      return (
        health.inFlight === 0 &&
        health.limiter.inFlight === 0 &&
        health.limiter.queueDepth === 0 &&
        gauges.every((g) => g.endsWith(' 0')) &&
        (!sim || sim.stats().inFlight === 0)
      );
    },
    'in flight, queue and upstream calls back at zero',
    15_000,
  );
}

interface Case {
  name: string;
  fault: SimFault;
  errorShape?: 'nested' | 'flat';
  /** Per streaming/non-streaming: what the client sees, and the counter deltas (route, model and variant labels left out). */
  expect: (stream: boolean) => { status: number; shape: Seen['shape']; errorCode?: string; deltas: Record<string, number> };
}

const codes = Object.keys(ZAI_ERROR_TABLE).map(Number);
const upstreamErrors = (type: string, n: number) => ({ [`zai_proxy_upstream_errors_total{"error_type":"${type}"}`]: n });
const retries = (reason: string) => ({ [`zai_proxy_retry_attempts_total{"reason":"${reason}"}`]: MAX_RETRIES });
const CASES: Case[] = [
  ...(['nested', 'flat'] as const).flatMap((errorShape) =>
    codes.map((code): Case => {
      const { class: cls, retry } = ZAI_ERROR_TABLE[String(code)]!;
      const attempts = retry ? MAX_RETRIES + 1 : 1;
      const status = statusForCode(code);
      return {
        name: `Z.AI ${code} (${cls}, ${errorShape} body)`,
        fault: { kind: 'zaiError', code, times: -1 },
        errorShape,
        expect: () => ({
          status,
          shape: 'error',
          errorCode: String(code),
          deltas: {
            [`zai_proxy_zai_errors_total{"class":"${cls}","code":"${code}"}`]: attempts,
            // Only answers worth retrying count as upstream errors; a refusal no retry fixes is relayed.
            ...(retry
              ? { [`zai_proxy_upstream_errors_total{"error_type":"${status}"}`]: attempts, [`zai_proxy_retry_attempts_total{"reason":"${cls}"}`]: MAX_RETRIES }
              : {}),
          },
        }),
      };
    }),
  ),
  ...[500, 502, 503, 504].map(
    (status): Case => ({
      name: `HTTP ${status} without a code`,
      fault: { kind: 'status', status, code: status, times: -1 },
      expect: () => ({ status, shape: 'error', deltas: { ...upstreamErrors(String(status), MAX_RETRIES + 1), ...retries('unknown') } }),
    }),
  ),
  {
    name: 'reset before headers',
    fault: { kind: 'resetBeforeHeaders', times: -1 },
    expect: () => ({ status: 502, shape: 'error', deltas: { ...upstreamErrors('upstream_connection', MAX_RETRIES + 1), ...retries('network_error') } }),
  },
  {
    name: 'reset mid-stream',
    fault: { kind: 'resetMidStream', afterChunks: 2, times: -1 },
    // Streaming: the chunks that came, then an error event and an aborted transfer; never retried once the client has bytes.
    expect: (s) =>
      s
        ? { status: 200, shape: 'failed', deltas: upstreamErrors('stream_aborted', 1) }
        : { status: 502, shape: 'error', deltas: { ...upstreamErrors('truncated_response', MAX_RETRIES + 1), ...retries('truncated_response') } },
  },
  {
    name: 'stall mid-stream',
    fault: { kind: 'stallMidStream', afterChunks: 2, times: -1 },
    expect: (s) =>
      s
        ? { status: 200, shape: 'failed', deltas: upstreamErrors('stream_aborted', 1) }
        : { status: 502, shape: 'error', deltas: { ...upstreamErrors('timeout', MAX_RETRIES + 1), ...retries('truncated_response') } },
  },
  {
    name: 'headers then silence',
    fault: { kind: 'headersThenSilence', times: -1 },
    // Each attempt ends at UPSTREAM_BODY_TIMEOUT, well inside REQUEST_TIMEOUT (deadline.test.ts has the 504 at the deadline).
    expect: (s) => ({
      status: 502,
      shape: 'error',
      deltas: { ...upstreamErrors('timeout', MAX_RETRIES + 1), ...retries(s ? 'empty_streaming' : 'truncated_response') },
    }),
  },
  {
    name: 'truncated JSON (a complete 200 whose JSON is cut in half)',
    fault: { kind: 'malformedJson', times: -1 },
    // Framed correctly, so the proxy relays what the upstream said: the client's JSON parse fails (visibly), nothing is retried.
    expect: () => ({ status: 200, shape: 'incomplete', deltas: {} }),
  },
  {
    name: 'truncated body (shorter than its content-length)',
    fault: { kind: 'truncated', times: -1 },
    expect: (s) =>
      s
        ? { status: 200, shape: 'failed', deltas: upstreamErrors('stream_aborted', 1) }
        : { status: 502, shape: 'error', deltas: { ...upstreamErrors('truncated_response', MAX_RETRIES + 1), ...retries('truncated_response') } },
  },
  {
    name: 'empty 200',
    fault: { kind: 'emptyBody', times: -1 },
    expect: (s) => ({
      status: 502,
      shape: 'error',
      deltas: { ...upstreamErrors(s ? 'empty_streaming' : 'truncated_response', MAX_RETRIES + 1), ...retries(s ? 'empty_streaming' : 'truncated_response') },
    }),
  },
  {
    name: 'malformed SSE that ends without its end event',
    fault: { kind: 'malformedSse', times: -1 },
    // Streaming: the upstream closes cleanly without [DONE]/message_stop, which is a cut all the same.
    expect: (s) =>
      s
        ? { status: 200, shape: 'failed', deltas: upstreamErrors('stream_aborted', 1) }
        : { status: 502, shape: 'error', deltas: { ...upstreamErrors('truncated_response', MAX_RETRIES + 1), ...retries('truncated_response') } },
  },
];

describe('fault matrix: every upstream fault, both dialects, streaming and not', () => {
  let sim: Simulator;
  let proxy: TestProxy;
  const observed: string[] = [];
  before(async () => {
    sim = await startSimulator({ scenario: { streamChunks: 6 } });
    proxy = await startTestProxy({
      ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl,
      ZAI_ANTHROPIC_BASE_URL: sim.anthropicBaseUrl,
      ZAI_API_KEY: 'matrix-operator-key.0123456789abcdef',
      MAX_RETRIES: String(MAX_RETRIES),
      RETRY_BASE_DELAY: '10ms',
      UPSTREAM_HEADERS_TIMEOUT: '1s',
      UPSTREAM_BODY_TIMEOUT: '400ms',
      REQUEST_TIMEOUT: '5s',
      // The limiter stays on (its gauges are checked) but opened wide, so 1302/1303 do not pace the cases.
      RATE_LIMIT_MIN: '500',
      RATE_LIMIT_INITIAL: '1000',
      RATE_LIMIT_MAX: '2000',
    });
  });
  after(async () => {
    if (process.env.MATRIX_PRINT) console.log(observed.join('\n'));
    await proxy.close();
    await sim.close();
  });

  for (const c of CASES) {
    for (const dialect of DIALECTS) {
      for (const stream of [false, true]) {
        it(`${c.name}: ${dialect}, ${stream ? 'streaming' : 'not streaming'}`, async () => {
          sim.setScenario({ errorShape: c.errorShape ?? 'nested', faults: [structuredClone(c.fault)] });
          const before = await counters(proxy);
          let seen: Seen;
          try {
            seen = await send(proxy.url, dialect, stream);
          } finally {
            sim.setScenario({ faults: [], errorShape: 'nested' });
          }
          await settled(proxy, sim);
          const d = deltas(before, await counters(proxy));
          observed.push(`${c.name} | ${dialect} ${stream} | ${seen.status} ${seen.shape} ${seen.errorCode ?? ''} | ${JSON.stringify(d)}`);
          const want = c.expect(stream);
          assert.deepEqual({ status: seen.status, shape: seen.shape }, { status: want.status, shape: want.shape }, seen.body.slice(0, 300));
          if (want.errorCode) assert.equal(seen.errorCode, want.errorCode);
          assert.equal(d[`zai_proxy_requests_total{"status_code":"${seen.status}"}`], 1, JSON.stringify(d));
          const { [`zai_proxy_requests_total{"status_code":"${seen.status}"}`]: _one, ...moved } = d;
          assert.deepEqual(moved, want.deltas, 'exactly these counters moved, by exactly this much');
          // And the same request is served normally right after.
          const next = await send(proxy.url, dialect, stream);
          assert.deepEqual({ status: next.status, shape: next.shape }, { status: 200, shape: 'whole' });
          await settled(proxy, sim);
        });
      }
    }
  }

  it('connection refused: 502 in both dialects, streaming and not, counted as a connect failure', async () => {
    const dead = await freePort();
    const lonely = await startTestProxy({
      ZAI_OPENAI_BASE_URL: `http://127.0.0.1:${dead}/api/paas/v4`,
      ZAI_ANTHROPIC_BASE_URL: `http://127.0.0.1:${dead}/api/anthropic`,
      MAX_RETRIES: String(MAX_RETRIES),
      RETRY_BASE_DELAY: '10ms',
      RATE_LIMIT_ENABLED: 'false',
    });
    try {
      for (const dialect of DIALECTS) {
        for (const stream of [false, true]) {
          const before = await counters(lonely);
          const seen = await send(lonely.url, dialect, stream);
          await settled(lonely, undefined);
          const d = deltas(before, await counters(lonely));
          observed.push(`connection refused | ${dialect} ${stream} | ${seen.status} ${seen.shape} | ${JSON.stringify(d)}`);
          assert.equal(seen.status, 502);
          assert.equal(d['zai_proxy_requests_total{"status_code":"502"}'], 1);
        }
      }
      const health = await request(`${lonely.url}/health`);
      assert.equal(health.statusCode, 200);
      await health.body.dump();
    } finally {
      await lonely.close();
    }
  });
});
