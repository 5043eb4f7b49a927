import { gunzipSync } from 'node:zlib';
import { request as undiciRequest } from 'undici';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { readDashboardConfig } from '../../src/config/dashboard.js';
import { startDashboard } from '../../src/dashboard/main.js';
import type { ConfigResponse, HelloEvent, MetricsResponse, StatusEvent, StatusResponse, VariantSnapshot } from '../../src/dashboard/model.js';
import { createLogger } from '../../src/log/logger.js';
import { startExporter } from './support/exporter.js';
import { openSse } from './support/sse.js';

const quiet = () => createLogger('silent', new Writable({ write: (_c, _e, d) => d() }));

async function setup(t: TestContext, env: Record<string, string> = {}, o: { heartbeatMs?: number; maxClientQueue?: number; webRoot?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dash-api-'));
  const stable = await startExporter('stable');
  const canary = await startExporter('canary');
  t.after(async () => {
    await stable.close();
    await canary.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let clock = 1_700_000_000_000;
  const config = readDashboardConfig({
    DASHBOARD_PORT: '0',
    SCRAPE_TARGETS: ` ${stable.url} , ${canary.url} `,
    DB_PATH: join(dir, 'dash.sqlite'),
    ...env,
  });
  const dash = await startDashboard(config, { now: () => clock, schedule: false, logger: quiet(), webRoot: o.webRoot ?? join(dir, 'no-web'), ...o });
  t.after(() => dash.close());
  const advance = (ms: number) => (clock += ms);
  const get = (path: string, headers: Record<string, string> = {}) => fetch(dash.url + path, { headers, redirect: 'manual' });
  return { dash, stable, canary, advance, get, dir, now: () => clock };
}

const observe = (m: Awaited<ReturnType<typeof startExporter>>['metrics'], n: number, code = '200') => {
  m.zai_proxy_requests_total.inc({ method: 'POST', path: '/v1/chat/completions', status_code: code }, n);
  for (let i = 0; i < n; i++) m.zai_proxy_request_duration_seconds.observe({ method: 'POST', path: '/v1/chat/completions', status_code: code }, 0.2);
};

test('status, config, history over two live targets, with rates and variants from the series', async (t) => {
  const { dash, stable, canary, advance, get } = await setup(t);
  observe(stable.metrics, 10);
  await dash.tick();
  advance(5_000);
  observe(stable.metrics, 20);
  observe(canary.metrics, 5, '500');
  await dash.tick();

  assert.deepEqual(await (await get('/healthz')).json(), { status: 'ok' });
  const status = (await (await get('/api/status')).json()) as StatusResponse;
  assert.deepEqual(Object.keys(status.variants).sort(), ['canary', 'stable']);
  assert.equal(status.variants.stable!.latest.requests.rate, 4);
  assert.equal(status.variants.canary!.latest.requests.error_ratio, 1);
  assert.ok(Math.abs(status.variants.stable!.latest.latency_ms.p50! - 175) < 1e-6); // 0.1..0.25 bucket, rank 10 of 20
  assert.equal(status.targets.length, 2);
  assert.ok(status.targets.every((x) => x.up && !x.stale));
  assert.equal(status.store!.rows['5s'], 4);

  const config = (await (await get('/api/config')).json()) as ConfigResponse;
  assert.equal(config.scrape_interval_s, 5);
  assert.equal(config.targets.length, 2);
  assert.equal(config.auth_required, false);

  const hist = (await (await get('/api/metrics?range=5m&variant=stable')).json()) as MetricsResponse;
  assert.equal(hist.resolution, '5s');
  assert.deepEqual(
    hist.points.map((p) => p.requests.window),
    [0, 20],
  );
  const auto = (await (await get('/api/metrics?range=7d')).json()) as MetricsResponse;
  assert.equal(auto.resolution, '1h'); // 7 days of 1m points would exceed the auto cap
  assert.equal(((await (await get('/api/metrics?range=24h')).json()) as MetricsResponse).resolution, '1m');
  // History is gzipped for clients that accept it, and decodes to the same answer.
  const raw = await undiciRequest(`${dash.url}/api/metrics?range=5m&variant=stable`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(raw.headers['content-encoding'], 'gzip');
  const unzipped = JSON.parse(gunzipSync(Buffer.from(await raw.body.arrayBuffer())).toString('utf8')) as MetricsResponse;
  assert.deepEqual(unzipped.points, hist.points);

  const dashMetrics = await (await get('/metrics')).text();
  assert.match(dashMetrics, /zai_dashboard_scrapes_total\{target="[^"]+",result="success"\} 2/);
  assert.match(dashMetrics, /zai_dashboard_store_size_bytes \d+/);
});

test('invalid parameters answer 400 with a JSON message; unknown API paths 404; writes 405', async (t) => {
  const { get, dash } = await setup(t);
  for (const q of ['range=abc', 'range=1m', 'range=91d', 'variant=a%20b', 'resolution=2s', 'range=90d&resolution=5s', 'bogus=1']) {
    const res = await get(`/api/metrics?${q}`);
    assert.equal(res.status, 400, q);
    const body = (await res.json()) as { error: string };
    assert.equal(typeof body.error, 'string');
  }
  assert.equal((await get('/api/nope')).status, 404);
  assert.equal((await fetch(`${dash.url}/api/status`, { method: 'POST' })).status, 405);
});

test('SSE: hello, a snapshot per variant with ids, resume by Last-Event-ID from the store', async (t) => {
  const { dash, stable, advance } = await setup(t);
  const a = openSse(`${dash.url}/api/events`);
  t.after(() => a.close());
  await a.ready;
  assert.equal(a.status(), 200);
  assert.equal(a.headers()['x-accel-buffering'], 'no');
  assert.match(String(a.headers()['content-type']), /text\/event-stream/);
  await a.waitFor(() => a.events.find((e) => e.event === 'hello'), 'hello');
  observe(stable.metrics, 3);
  await dash.tick();
  const first = await a.waitFor(
    () => (a.events.filter((e) => e.event === 'snapshot').length === 2 ? a.events.filter((e) => e.event === 'snapshot') : undefined),
    'two snapshots',
  );
  assert.deepEqual(
    first.map((e) => (JSON.parse(e.data) as VariantSnapshot).variant),
    ['canary', 'stable'],
  );
  const lastId = first[1]!.id!;
  a.close();

  for (let i = 0; i < 3; i++) {
    advance(5_000);
    await dash.tick();
  }
  const b = openSse(`${dash.url}/api/events`, { 'last-event-id': lastId });
  t.after(() => b.close());
  await b.ready;
  const replayed = await b.waitFor(() => (b.events.filter((e) => e.event === 'snapshot').length >= 6 ? b.events : undefined), 'replay');
  const hello = JSON.parse(replayed[0]!.data) as HelloEvent;
  assert.equal(replayed[0]!.event, 'hello');
  assert.equal(hello.replayed, 6);
  const ids = replayed.filter((e) => e.event === 'snapshot').map((e) => e.id);
  assert.equal(new Set(ids).size, 6);
  assert.ok(!ids.includes(lastId));
  // Live events keep coming after the replay.
  advance(5_000);
  await dash.tick();
  await b.waitFor(() => b.events.filter((e) => e.event === 'snapshot').length === 8 || undefined, 'live after replay');
});

test('SSE heartbeat comment at the injected interval', async (t) => {
  const { dash } = await setup(t, {}, { heartbeatMs: 30 });
  const c = openSse(`${dash.url}/api/events`);
  t.after(() => c.close());
  await c.ready;
  await c.waitFor(() => c.comments.includes(': heartbeat') || undefined, 'heartbeat');
});

test('a slow SSE client is dropped while a fast one keeps receiving everything', async (t) => {
  const { dash } = await setup(t, {}, { maxClientQueue: 8 });
  const fast = openSse(`${dash.url}/api/events`);
  t.after(() => fast.close());
  await fast.ready;
  // The slow client sends its request and then never reads.
  const port = Number(new URL(dash.url).port);
  const slow = net.connect(port, '127.0.0.1');
  t.after(() => slow.destroy());
  await new Promise<void>((r) => slow.once('connect', () => r()));
  slow.write('GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
  slow.pause();
  await fast.waitFor(() => (dash.api.hub.size === 2 ? true : undefined), 'two clients');
  const big = 'x'.repeat(256 * 1024);
  let sent = 0;
  // Bounded: a few hundred MB at most would be needed to fill loopback buffers many times over.
  for (let i = 0; i < 400 && dash.api.hub.size === 2; i++) {
    dash.api.hub.broadcast({ event: 'status', data: { i, big } });
    sent++;
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(dash.api.hub.size, 1, 'slow client dropped');
  await fast.waitFor(() => fast.events.filter((e) => e.event === 'status').length === sent || undefined, 'fast got everything', 20_000);
  assert.match(await (await fetch(`${dash.url}/metrics`)).text(), /zai_dashboard_sse_dropped_clients_total 1/);
});

test('a target going down emits a stale status event, and a recovered one when it is back', async (t) => {
  const { dash, canary, advance } = await setup(t);
  const c = openSse(`${dash.url}/api/events`);
  t.after(() => c.close());
  await c.ready;
  await dash.tick();
  const port = Number(new URL(canary.url).port);
  await canary.close();
  for (let i = 0; i < 4; i++) {
    advance(5_000);
    await dash.tick();
  }
  const stale = await c.waitFor(() => c.events.find((e) => e.event === 'status'), 'stale event');
  const ev = JSON.parse(stale.data) as StatusEvent;
  assert.equal(ev.state, 'stale');
  assert.deepEqual(ev.variants, ['canary']);
  canary.server.listen(port, '127.0.0.1');
  await new Promise((r) => canary.server.once('listening', r));
  advance(5_000);
  await dash.tick();
  const recovered = await c.waitFor(() => c.events.filter((e) => e.event === 'status')[1], 'recovered event');
  assert.equal((JSON.parse(recovered.data) as StatusEvent).state, 'recovered');
});

test('DASHBOARD_TOKEN protects API and UI: bearer, or ?token= once which sets an HttpOnly cookie', async (t) => {
  const { get } = await setup(t, { DASHBOARD_TOKEN: 's3cret-token' });
  assert.equal((await get('/api/status')).status, 401);
  assert.equal((await get('/')).status, 401);
  assert.equal((await get('/healthz')).status, 200);
  assert.equal((await get('/api/status', { authorization: 'Bearer s3cret-token' })).status, 200);
  assert.equal((await get('/api/status', { authorization: 'Bearer wrong' })).status, 401);
  const page = await get('/?token=s3cret-token');
  assert.equal(page.status, 303);
  assert.equal(page.headers.get('location'), '/');
  const cookie = page.headers.get('set-cookie')!;
  assert.match(cookie, /HttpOnly/);
  const withCookie = await get('/api/config', { cookie: cookie.split(';')[0]! });
  assert.equal(withCookie.status, 200);
  const body = await withCookie.text();
  assert.ok(!body.includes('s3cret-token'), 'token never echoed');
  assert.equal(JSON.parse(body).auth_required, true);
});

test('static UI: content types, cache headers, SPA fallback, 404 for missing assets; not-built page', async (t) => {
  const web = mkdtempSync(join(tmpdir(), 'dash-web-'));
  t.after(() => rmSync(web, { recursive: true, force: true }));
  mkdirSync(join(web, 'assets'));
  writeFileSync(join(web, 'index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(join(web, 'assets', 'app-abc123.js'), 'console.log(1)');
  const { get } = await setup(t, {}, { webRoot: web });
  const index = await get('/');
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const js = await get('/assets/app-abc123.js');
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.match(js.headers.get('cache-control')!, /immutable/);
  assert.equal(await js.text(), 'console.log(1)');
  const spa = await get('/variants/canary');
  assert.equal(spa.status, 200);
  assert.match(await spa.text(), /id="root"/);
  assert.equal((await get('/assets/missing.js')).status, 404);
  assert.equal((await get('/../../etc/passwd')).status, 200); // normalised by URL parsing to /etc/passwd → SPA route, never a file outside
  assert.equal((await get('/%2e%2e/%2e%2e/package.json')).status, 404);

  const bare = await setup(t);
  const notBuilt = await bare.get('/');
  assert.equal(notBuilt.status, 200);
  assert.match(await notBuilt.text(), /npm run build/);
});

test('the binding limit and the headroom under the ceiling reach status, live history and the 1m rollup', async (t) => {
  const { dash, stable, advance, get } = await setup(t);
  const limits = ['none', 'learned_rate', 'concurrency', 'quota_pacing', 'upstream'];
  const bind = (limit: string) => {
    for (const l of limits) stable.metrics.zai_proxy_limiter_binding.set({ limit: l }, l === limit ? 1 : 0);
  };
  stable.metrics.zai_proxy_rate_limit_requests_per_second.set(19.6);
  stable.metrics.zai_proxy_rate_limit_ceiling.set(20);
  stable.metrics.zai_proxy_queue_depth.set(3);
  bind('learned_rate');
  // Past a whole minute, so the first 1m bucket is complete and rolled up.
  for (let i = 0; i < 14; i++) {
    if (i === 12) bind('concurrency');
    await dash.tick();
    advance(5_000);
  }

  const status = (await (await get('/api/status')).json()) as StatusResponse;
  const now = status.variants.stable!.latest.limiter;
  assert.equal(now.binding, 'concurrency');
  assert.deepEqual(now.binding_replicas, { concurrency: 1 });
  assert.ok(Math.abs(now.ceiling_headroom_ratio! - 0.02) < 1e-9, String(now.ceiling_headroom_ratio));
  assert.equal(now.queue_depth, 3);
  // The canary's registry never set the gauge: not reported, rather than "none".
  assert.equal(status.variants.canary!.latest.limiter.binding, null);

  const raw = (await (await get('/api/metrics?range=5m&variant=stable')).json()) as MetricsResponse;
  assert.deepEqual([...new Set(raw.points.map((p) => p.limiter.binding))], ['learned_rate', 'concurrency']);
  const minutes = (await (await get('/api/metrics?range=24h&variant=stable&resolution=1m')).json()) as MetricsResponse;
  assert.ok(minutes.points.length >= 1, 'a rolled-up minute');
  assert.equal(minutes.points[0]!.limiter.binding, 'learned_rate');
  assert.ok(Math.abs(minutes.points[0]!.limiter.ceiling_headroom_ratio! - 0.02) < 1e-9);
});
