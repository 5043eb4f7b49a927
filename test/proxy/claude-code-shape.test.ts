import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { metricValue } from '../support/metric-values.js';

/**
 * Requests shaped like Claude Code's own (as it sends them): `HEAD /` first, then
 * `POST /v1/messages?beta=true` streaming with `max_tokens` 32000, adaptive thinking, 24
 * tools, a ~76 KB body, seven `anthropic-beta` values, a `role: "system"` entry inside
 * `messages` and `x-stainless-timeout: 600`; `/context` sends `count_tokens?beta=true` 15
 * times. Each must reach the upstream unchanged, and the usage Claude Code is told must be
 * what the proxy counts.
 */
const OPERATOR_KEY = 'zai-operator-key-claude-shape-4c0d';
const CLIENT_KEY = 'proxy-client-key-claude-shape-77aa';
const BETAS = [
  'claude-code-20250219',
  'oauth-2025-04-20',
  'interleaved-thinking-2025-05-14',
  'context-management-2025-06-27',
  'prompt-caching-scope-2026-01-05',
  'fine-grained-tool-streaming-2025-05-14',
  'effort-2025-11-24',
].join(',');

const tools = Array.from({ length: 24 }, (_, i) => ({
  name: `Tool${i}`,
  description: `Does thing ${i}. ${'Use it carefully, and only when the task needs it. '.repeat(40)}`,
  input_schema: { type: 'object', properties: { path: { type: 'string', description: 'A path' }, limit: { type: 'number' } }, required: ['path'] },
}));
const body = (extra: Record<string, unknown> = {}) => ({
  model: 'glm-4.7',
  max_tokens: 32000,
  stream: true,
  thinking: { type: 'adaptive' },
  system: [{ type: 'text', text: `You are Claude Code. ${'Follow the instructions. '.repeat(900)}` }],
  tools,
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'what is in this repository?' }] },
    { role: 'system', content: 'A reminder the client put inside messages.' },
  ],
  ...extra,
});

describe('Claude Code-shaped traffic through the proxy', () => {
  let sim: Simulator;
  let proxy: TestProxy;

  before(async () => {
    sim = await startSimulator({ scenario: { requiredKey: OPERATOR_KEY, toolUse: 'none' } });
    proxy = await startProxyFor(sim, {
      ZAI_API_KEY: OPERATOR_KEY,
      PROXY_API_KEYS: CLIENT_KEY,
      RATE_LIMIT_ENABLED: 'false',
    });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  const headers = (auth: Record<string, string>) => ({
    'content-type': 'application/json',
    'anthropic-version': '2023-06-01',
    'anthropic-beta': BETAS,
    'x-stainless-timeout': '600',
    ...auth,
  });

  it('HEAD / is answered 200 (Claude Code probes it once per run)', async () => {
    const r = await request(`${proxy.url}/`, { method: 'HEAD' });
    await r.body.text();
    assert.equal(r.statusCode, 200);
  });

  const auths: Record<string, string>[] = [{ authorization: `Bearer ${CLIENT_KEY}` }, { 'x-api-key': CLIENT_KEY }];
  for (const auth of auths) {
    it(`a streamed ~76 KB turn with ${Object.keys(auth)[0]}: query, betas and body reach Z.AI unchanged; usage matches the counters`, async () => {
      sim.resetStats();
      const sent = JSON.stringify(body());
      assert.ok(sent.length > 70_000 && sent.length < 90_000, `${sent.length} bytes`);
      const before = await metricValue(proxy.metrics, 'zai_proxy_tokens_total', { model: 'glm-4.7', direction: 'input' });
      const r = await request(`${proxy.url}/v1/messages?beta=true`, { method: 'POST', headers: headers(auth), body: sent });
      const text = await r.body.text();
      assert.equal(r.statusCode, 200);
      const events = text
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => JSON.parse(l.slice(6)) as { type: string; usage?: { input_tokens: number }; content_block?: { type: string } });
      assert.equal(events.at(-1)?.type, 'message_stop');
      assert.equal(events.find((e) => e.type === 'content_block_start')?.content_block?.type, 'thinking', 'adaptive thinking answered with a thinking block');
      const usage = events.filter((e) => e.type === 'message_delta').at(-1)!.usage!;
      assert.ok(usage.input_tokens > 10_000, `prompt tokens of a realistic size: ${usage.input_tokens}`);
      const after = await metricValue(proxy.metrics, 'zai_proxy_tokens_total', { model: 'glm-4.7', direction: 'input' });
      assert.equal(after - before, usage.input_tokens);
      const stats = sim.stats();
      assert.equal(stats.lastQuery, 'beta=true');
      assert.equal(stats.lastHeaders['anthropic-beta'], BETAS);
      assert.equal(JSON.stringify(stats.lastBody), sent, 'the body is relayed byte for byte');
      assert.deepEqual(stats.lastAuth['/api/anthropic/v1/messages'], { 'x-api-key': OPERATOR_KEY });
    });
  }

  it("/context's 15 count_tokens?beta=true calls are all answered and spend no tokens", async () => {
    sim.resetStats();
    const before = await metricValue(proxy.metrics, 'zai_proxy_tokens_total', { model: 'glm-4.7' });
    const counts = await Promise.all(
      Array.from({ length: 15 }, async () => {
        const { stream: _s, max_tokens: _m, ...countBody } = body();
        const r = await request(`${proxy.url}/v1/messages/count_tokens?beta=true`, {
          method: 'POST',
          headers: headers({ authorization: `Bearer ${CLIENT_KEY}` }),
          body: JSON.stringify(countBody),
        });
        assert.equal(r.statusCode, 200);
        return ((await r.body.json()) as { input_tokens: number }).input_tokens;
      }),
    );
    assert.equal(new Set(counts).size, 1);
    assert.equal(sim.stats().byRoute['/api/anthropic/v1/messages/count_tokens'], 15);
    assert.equal(await metricValue(proxy.metrics, 'zai_proxy_tokens_total', { model: 'glm-4.7' }), before);
  });
});
