import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startSimulator, type Simulator, type SimFault } from '../../src/sim/index.js';
import { spawnProxy, type ProxyProcess } from '../support/proxy-process.js';
import { pollUntil } from '../support/wait.js';

/**
 * Secret scan: real proxy processes and a real dashboard process go through a broad set of
 * scenarios (answers and errors in both dialects, an upstream echoing the operator key in body
 * and headers, quota answers that echo it too, cut and stalled streams, retries, admin routes,
 * bad client keys), and every log line they write (stdout and stderr), every response body
 * and every response header is searched for every configured secret.
 *
 * The one place a secret may come back is the dashboard's Set-Cookie answering the request
 * that presented its token in `?token=`: that is how the browser keeps it (the cookie is
 * HttpOnly and the address bar loses the token). It is checked for exactly that and excluded.
 */
const OPERATOR_KEY = '5e1f0c2a9b8d4e7f6a3b2c1d0e9f8a7b.OpSecretHalfQ9w8e7';
const OPERATOR_SECRET_HALF = 'OpSecretHalfQ9w8e7';
const CLIENT_KEYS = ['client-key-alpha-Zx81c7', 'client-key-beta-Lq42m0'];
const ADMIN_TOKEN = 'admin-token-Rr55t1Yy';
const DASHBOARD_TOKEN = 'dash-token-Mm90p2Kk';
const SCRAPE_USER = 'scrapeUsr7h';
const SCRAPE_PASSWORD = 'scrapePw3d9Vn';
const SCRAPE_QUERY = 'scrapeQv6Jt4';

const SECRETS: Record<string, string> = {
  ZAI_API_KEY: OPERATOR_KEY,
  'ZAI_API_KEY (secret half)': OPERATOR_SECRET_HALF,
  'PROXY_API_KEYS[0]': CLIENT_KEYS[0]!,
  'PROXY_API_KEYS[1]': CLIENT_KEYS[1]!,
  ADMIN_TOKEN,
  DASHBOARD_TOKEN,
  'scrape target user': SCRAPE_USER,
  'scrape target password': SCRAPE_PASSWORD,
  'scrape target query': SCRAPE_QUERY,
};

interface Seen {
  where: string;
  text: string;
}

