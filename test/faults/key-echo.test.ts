import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { SecretRedactor } from '../../src/proxy/redact.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';

/** Z.AI keys are `<id>.<secret>`. */
const KEY = '0f1e2d3c4b5a69788796a5b4c3d2e1f0.K3yEch0S3cretHalf';
const SECRET_HALF = 'K3yEch0S3cretHalf';

describe('the operator key echoed by the upstream never reaches a client', () => {
  let sim: Simulator;
  let proxy: TestProxy;
  before(async () => {
    sim = await startSimulator();
    proxy = await startProxyFor(sim, {
      ZAI_API_KEY: KEY,
      RATE_LIMIT_ENABLED: 'false',
    });
  });
  after(async () => {
    await proxy.close();
    await sim.close();
  });

  for (const path of ['/v1/chat/completions', '/v1/messages']) {
    it(`${path}: body and headers of the relayed error are masked`, async () => {
      sim.setScenario({ faults: [{ kind: 'echoKey' }] });
      const res = await request(`${proxy.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'glm-4.7', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
      });
      const body = await res.body.text();
      assert.equal(res.statusCode, 401);
      const everything = body + JSON.stringify(res.headers);
      assert.ok(!everything.includes(SECRET_HALF), everything);
      assert.match(body, /Authentication failed for key \[redacted\]/);
      assert.equal(res.headers['x-debug-key'], 'rejected [redacted]');
      assert.equal(res.headers['content-length'], String(Buffer.byteLength(body)));
    });
  }
});

describe('SecretRedactor', () => {
  const r = new SecretRedactor(KEY);
  it('masks every occurrence of the whole key, and of its secret half alone', () => {
    const text = `a ${KEY} b ${KEY} c ${SECRET_HALF} d`;
    assert.equal(r.body(Buffer.from(text)).toString(), 'a [redacted] b [redacted] c [redacted] d');
    assert.equal(r.text(text), 'a [redacted] b [redacted] c [redacted] d');
  });
  it('returns the same buffer when nothing matches, and does nothing without a key', () => {
    const b = Buffer.from('nothing secret here');
    assert.equal(r.body(b), b);
    const none = new SecretRedactor(undefined);
    const headers = { a: 'x' };
    none.headers(headers);
    assert.deepEqual(headers, { a: 'x' });
  });
  it('masks arrays of header values', () => {
    const headers: Record<string, string | string[]> = { 'set-cookie': [`k=${KEY}`, 'other=1'] };
    r.headers(headers);
    assert.deepEqual(headers['set-cookie'], ['k=[redacted]', 'other=1']);
  });
});
