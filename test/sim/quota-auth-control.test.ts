import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { request } from 'undici';
import { SimTimeoutError, promptTokensFor, startSimulator, type Simulator } from '../../src/sim/index.js';
import { MESSAGES, get, post } from './support.js';

const QUOTA = '/api/monitor/usage/quota/limit';

/** Reads `YYYY-MM-DD HH:MM:SS` as Beijing time (UTC+8) back into epoch ms, as a proxy must. */
function parseBeijingReset(message: string): number {
  const m = /reset at (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)/.exec(message);
  assert.ok(m, `no reset time in ${JSON.stringify(message)}`);
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) - 8 * 3_600_000;
}

describe('simulator quota, auth and control', () => {
  let sim: Simulator;
  const clock = Date.UTC(2026, 7, 1, 3, 0, 0);
  before(async () => {
    sim = await startSimulator({ now: () => clock });
  });
  after(() => sim.close());
  beforeEach(() => {
    sim.resetScenario();
    sim.resetStats();
  });

  const chat = () => post(`${sim.openaiBaseUrl}/chat/completions`, { model: 'glm-4.7', messages: MESSAGES });

  it('quota exhaustion: 1308 with a Beijing-time reset that parses back exactly; 1310 on request', async () => {
    const resetAt = Date.UTC(2026, 7, 1, 20, 30, 15); // 04:30:15 next day in Beijing
    sim.setScenario({ quota: { exhausted: true, resetAt } });
    const r = await chat();
    assert.equal(r.status, 429);
    const err = JSON.parse(r.text).error;
    assert.equal(err.code, '1308');
    assert.match(err.message, /reset at 2026-08-02 04:30:15$/);
    assert.equal(parseBeijingReset(err.message), resetAt);

    sim.setScenario({ quota: { exhausted: true, code: 1310, resetAt }, errorShape: 'flat' });
    const weekly = JSON.parse((await post(`${sim.anthropicBaseUrl}/v1/messages`, { model: 'glm-4.7', messages: MESSAGES })).text);
    assert.equal(weekly.code, 1310);
    assert.equal(parseBeijingReset(weekly.msg), resetAt);
  });

  it('quota window: calls consume tokens, the endpoint reports them, the budget ends in 1308', async () => {
    const resetAt = clock + 3_600_000;
    const perCall = promptTokensFor({ messages: MESSAGES }) + 20;
    sim.setScenario({ quotaWindow: { budgetTokens: perCall * 2, resetAt, level: 'lite' } });
    assert.equal((await chat()).status, 200);
    const q = JSON.parse((await get(`${sim.quotaBaseUrl}${QUOTA}`, { authorization: 'k' })).text);
    assert.equal(q.success, true);
    assert.equal(q.data.level, 'lite');
    assert.deepEqual(q.data.limits, [
      { type: 'CREDIT_LIMIT', unit: 3, number: 5, usage: perCall * 2, currentValue: perCall, remaining: perCall, percentage: 50, nextResetTime: resetAt },
    ]);
    assert.equal((await chat()).status, 200);
    const over = await chat();
    assert.equal(over.status, 429);
    assert.equal(parseBeijingReset(JSON.parse(over.text).error.message), resetAt);
  });

  it('quota endpoint: sample shape by default, legacy TOKENS_LIMIT, raw overrides, 401 without Authorization', async () => {
    const sample = JSON.parse((await get(`${sim.quotaBaseUrl}${QUOTA}`, { authorization: 'Bearer k' })).text);
    assert.deepEqual(
      sample.data.limits.map((l: { type: string; unit: number }) => [l.type, l.unit]),
      [
        ['CREDIT_LIMIT', 3],
        ['CREDIT_LIMIT', 6],
        ['TIME_LIMIT', 5],
      ],
    );
    sim.setScenario({ quotaResponse: { legacy: true } });
    const legacy = JSON.parse((await get(`${sim.quotaBaseUrl}${QUOTA}`, { authorization: 'k' })).text);
    assert.ok(legacy.data.limits.every((l: Record<string, unknown>) => l.type === 'TOKENS_LIMIT' && typeof l.percentage === 'number' && !('usage' in l)));
    sim.setScenario({ quotaResponse: { status: 502, body: '{"code":200,"data":{"limi' } });
    const broken = await get(`${sim.quotaBaseUrl}${QUOTA}`, { authorization: 'k' });
    assert.equal(broken.status, 502);
    assert.equal(broken.text, '{"code":200,"data":{"limi');
    const anonymous = await get(`${sim.quotaBaseUrl}${QUOTA}`, { 'x-api-key': 'k' });
    assert.equal(anonymous.status, 401);
  });

  it('requiredKey: Bearer, x-api-key and the raw quota header pass; a wrong or missing key gets 401', async () => {
    sim.setScenario({ requiredKey: 'sk-right' });
    const base = sim.openaiBaseUrl;
    assert.equal((await post(`${base}/chat/completions`, { model: 'glm-4.7', messages: MESSAGES }, { authorization: 'Bearer sk-right' })).status, 200);
    assert.equal((await post(`${sim.anthropicBaseUrl}/v1/messages`, { model: 'glm-4.7', messages: MESSAGES }, { 'x-api-key': 'sk-right' })).status, 200);
    assert.equal((await get(`${sim.quotaBaseUrl}${QUOTA}`, { authorization: 'sk-right' })).status, 200);
    const wrong = await post(`${base}/chat/completions`, { messages: MESSAGES }, { authorization: 'Bearer sk-wrong' });
    assert.equal(wrong.status, 401);
    assert.doesNotMatch(wrong.text, /sk-/, 'the error body never echoes a key');
    assert.equal((await get(`${base}/models`)).status, 401);
    const s = sim.stats();
    assert.deepEqual(s.lastAuth['/api/anthropic/v1/messages'], { 'x-api-key': 'sk-right' });
    assert.deepEqual(s.lastAuth['/api/paas/v4/chat/completions'], { authorization: 'Bearer sk-wrong' });
    assert.equal(s.byOutcome['401'], 2);
  });

  it('records headers without credentials, the parsed body and the query of the last call', async () => {
    await post(`${sim.openaiBaseUrl}/chat/completions?trace=1`, { model: 'glm-4.7', messages: MESSAGES }, { authorization: 'Bearer k', 'X-Custom': 'yes' });
    const s = sim.stats();
    assert.equal(s.lastHeaders['x-custom'], 'yes');
    assert.equal(s.lastHeaders.authorization, undefined);
    assert.deepEqual(s.lastBody, { model: 'glm-4.7', messages: MESSAGES });
    assert.equal(s.lastQuery, 'trace=1');
  });

  it('control endpoint: merge, unset with null, reject bad input, stats and reset round-trip', async () => {
    const patch = async (body: unknown) => {
      const r = await request(`${sim.url}/_sim/scenario`, { method: 'PATCH', body: JSON.stringify(body) });
      return { status: r.statusCode, json: (await r.body.json()) as Record<string, unknown> };
    };
    assert.deepEqual((await patch({ outputTokens: 3, concurrencyLimit: 1 })).json, { outputTokens: 3, concurrencyLimit: 1 });
    assert.deepEqual(sim.scenario(), { outputTokens: 3, concurrencyLimit: 1 });
    assert.deepEqual((await patch({ concurrencyLimit: null })).json, { outputTokens: 3 });
    const bad = await patch({ outputTokens: -1 });
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.error), /outputTokens/);
    assert.equal((await patch({ nonsense: true })).status, 400);

    const body = JSON.parse((await chat()).text);
    assert.equal(body.usage.completion_tokens, 3);
    const stats = JSON.parse((await get(`${sim.url}/_sim/stats`)).text);
    assert.equal(stats.requests, 1, 'control calls are not counted');
    await request(`${sim.url}/_sim/stats/reset`, { method: 'POST' }).then((r) => r.body.text());
    assert.equal(sim.stats().requests, 0);
    await chat();
    await request(`${sim.url}/_sim/reset`, { method: 'POST' }).then((r) => r.body.text());
    assert.equal(sim.stats().requests, 0);
    assert.deepEqual(JSON.parse((await get(`${sim.url}/_sim/scenario`)).text), {});
  });

  it('waitFor rejects with a typed error when the condition never holds', async () => {
    await assert.rejects(
      sim.waitFor((s) => s.requests > 100, 20),
      SimTimeoutError,
    );
  });

  it('setScenario rejects an invalid patch', () => {
    assert.throws(() => sim.setScenario({ streamUsage: 'sometimes' as never }), /streamUsage/);
  });
});
