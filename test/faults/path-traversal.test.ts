import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { normaliseApiPath } from '../../src/proxy/api-path.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { rawExchange } from '../support/raw-http.js';

/** Paths sent as-is on a raw socket (what `curl --path-as-is` does). */
const get = (proxy: TestProxy, path: string) => rawExchange(proxy.url, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);

describe('/v1 paths that leave the base after normalisation', () => {
  let sim: Simulator;
  let proxy: TestProxy;
  before(async () => {
    sim = await startSimulator();
    proxy = await startProxyFor(sim, { ZAI_API_KEY: 'zai-operator-key-traversal-01', RATE_LIMIT_ENABLED: 'false' });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  const refused = [
    '/v1/../../../api/monitor/usage/quota/limit',
    '/v1/%2e%2e/%2e%2e/%2e%2e/api/monitor/usage/quota/limit',
    '/v1/..%2f..%2f..%2fapi/monitor/usage/quota/limit',
    '/v1/models/..%5c..%5c..%5capi',
    '/v1/%2E%2E',
    '/v1/..',
    '/v1/../admin/reset-rate-limit',
    '/v1/%zz/models',
    '/v1/models%00',
  ];
  for (const path of refused) {
    it(`refuses ${path} with 400 in the API's error shape, nothing sent upstream`, async () => {
      sim.resetStats();
      const answer = await get(proxy, path);
      assert.match(answer, /^HTTP\/1\.1 400/);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { type: string; message: string } };
      assert.equal(body.error.type, 'invalid_request_error');
      assert.match(body.error.message, /path was refused/);
      assert.equal(sim.stats().requests, 0);
    });
  }

  it('routes a path that stays under /v1 in its normalised form', async () => {
    sim.resetStats();
    const answer = await get(proxy, '/v1/x/../models');
    assert.match(answer, /^HTTP\/1\.1 200/);
    const again = await get(proxy, '/v1//%6dodels');
    assert.match(again, /^HTTP\/1\.1 200/);
    assert.deepEqual(sim.stats().byRoute, { '/api/paas/v4/models': 2 });
  });
});

describe('normaliseApiPath', () => {
  it('leaves ordinary paths untouched', () => {
    for (const p of ['/v1/chat/completions', '/v1/messages', '/health', '/v1/models/glm-4.7']) assert.deepEqual(normaliseApiPath(p), { ok: true, path: p });
  });

  it('anything it accepts under /v1 stays under /v1 with no dot-segment, however it was escaped', () => {
    const piece = fc.constantFrom('..', '.', '', 'v1', 'api', '%2e%2e', '%2E.', '%2f', '%5c', '\\', 'chat', '%', '%25', 'x%2F..');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const raw = `/v1/${parts.join('/')}`;
        const r = normaliseApiPath(raw);
        if (!r.ok) return;
        assert.ok(r.path.startsWith('/v1/'), `${raw} -> ${r.path}`);
        const decoded = decodeURIComponent(r.path);
        assert.ok(!decoded.split('/').some((s) => s === '..' || s === '.'), `${raw} -> ${r.path}`);
        // Once clean, it is a fixed point: normalising again changes nothing.
        assert.deepEqual(normaliseApiPath(r.path), r);
      }),
      { numRuns: 2000 },
    );
  });
});