describe('secret scan: no configured secret in any log line, response body or header', () => {
  let sim: Simulator;
  let keyed: ProxyProcess;
  let open: ProxyProcess;
  let dash: ProxyProcess;
  let dir: string;
  const seen: Seen[] = [];

  before(async () => {
    sim = await startSimulator({ scenario: { requiredKey: OPERATOR_KEY, streamChunks: 4 } });
    const common = {
      ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl,
      ZAI_ANTHROPIC_BASE_URL: sim.anthropicBaseUrl,
      ZAI_QUOTA_BASE_URL: sim.quotaBaseUrl,
      ZAI_API_KEY: OPERATOR_KEY,
      LOG_LEVEL: 'debug',
      MAX_RETRIES: '1',
      RETRY_BASE_DELAY: '5ms',
      UPSTREAM_BODY_TIMEOUT: '250ms',
      // The limiter stays on (its admin route answers), set high enough not to pace the scan.
      RATE_LIMIT_MIN: '500',
      RATE_LIMIT_INITIAL: '1000',
      RATE_LIMIT_MAX: '2000',
      REQUEST_TIMEOUT: '3s',
      QUOTA_POLL_ENABLED: 'true',
      QUOTA_POLL_INTERVAL: '100ms',
    };
    // One proxy with client keys and an admin token, one open to any client (the operator key still goes upstream).
    keyed = await spawnProxy({ ...common, PROXY_API_KEYS: CLIENT_KEYS.join(','), ADMIN_TOKEN });
    open = await spawnProxy(common);
    dir = mkdtempSync(join(tmpdir(), 'secret-scan-'));
    const credentialed = (base: string) => {
      const u = new URL('/metrics', base);
      u.username = SCRAPE_USER;
      u.password = SCRAPE_PASSWORD;
      u.search = `token=${SCRAPE_QUERY}`;
      return u.href;
    };
    dash = await spawnProxy(
      {
        DASHBOARD_PORT: '0',
        DASHBOARD_TOKEN,
        SCRAPE_TARGETS: `keyed=${credentialed(keyed.url)},open=${credentialed(open.url)},dead=http://${SCRAPE_USER}:${SCRAPE_PASSWORD}@127.0.0.1:9/metrics?k=${SCRAPE_QUERY}`,
        SCRAPE_INTERVAL: '200ms',
        DB_PATH: join(dir, 'dash.sqlite'),
        LOG_LEVEL: 'debug',
      },
      [],
      { command: 'dashboard' },
    );
  });
  after(async () => {
    await Promise.all([keyed?.stop(), open?.stop(), dash?.stop()]);
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** One exchange; whatever arrives before a cut counts as the body. */
  async function call(
    base: string,
    path: string,
    opts: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: unknown } = {},
  ): Promise<{ status: number; text: string }> {
    const res = await request(`${base}${path}`, {
      method: opts.method ?? (opts.body !== undefined ? 'POST' : 'GET'),
      headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
      headersTimeout: 20_000,
      bodyTimeout: 20_000,
    });
    let text = '';
    try {
      for await (const c of res.body) text += (c as Buffer).toString('utf8');
    } catch {
      // a cut stream: keep what came
    }
    const where = `${base === dash?.url ? 'dashboard' : base === keyed.url ? 'keyed proxy' : 'open proxy'} ${path} → ${res.statusCode}`;
    const headers = { ...res.headers };
    if (path.includes(`token=${DASHBOARD_TOKEN}`) && typeof headers['set-cookie'] === 'string') {
      assert.match(headers['set-cookie'], /^zai_dashboard_token=[^;]+; HttpOnly; SameSite=Strict; Path=\//);
      delete headers['set-cookie'];
    }
    seen.push({ where: `${where} body`, text }, { where: `${where} headers`, text: JSON.stringify(headers) });
    return { status: res.statusCode, text };
  }

  const chat = (stream: boolean, extra: Record<string, unknown> = {}) => ({ model: 'glm-4.7', stream, messages: [{ role: 'user', content: 'hi' }], ...extra });
  const messages = (stream: boolean, extra: Record<string, unknown> = {}) => ({
    model: 'glm-4.7',
    max_tokens: 32,
    stream,
    messages: [{ role: 'user', content: 'hi' }],
    ...extra,
  });
  const generation = [
    ['/v1/chat/completions', chat],
    ['/v1/messages', messages],
  ] as const;
  const asClient = (i: number, dialect: string): Record<string, string> =>
    dialect === '/v1/messages' ? { 'x-api-key': CLIENT_KEYS[i]! } : { authorization: `Bearer ${CLIENT_KEYS[i]!}` };

  /**
   * Every generation route, streaming and not, on both proxies, with `faults` set first. In
   * parallel unless the faults are counted (`times` ≥ 0), which one request at a time keeps exact.
   */
  async function everywhere(faults: SimFault[] | undefined, expect?: (status: number) => boolean): Promise<void> {
    const sequential = faults?.some((f) => (f.times ?? 1) >= 0) ?? false;
    const one = async (proxy: ProxyProcess, path: string, body: (stream: boolean) => unknown, stream: boolean) => {
      if (sequential) sim.setScenario({ faults: structuredClone(faults!) });
      const r = await call(proxy.url, path, { headers: proxy === keyed ? asClient(stream ? 1 : 0, path) : {}, body: body(stream) });
      if (expect) assert.ok(expect(r.status), `${path} ${stream} → ${r.status} ${r.text.slice(0, 200)}`);
    };
    if (faults && !sequential) sim.setScenario({ faults: structuredClone(faults) });
    const cases = [keyed, open].flatMap((proxy) => generation.flatMap(([path, body]) => [false, true].map((stream) => () => one(proxy, path, body, stream))));
    if (sequential) for (const c of cases) await c();
    else await Promise.all(cases.map((c) => c()));
    sim.setScenario({ faults: [] });
  }

  it('runs every scenario and finds no secret anywhere', async () => {
    // Answers, and the usual side routes.
    await everywhere(undefined, (s) => s === 200);
    for (const proxy of [keyed, open]) {
      for (const path of ['/', '/health', '/ready', '/metrics', '/quota', '/v1/models', '/nope', '/v1/../../etc/passwd', '/v1/%2e%2e/admin']) {
        await call(proxy.url, path, { headers: proxy === keyed ? { authorization: `Bearer ${CLIENT_KEYS[0]}` } : {} });
      }
      await call(proxy.url, '/v1/messages/count_tokens', { headers: proxy === keyed ? { 'x-api-key': CLIENT_KEYS[1]! } : {}, body: messages(false) });
    }

    // Every Z.AI refusal in both body shapes, 5xx, an unknown model, retries that end well.
    for (const errorShape of ['nested', 'flat'] as const) {
      sim.setScenario({ errorShape });
      for (const code of [1113, 1301, 1302, 1303, 1305, 1308, 1310, 1312, 1313]) await everywhere([{ kind: 'zaiError', code, times: -1 }], (s) => s >= 400);
      for (const status of [500, 502, 503, 504]) await everywhere([{ kind: 'status', status, times: -1 }], (s) => s >= 500);
    }
    sim.setScenario({ errorShape: 'nested' });
    await everywhere([{ kind: 'zaiError', code: 1305, times: 1 }], (s) => s === 200);
    for (const proxy of [keyed, open])
      await call(proxy.url, '/v1/chat/completions', { headers: proxy === keyed ? asClient(0, '') : {}, body: chat(false, { model: 'no-such-model' }) });

    // The upstream echoes the key it was given, in body and header.
    await everywhere([{ kind: 'echoKey', times: -1 }], (s) => s === 401);
    // The upstream refuses the operator key outright (as with a revoked key).
    sim.setScenario({ requiredKey: 'some-other-key' });
    await everywhere(undefined, (s) => s === 401);
    sim.setScenario({ requiredKey: OPERATOR_KEY });

    // Cut, stalled, truncated and malformed answers.
    const breaks: SimFault[] = [
      { kind: 'resetBeforeHeaders', times: -1 },
      { kind: 'resetMidStream', afterChunks: 2, times: -1 },
      { kind: 'stallMidStream', afterChunks: 1, times: -1 },
      { kind: 'headersThenSilence', times: -1 },
      { kind: 'truncated', times: -1 },
      { kind: 'malformedJson', times: -1 },
      { kind: 'malformedSse', times: -1 },
      { kind: 'emptyBody', times: -1 },
    ];
    for (const f of breaks) await everywhere([f]);

    // Quota answers: a good one, an exhausted window, and an error that echoes the key.
    sim.setScenario({ quota: { exhausted: true, code: 1308 } });
    await everywhere(undefined, (s) => s === 429);
    sim.setScenario({ quota: null } as never);
    for (const body of [
      `{"code":1001,"msg":"invalid token ${OPERATOR_KEY}","success":false}`,
      `{"error":{"message":"key ${OPERATOR_KEY} rejected"}}`,
      `not json ${OPERATOR_KEY}`,
    ]) {
      sim.setScenario({ quotaResponse: { status: 401, body } });
      const polls = sim.stats().byRoute['/api/monitor/usage/quota/limit'] ?? 0;
      await pollUntil(() => (sim.stats().byRoute['/api/monitor/usage/quota/limit'] ?? 0) >= polls + 4, 'the quota poller read the answer a few times', 15_000);
      for (const proxy of [keyed, open]) await call(proxy.url, '/quota');
    }
    sim.setScenario({ quotaResponse: null } as never);

    // Admin routes and client keys, right and wrong, including the other secrets presented as keys.
    const wrong = ['', 'nope', CLIENT_KEYS[0]!.slice(0, -1), `${CLIENT_KEYS[0]}x`, OPERATOR_KEY, OPERATOR_SECRET_HALF, DASHBOARD_TOKEN];
    for (const proxy of [keyed, open]) {
      for (const key of [...wrong, ADMIN_TOKEN, ...CLIENT_KEYS]) {
        for (const header of ['authorization', 'x-api-key'] as const) {
          const value = header === 'authorization' ? `Bearer ${key}` : key;
          await call(proxy.url, '/admin/reset-rate-limit', { method: 'POST', headers: { [header]: value } });
          await call(proxy.url, '/admin/reset-rate-limit', { method: 'GET', headers: { [header]: value } });
          if (proxy === keyed && !CLIENT_KEYS.includes(key)) {
            const r = await call(proxy.url, '/v1/chat/completions', { headers: { [header]: value }, body: chat(false) });
            assert.equal(r.status, 401, `${key} is not a client key`);
          }
        }
      }
    }

    // The dashboard: without, with a wrong and with the right token, in every way it takes one.
    await pollUntil(
      async () => {
        const r = await call(dash.url, '/api/status', { headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` } });
        return /"last_error":"[^"]+"/.test(r.text) && r.text.includes('keyed');
      },
      'the dashboard scraped both proxies and failed on the dead target',
      20_000,
    );
    for (const path of [
      '/',
      '/api/status',
      '/api/config',
      '/api/canary',
      '/api/history?range=1h',
      '/api/nope',
      `/?token=${DASHBOARD_TOKEN}`,
      '/?token=wrong',
    ]) {
      await call(dash.url, path);
      await call(dash.url, path, { headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` } });
      await call(dash.url, path, { headers: { cookie: `zai_dashboard_token=${DASHBOARD_TOKEN}` } });
      await call(dash.url, path, { headers: { authorization: 'Bearer wrong' } });
    }

    // Logs last: everything the three processes wrote.
    for (const [name, p] of [
      ['keyed proxy', keyed],
      ['open proxy', open],
      ['dashboard', dash],
    ] as const) {
      seen.push({ where: `${name} stdout`, text: p.logs() }, { where: `${name} stderr`, text: p.errors() });
    }

    // The scan saw real traffic: a vacuous pass is no pass.
    const logs = seen
      .filter((s) => s.where.endsWith('stdout'))
      .map((s) => s.text)
      .join('');
    assert.ok(seen.length > 600, `${seen.length} exchanges`);
    for (const shown of ['"status":401', '"status":429', '"status":502', '"status":504', 'quota', 'scrape target status changed'])
      assert.ok(logs.includes(shown), `the logs mention ${shown}`);

    const leaks: string[] = [];
    for (const s of seen) {
      for (const [name, secret] of Object.entries(SECRETS)) {
        const at = s.text.indexOf(secret);
        if (at !== -1) leaks.push(`${name} in ${s.where}: …${s.text.slice(Math.max(0, at - 80), at + secret.length + 40)}…`);
      }
    }
    assert.deepEqual(leaks.slice(0, 20), [], `${leaks.length} leaks`);
    assert.ok(
      seen.some((s) => s.text.includes('Authentication failed for key [redacted]')),
      'the echoed key was seen masked',
    );
  });
});
