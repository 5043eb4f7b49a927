import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { CATALOGUE } from '../../src/metrics/catalogue.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { requireBinary } from '../support/binaries.js';

const promtool = requireBinary('promtool');

describe('the live /metrics page', () => {
  let sim: Simulator;
  let proxy: TestProxy;
  let page = '';

  before(async () => {
    sim = await startSimulator({ scenario: { cachedTokens: 1 } });
    proxy = await startProxyFor(sim, { DEPLOYMENT_VARIANT: 'stable' });
    for (const [path, body] of [
      ['/v1/chat/completions', { model: 'glm-4.7', messages: [{ role: 'user', content: 'x' }] }],
      ['/v1/messages', { model: 'glm-4.7', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'x' }] }],
    ] as const) {
      const res = await request(`${proxy.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await res.body.dump();
    }
    const res = await request(`${proxy.url}/metrics`);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    page = await res.body.text();
  });
  after(async () => {
    await proxy?.close();
    await sim?.close();
  });

  it('declares every family of the catalogue with its type, and variant on every application series', () => {
    for (const [name, spec] of Object.entries(CATALOGUE)) {
      assert.ok(page.includes(`# TYPE ${name} ${spec.kind}`), `missing ${name}`);
    }
    for (const line of page.split('\n')) {
      if (line.startsWith('zai_proxy_')) assert.match(line, /variant="stable"/, line);
    }
  });

  it('passes `promtool check metrics` with nothing to report', { skip: promtool.skip }, () => {
    const run = spawnSync(promtool.path!, ['check', 'metrics'], { input: page, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.equal((run.stdout + run.stderr).trim(), '');
  });
});
