import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readProxyEnv } from '../../src/config/proxy.js';
import { ConfigError, parseDurationMs } from '../../src/config/fields.js';

const bin = new URL('../../bin/zai-proxy', import.meta.url).pathname;

describe('proxy configuration', () => {
  it('has the documented defaults', () => {
    const env = readProxyEnv({});
    assert.equal(env.PORT, 8080);
    assert.equal(env.HOST, '127.0.0.1');
    assert.equal(env.ZAI_OPENAI_BASE_URL, 'https://api.z.ai/api/paas/v4');
    assert.equal(env.ZAI_ANTHROPIC_BASE_URL, 'https://api.z.ai/api/anthropic');
    assert.equal(env.MAX_BODY_BYTES, 20 * 1024 * 1024);
    assert.equal(env.MAX_RETRIES, 3);
    assert.equal(env.RATE_LIMIT_WINDOW, 30_000);
    assert.equal(env.DEPLOYMENT_VARIANT, 'production');
    assert.equal(env.TOKEN_COUNTING_ENABLED, true);
    assert.equal(env.REQUEST_TIMEOUT, 300_000);
    assert.equal(env.UPSTREAM_BODY_TIMEOUT, 120_000);
    assert.equal(env.CLIENT_HEADERS_TIMEOUT, 20_000);
    assert.equal(env.CLIENT_BODY_TIMEOUT, 120_000);
  });

  it('accepts ZAI_TARGET_URL as the Anthropic base, and the new name wins over it', () => {
    assert.equal(readProxyEnv({ ZAI_TARGET_URL: 'http://127.0.0.1:9/api/anthropic/' }).ZAI_ANTHROPIC_BASE_URL, 'http://127.0.0.1:9/api/anthropic');
    assert.equal(readProxyEnv({ ZAI_TARGET_URL: 'http://a.test/x', ZAI_ANTHROPIC_BASE_URL: 'http://b.test/y' }).ZAI_ANTHROPIC_BASE_URL, 'http://b.test/y');
  });

  it('reads booleans in any case and durations in any unit', () => {
    for (const off of ['false', 'FALSE', '0', 'no', 'Off']) assert.equal(readProxyEnv({ TOKEN_COUNTING_ENABLED: off }).TOKEN_COUNTING_ENABLED, false);
    assert.equal(parseDurationMs('1h30m'), 5_400_000);
    assert.equal(parseDurationMs('250ms'), 250);
    assert.equal(parseDurationMs('45'), 45_000);
    assert.equal(parseDurationMs('soon'), undefined);
  });

  it('names the variable and the problem for a bad value', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: 'eighty' }, /PORT must be an integer between 0 and 65535/],
      [{ MAX_WORKERS: '0' }, /MAX_WORKERS must be an integer >= 1/],
      [{ ZAI_OPENAI_BASE_URL: 'ftp://x' }, /ZAI_OPENAI_BASE_URL must be an http\(s\) URL/],
      [{ ZAI_TARGET_URL: 'not a url' }, /ZAI_TARGET_URL must be an http\(s\) URL/],
      [{ RATE_LIMIT_HOLD_MARGIN: '1' }, /RATE_LIMIT_HOLD_MARGIN must be a number in \(0, 1\)/],
      [{ QUEUE_TIMEOUT: 'forever' }, /QUEUE_TIMEOUT must be a duration/],
      [{ TOKEN_COUNTING_ENABLED: 'maybe' }, /TOKEN_COUNTING_ENABLED must be one of/],
      [{ RATE_LIMIT_MIN: '20', RATE_LIMIT_MAX: '10' }, /RATE_LIMIT_MIN must not exceed RATE_LIMIT_MAX/],
      [{ PROXY_API_KEYS: 'a,b' }, /PROXY_API_KEYS requires ZAI_API_KEY/],
      [{ QUOTA_PACING: 'on', RATE_LIMIT_ENABLED: 'false' }, /QUOTA_PACING paces through the rate limiter/],
      [{ CLIENT_HEADERS_TIMEOUT: '3m' }, /CLIENT_HEADERS_TIMEOUT must not exceed CLIENT_BODY_TIMEOUT/],
      [{ REQUEST_TIMEOUT: '0s' }, /REQUEST_TIMEOUT must be a duration/],
    ];
    for (const [env, message] of cases)
      assert.throws(
        () => readProxyEnv(env),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
  });

  it('stops `zai-proxy serve` with one clear line and exit code 2', () => {
    const run = spawnSync(process.execPath, [bin, 'serve'], {
      env: { PATH: process.env.PATH, MAX_BODY_BYTES: '-5', ZAI_API_KEY: 'secret-never-printed' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(run.status, 2);
    assert.equal(run.stdout, '');
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, /MAX_BODY_BYTES must be an integer >= 1 \(got "-5"\)/);
    assert.ok(!run.stderr.includes('secret-never-printed'));
  });
});
