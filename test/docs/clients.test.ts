import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startSimulator } from '../../src/sim/index.js';
import { startProxyFor } from '../support/proxy.js';
import { read } from './support.js';

/**
 * docs/clients.md's "which key goes where", done as it says: the proxy configured as each row
 * of the table, the official SDKs pointed at it with the base URLs the page gives, and the
 * simulator behind it checking which key reached Z.AI.
 */

const page = read('docs/clients.md');
const OPERATOR = 'zai-operator-key-5b1e0c';
const USER = 'zai-user-own-key-77aa1d';

/** The base URL a snippet on the page gives an SDK, with the page's placeholder host replaced. */
function baseFromPage(pattern: RegExp, proxyUrl: string): string {
  const m = pattern.exec(page);
  assert.ok(m, `docs/clients.md has no snippet matching ${pattern}`);
  return m[1]!.replace('http://proxy:8080', proxyUrl);
}
const clients = (proxyUrl: string, key: string) => ({
  openai: new OpenAI({ baseURL: baseFromPage(/new OpenAI\(\{ baseURL: '([^']+)'/, proxyUrl), apiKey: key, maxRetries: 0 }),
  anthropic: new Anthropic({ baseURL: baseFromPage(/new Anthropic\(\{ baseURL: '([^']+)'/, proxyUrl), apiKey: key, maxRetries: 0 }),
});
const ask = async (c: ReturnType<typeof clients>) => {
  const chat = await c.openai.chat.completions.create({ model: 'glm-4.7', messages: [{ role: 'user', content: 'hi' }] });
  const msg = await c.anthropic.messages.create({ model: 'glm-4.7', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
  return { chat: chat.choices[0]?.message.content ?? '', msg: msg.content.length };
};
const status = async (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: unknown) => (e as { status?: number }).status ?? -1,
  );

async function withSetup(env: Record<string, string>, requiredKey: string, body: (url: string) => Promise<void>): Promise<void> {
  const sim = await startSimulator({ scenario: { requiredKey, outputTokens: 4 } });
  const proxy = await startProxyFor(sim, env);
  try {
    await body(proxy.url);
    // Whatever the client sent, no key reaches the logs.
    for (const k of [OPERATOR, USER, 'k1-alice', 'k2-bob']) assert.ok(!proxy.logs().includes(k), 'a key in the logs');
  } finally {
    await proxy.close();
    await sim.close();
  }
}

describe('docs/clients.md: which key goes where', () => {
  it('has the three rows this test plays', () => {
    for (const row of [/^\| `ZAI_API_KEY` set, `PROXY_API_KEYS` empty \|/m, /^\| `ZAI_API_KEY` set, `PROXY_API_KEYS=k1,k2` \|/m, /^\| `ZAI_API_KEY` unset \|/m])
      assert.match(page, row);
  });

  it('ZAI_API_KEY set, PROXY_API_KEYS empty: any non-empty key works, the operator key goes upstream', async () => {
    await withSetup({ ZAI_API_KEY: OPERATOR }, OPERATOR, async (url) => {
      const r = await ask(clients(url, 'anything'));
      assert.ok(r.chat.length > 0 && r.msg > 0);
    });
  });

  it('ZAI_API_KEY set, PROXY_API_KEYS=k1,k2: only those keys pass, the rest get 401', async () => {
    await withSetup({ ZAI_API_KEY: OPERATOR, PROXY_API_KEYS: 'k1-alice,k2-bob' }, OPERATOR, async (url) => {
      const r = await ask(clients(url, 'k2-bob'));
      assert.ok(r.chat.length > 0 && r.msg > 0);
      const wrong = clients(url, 'not-a-listed-key');
      assert.equal(await status(wrong.openai.chat.completions.create({ model: 'glm-4.7', messages: [{ role: 'user', content: 'hi' }] })), 401);
      assert.equal(await status(wrong.anthropic.messages.create({ model: 'glm-4.7', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })), 401);
    });
  });

  it('ZAI_API_KEY unset: the client sends its own Z.AI key, unchanged', async () => {
    await withSetup({}, USER, async (url) => {
      const r = await ask(clients(url, USER));
      assert.ok(r.chat.length > 0 && r.msg > 0);
      // The simulator requires USER: another key is refused upstream, so it really was forwarded.
      assert.equal(
        await status(clients(url, 'someone-else').openai.chat.completions.create({ model: 'glm-4.7', messages: [{ role: 'user', content: 'hi' }] })),
        401,
      );
    });
  });
});
