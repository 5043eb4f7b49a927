import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { errorBody, quotaExhaustedMessage, startSimulator, statusForCode, type Simulator } from '../../src/sim/index.js';
import { ZAI_ERROR_TABLE } from '../../src/zai/errors.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { metricValue } from '../support/metric-values.js';
import type { MetricName } from '../../src/metrics/catalogue.js';
import { pollUntil } from '../support/wait.js';

/**
 * Retry contracts, end to end: a real proxy in front of the simulator, upstream call counts
 * read from the simulator, exact counter values read from the proxy's registry. The rate
 * limiter is off here so the many refusals these tests provoke do not slow later tests down
 * (the limiter has its own end-to-end suite under test/limits).
 */
const KEY = 'zai-operator-key-e2e-retries-5b1d';
const MAX_RETRIES = 3;
const CHAT = '/api/paas/v4/chat/completions';

describe('retries through the live proxy', () => {
  let sim: Simulator;
  let proxy: TestProxy;

  before(async () => {
    sim = await startSimulator();
    proxy = await startProxyFor(sim, {
      ZAI_API_KEY: KEY,
      MAX_RETRIES: String(MAX_RETRIES),
      RETRY_BASE_DELAY: '10ms',
      RATE_LIMIT_ENABLED: 'false',
      LOG_LEVEL: 'debug',
    });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  const chat = (extra: Record<string, unknown> = {}, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    request(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'hello' }], ...extra }),
      signal,
    });

  /** Counter deltas across `fn`, for the counters named in `watch`. */
  async function counting<T>(watch: [MetricName, Record<string, string>][], fn: () => Promise<T>) {
    const start = await Promise.all(watch.map(([n, l]) => metricValue(proxy.metrics, n, l)));
    const result = await fn();
    const end = await Promise.all(watch.map(([n, l]) => metricValue(proxy.metrics, n, l)));
    return { result, deltas: end.map((v, i) => v - start[i]!) };
  }

  for (const code of ['1302', '1303', '1305', '1312'] as const) {
    const cls = ZAI_ERROR_TABLE[code]!.class;
    it(`retries ${code} (${cls}) up to MAX_RETRIES, then relays the last 429 with Retry-After`, async () => {
      sim.resetStats();
      sim.setScenario({ faults: [{ kind: 'zaiError', code: Number(code), times: -1 }] });
      try {
        const { result: res, deltas } = await counting(
          [
            ['zai_proxy_retry_attempts_total', { reason: cls }],
            ['zai_proxy_upstream_errors_total', { error_type: '429' }],
            ['zai_proxy_zai_errors_total', { class: cls, code }],
          ],
          async () => {
            const r = await chat();
            return { status: r.statusCode, headers: r.headers, body: await r.body.text() };
          },
        );
        assert.equal(res.status, 429);
        assert.equal(sim.stats().byRoute[CHAT], MAX_RETRIES + 1, 'one call plus MAX_RETRIES retries');
        assert.ok(Number(res.headers['retry-after']) >= 1, `Retry-After: ${String(res.headers['retry-after'])}`);
        assert.equal(res.headers['x-zai-error-code'], code);
        assert.equal(res.headers['x-zai-error-class'], cls);
        assert.equal(JSON.parse(res.body).error.code, code, 'the upstream body is relayed');
        assert.deepEqual(deltas, [MAX_RETRIES, MAX_RETRIES + 1, MAX_RETRIES + 1]);
      } finally {
        sim.setScenario({ faults: [] });
      }
    });
  }

  it('answers 200 when a retried 1303 clears, counting only the retries made', async () => {
    sim.resetStats();
    sim.setScenario({ faults: [{ kind: 'zaiError', code: 1303, times: 2 }] });
    const { result: status, deltas } = await counting(
      [
        ['zai_proxy_retry_attempts_total', { reason: 'frequency' }],
        ['zai_proxy_zai_errors_total', { class: 'frequency', code: '1303' }],
      ],
      async () => {
        const r = await chat();
        await r.body.text();
        return r.statusCode;
      },
    );
    assert.equal(status, 200);
    assert.equal(sim.stats().byRoute[CHAT], 3);
    assert.deepEqual(deltas, [2, 2]);
  });

  for (const code of [1308, 1310, 1113, 1301, 1313, 1211]) {
    const cls = ZAI_ERROR_TABLE[String(code)]?.class ?? 'unknown';
    it(`never retries ${code} (${cls}): exactly one upstream call, the answer relayed`, async () => {
      sim.resetStats();
      sim.setScenario({ faults: [{ kind: 'zaiError', code, times: -1 }] });
      try {
        const { result: res, deltas } = await counting(
          [
            ['zai_proxy_retry_attempts_total', {}],
            ['zai_proxy_zai_errors_total', { class: cls, code: String(code) }],
          ],
          async () => {
            const r = await chat();
            return { status: r.statusCode, headers: r.headers, body: await r.body.text() };
          },
        );
        assert.equal(sim.stats().byRoute[CHAT], 1);
        assert.equal(res.status, statusForCode(code));
        assert.equal(res.headers['x-zai-error-code'], String(code));
        assert.equal(res.headers['x-zai-error-class'], cls);
        if (res.status === 429) assert.ok(Number(res.headers['retry-after']) >= 1, 'every relayed 429 says when to come back');
        assert.deepEqual(deltas, [0, 1]);
      } finally {
        sim.setScenario({ faults: [] });
      }
    });
  }

  it('retries a connection reset before the headers, and gives 502 when it never clears', async () => {
    sim.resetStats();
    sim.setScenario({ faults: [{ kind: 'resetBeforeHeaders', times: 2 }] });
    const cleared = await counting(
      [
        ['zai_proxy_retry_attempts_total', { reason: 'network_error' }],
        ['zai_proxy_upstream_errors_total', { error_type: 'upstream_connection' }],
      ],
      async () => {
        const r = await chat();
        await r.body.text();
        return r.statusCode;
      },
    );
    assert.equal(cleared.result, 200);
    assert.equal(sim.stats().byRoute[CHAT], 3);
    assert.deepEqual(cleared.deltas, [2, 2]);

    sim.resetStats();
    sim.setScenario({ faults: [{ kind: 'resetBeforeHeaders', times: -1 }] });
    try {
      const r = await chat();
      const body = JSON.parse(await r.body.text());
      assert.equal(r.statusCode, 502);
      assert.equal(body.error.type, 'api_error');
      assert.equal(sim.stats().byRoute[CHAT], MAX_RETRIES + 1);
    } finally {
      sim.setScenario({ faults: [] });
    }
  });

  it('retries an empty 2xx body and a truncated one', async () => {
    for (const [fault, errorType] of [
      ['emptyBody', 'truncated_response'],
      ['truncated', 'truncated_response'],
    ] as const) {
      sim.resetStats();
      sim.setScenario({ faults: [{ kind: fault, times: 1 }] });
      const { result, deltas } = await counting(
        [
          ['zai_proxy_retry_attempts_total', { reason: errorType }],
          ['zai_proxy_upstream_errors_total', { error_type: errorType }],
        ],
        async () => {
          const r = await chat();
          return { status: r.statusCode, body: JSON.parse(await r.body.text()) as { choices: unknown[] } };
        },
      );
      assert.equal(result.status, 200, fault);
      assert.ok(result.body.choices.length > 0, `${fault}: the client gets the whole answer of the retry`);
      assert.equal(sim.stats().byRoute[CHAT], 2, fault);
      assert.deepEqual(deltas, [1, 1], fault);
    }
  });

  it('retries a stream that ends before its first byte (empty_streaming)', async () => {
    sim.resetStats();
    sim.setScenario({ faults: [{ kind: 'emptyBody', times: 1 }] });
    const { result, deltas } = await counting(
      [
        ['zai_proxy_retry_attempts_total', { reason: 'empty_streaming' }],
        ['zai_proxy_upstream_errors_total', { error_type: 'empty_streaming' }],
      ],
      async () => {
        const r = await chat({ stream: true });
        return { status: r.statusCode, text: await r.body.text() };
      },
    );
    assert.equal(result.status, 200);
    assert.ok(result.text.includes('data: [DONE]'));
    assert.equal(sim.stats().byRoute[CHAT], 2);
    assert.deepEqual(deltas, [1, 1]);
  });

  it('never retries once a stream has reached the client: a mid-stream reset is one call and the stream ends', async () => {
    sim.resetStats();
    sim.setScenario({ faults: [{ kind: 'resetMidStream', afterChunks: 2, times: -1 }] });
    try {
      const { result, deltas } = await counting(
        [
          ['zai_proxy_retry_attempts_total', {}],
          ['zai_proxy_upstream_errors_total', { error_type: 'stream_aborted' }],
        ],
        async () => {
          const r = await chat({ stream: true });
          let text = '';
          try {
            for await (const chunk of r.body) text += (chunk as Buffer).toString('utf8');
          } catch {
            // An abrupt end is as good as a clean one here: the point is that it ends.
          }
          return { status: r.statusCode, text };
        },
      );
      assert.equal(result.status, 200);
      assert.ok(result.text.includes('chat.completion.chunk'), 'the chunks sent before the reset reached the client');
      assert.ok(!result.text.includes('[DONE]'));
      assert.equal(sim.stats().byRoute[CHAT], 1);
      assert.deepEqual(deltas, [0, 1]);
    } finally {
      sim.setScenario({ faults: [] });
    }
  });

  it('stops retrying at once when the client disconnects during the backoff', async () => {
    sim.resetStats();
    // Retry-After 30 s puts the proxy in a long backoff the test can disconnect during.
    sim.setScenario({ faults: [{ kind: 'zaiError', code: 1303, times: -1, retryAfter: '30' }] });
    try {
      const retriesBefore = await metricValue(proxy.metrics, 'zai_proxy_retry_attempts_total');
      const errorsBefore = await metricValue(proxy.metrics, 'zai_proxy_upstream_errors_total', { error_type: '429' });
      const logMark = proxy.logs().length;
      const ac = new AbortController();
      const pending = chat({}, {}, ac.signal).then(
        () => 'answered',
        () => 'aborted',
      );
      // The failure is counted synchronously just before the pause starts.
      await pollUntil(
        async () => (await metricValue(proxy.metrics, 'zai_proxy_upstream_errors_total', { error_type: '429' })) === errorsBefore + 1,
        'first 429 counted',
      );
      ac.abort();
      assert.equal(await pending, 'aborted');
      await pollUntil(async () => proxy.logs().slice(logMark).includes('client left during retry backoff'), 'backoff abandoned');
      assert.equal(sim.stats().byRoute[CHAT], 1, 'no attempt after the client left');
      assert.equal(await metricValue(proxy.metrics, 'zai_proxy_retry_attempts_total'), retriesBefore, 'a retry never made is not counted');
    } finally {
      sim.setScenario({ faults: [] });
    }
  });

  it('does not retry when the wait would outlast the client (x-stainless-timeout): the upstream answer is relayed', async () => {
    sim.resetStats();
    sim.setScenario({ faults: [{ kind: 'zaiError', code: 1303, times: -1, retryAfter: '5' }] });
    try {
      const r = await chat({}, { 'x-stainless-timeout': '2' });
      await r.body.text();
      assert.equal(r.statusCode, 429);
      assert.equal(r.headers['retry-after'], '5', "the upstream's own Retry-After is passed on");
      assert.equal(sim.stats().byRoute[CHAT], 1);
    } finally {
      sim.setScenario({ faults: [] });
    }
  });

  describe('quota answers', () => {
    for (const shape of ['nested', 'flat'] as const) {
      for (const code of [1308, 1310] as const) {
        for (const path of ['/v1/chat/completions', '/v1/messages']) {
          it(`${code} (${shape} body) on ${path}: 429, Retry-After until the Beijing-time reset, X-Zai-* headers, body unchanged`, async () => {
            // Beijing-time text has whole seconds: pick a reset on a second boundary.
            const resetAt = Math.ceil((Date.now() + 3_600_000 + 1234) / 1000) * 1000;
            sim.resetStats();
            sim.setScenario({ quota: { exhausted: true, code, resetAt }, errorShape: shape });
            try {
              const r = await request(`${proxy.url}${path}`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ model: 'glm-4.7', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
              });
              const text = await r.body.text();
              const expectedSeconds = (resetAt - Date.now()) / 1000;
              assert.equal(r.statusCode, 429);
              assert.ok(
                Math.abs(Number(r.headers['retry-after']) - expectedSeconds) <= 1,
                `Retry-After ${String(r.headers['retry-after'])} vs ${expectedSeconds.toFixed(1)} s`,
              );
              assert.equal(r.headers['x-zai-error-class'], 'quota');
              assert.equal(r.headers['x-zai-error-code'], String(code));
              assert.equal(r.headers['x-zai-rate-limit-reset'], String(resetAt / 1000));
              assert.equal(text, errorBody(shape, code, quotaExhaustedMessage(code, resetAt)));
              assert.equal(sim.stats().requests, 1, 'a quota answer is never retried');
            } finally {
              sim.setScenario({ quota: { exhausted: false }, errorShape: 'nested' });
            }
          });
        }
      }
    }
  });
});
