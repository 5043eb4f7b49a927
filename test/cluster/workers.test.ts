import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'undici';
import { startSimulator } from '../../src/sim/index.js';
import { saveLimits } from '../../src/limits/state-file.js';
import { spawnProxy } from '../support/proxy-process.js';
import { openGatedStream } from '../support/proxy.js';
import { pollUntil } from '../support/wait.js';
import { chatFresh, getFresh, refused, sampleSum } from './support.js';

/** Runs `jobs` with at most `width` at once; every job on a connection of its own. */
async function inParallel<T>(count: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < count; i = next++) out[i] = await job(i);
    }),
  );
  return out;
}

const wide = { RATE_LIMIT_MAX: '1000000', RATE_LIMIT_INITIAL: '1000000' };

describe('PROXY_WORKERS=2 (real processes over loopback)', () => {
  it('one scrape counts every request exactly once, histograms merged, and the requests landed on both workers', async () => {
    const sim = await startSimulator();
    const proxy = await spawnProxy({ ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl, PROXY_WORKERS: '2', ...wide });
    try {
      const n = 40;
      const answers = await inParallel(n, 8, () => chatFresh(proxy.url));
      assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
      // Two scrapes, on fresh connections (any worker may take each): the same one truth.
      for (let i = 0; i < 2; i++) {
        const { status, body: text } = await getFresh(`${proxy.url}/metrics`);
        assert.equal(status, 200);
        const route = { path: '/v1/chat/completions', status_code: '200' };
        assert.equal(sampleSum(text, 'zai_proxy_requests_total', route), n);
        assert.equal(sampleSum(text, 'zai_proxy_request_duration_seconds_count', route), n);
        assert.equal(sampleSum(text, 'zai_proxy_request_duration_seconds_bucket', { ...route, le: '+Inf' }), n);
        const lowest = sampleSum(text, 'zai_proxy_request_duration_seconds_bucket', { ...route, le: '0.005' })!;
        assert.ok(lowest >= 0 && lowest <= n, 'buckets are summed bucket by bucket, never past the count');
        const w0 = sampleSum(text, 'zai_proxy_cluster_worker_requests_total', { worker: '0' }) ?? 0;
        const w1 = sampleSum(text, 'zai_proxy_cluster_worker_requests_total', { worker: '1' }) ?? 0;
        assert.ok(w0 > 0 && w1 > 0, `both workers took requests (${w0} and ${w1})`);
        assert.equal(w0 + w1, n);
        assert.equal(sampleSum(text, 'zai_proxy_cluster_workers'), 2);
        // Build info once; the shared rate one value (not one per process, not summed).
        assert.equal(text.split('\n').filter((l) => l.startsWith('zai_proxy_build_info{')).length, 1);
        assert.equal(text.split('\n').filter((l) => l.startsWith('zai_proxy_rate_limit_requests_per_second{')).length, 1);
        assert.equal(sampleSum(text, 'zai_proxy_rate_limit_requests_per_second'), 1_000_000);
        assert.equal(sampleSum(text, 'zai_proxy_max_workers'), 20, 'MAX_WORKERS=10 in each of two processes');
      }
      // /health answers for the whole, whichever worker takes it.
      for (let i = 0; i < 2; i++) {
        const h = JSON.parse((await getFresh(`${proxy.url}/health`)).body);
        assert.equal(h.status, 'ok');
        assert.equal(h.workers.configured, 2);
        assert.equal(h.workers.answering, 2);
        const pids = new Set(h.workers.list.map((w: { pid: number }) => w.pid));
        assert.equal(pids.size, 2, 'two distinct worker processes');
        assert.equal(
          h.workers.list.reduce((t: number, w: { requests: number }) => t + w.requests, 0),
          n,
        );
        assert.equal(h.limiter.sharedState, 'cluster');
      }
    } finally {
      await proxy.stop();
      await sim.close();
    }
  });

  it('keeps both workers together under one configured rate ceiling, not two', async () => {
    const sim = await startSimulator();
    // 10 req/s with a burst of 10: 40 requests take at least 3 s under one budget, about 1 s under two.
    const proxy = await spawnProxy({
      ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl,
      PROXY_WORKERS: '2',
      RATE_LIMIT_INITIAL: '10',
      RATE_LIMIT_MAX: '10',
      QUEUE_TIMEOUT: '60s',
    });
    try {
      const n = 40;
      const started = performance.now();
      const answers = await inParallel(n, n, () => chatFresh(proxy.url));
      const seconds = (performance.now() - started) / 1000;
      assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
      // A slow machine only makes this longer; two budgets could not make it this long.
      assert.ok(seconds >= 2.2, `40 requests at one 10 req/s budget took ${seconds.toFixed(2)} s (two budgets: about 1 s)`);
      const text = (await getFresh(`${proxy.url}/metrics`)).body;
      assert.ok((sampleSum(text, 'zai_proxy_cluster_worker_requests_total', { worker: '0' }) ?? 0) > 0);
      assert.ok((sampleSum(text, 'zai_proxy_cluster_worker_requests_total', { worker: '1' }) ?? 0) > 0);
      assert.equal(sampleSum(text, 'zai_proxy_rate_limit_requests_per_second'), 10);
      assert.equal(sampleSum(text, 'zai_proxy_rate_limit_wait_seconds_count'), n);
      assert.equal(sampleSum(text, 'zai_proxy_cluster_ipc_failures_total') ?? 0, 0);
    } finally {
      await proxy.stop();
      await sim.close();
    }
  });

  it('keeps them under one ceiling at a rate where workers lease tokens in batches too', async () => {
    const sim = await startSimulator();
    // 200 req/s (leases of 10 tokens), burst 200: 600 requests take at least 2 s under one budget, about 0.5 s under two.
    const proxy = await spawnProxy({
      ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl,
      PROXY_WORKERS: '2',
      RATE_LIMIT_INITIAL: '200',
      RATE_LIMIT_MAX: '200',
      QUEUE_TIMEOUT: '60s',
    });
    try {
      const n = 600;
      // 50 kept-alive connections (round-robin spreads them over the workers), not 600 sockets.
      const pool = new Pool(proxy.url, { connections: 50 });
      const started = performance.now();
      const answers = await inParallel(n, 50, async () => {
        const r = await pool.request({
          path: '/v1/chat/completions',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'x' }] }),
        });
        await r.body.text();
        return { status: r.statusCode };
      });
      const seconds = (performance.now() - started) / 1000;
      await pool.close();
      assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
      // A lease moves a token at most 100 ms earlier: (600 - 200) / 200 - 0.1 = 1.9 s at the least.
      assert.ok(seconds >= 1.5, `600 requests at one 200 req/s budget took ${seconds.toFixed(2)} s (two budgets: about 0.5 s)`);
      const text = (await getFresh(`${proxy.url}/metrics`)).body;
      assert.ok((sampleSum(text, 'zai_proxy_cluster_worker_requests_total', { worker: '0' }) ?? 0) > 0);
      assert.ok((sampleSum(text, 'zai_proxy_cluster_worker_requests_total', { worker: '1' }) ?? 0) > 0);
      assert.equal(sampleSum(text, 'zai_proxy_requests_total', { status_code: '200' }), n);
    } finally {
      await proxy.stop();
      await sim.close();
    }
  });

  it('on SIGTERM refuses new connections, lets the stream in flight finish, and every process exits 0', async () => {
    const sim = await startSimulator({ scenario: { gateChunks: true, streamChunks: 3 } });
    const proxy = await spawnProxy({ ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl, PROXY_WORKERS: '2', SHUTDOWN_GRACE: '20s', ...wide });
    try {
      const res = await openGatedStream(sim, proxy.url);
      // Whichever worker answers, the whole has one stream in flight.
      let pids: number[] = [];
      for (let i = 0; i < 4; i++) {
        const h = JSON.parse((await getFresh(`${proxy.url}/health`)).body);
        assert.equal(h.inFlight, 1);
        assert.equal(h.workers.answering, 2);
        pids = h.workers.list.map((w: { pid: number }) => w.pid);
      }
      const exited = once(proxy.child, 'exit');
      proxy.child.kill('SIGTERM');
      // Both workers drain; the port closes while the stream goes on.
      await pollUntil(() => (proxy.logs().match(/"signal":"primary"[^\n]*"msg":"draining"/g) ?? []).length === 2, 'both workers draining', 10_000);
      await pollUntil(() => refused(proxy.url), 'new connections refused', 10_000);
      sim.releaseChunk(10);
      const text = await res.body.text();
      assert.ok(text.includes('data: [DONE]'), 'the stream in flight finished');
      const [code] = await exited;
      assert.equal(code, 0);
      for (const pid of pids) await pollUntil(() => !existsSync(`/proc/${pid}`), `worker ${pid} gone`, 5000);
    } finally {
      if (proxy.child.exitCode === null) proxy.child.kill('SIGKILL');
      await sim.close();
    }
  });

  it('replaces a worker that dies, and the summed counters do not go down', async () => {
    const sim = await startSimulator();
    const proxy = await spawnProxy({ ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl, PROXY_WORKERS: '2', ...wide });
    try {
      const n = 20;
      await inParallel(n, 4, () => chatFresh(proxy.url));
      const route = { path: '/v1/chat/completions', status_code: '200' };
      assert.equal(sampleSum((await getFresh(`${proxy.url}/metrics`)).body, 'zai_proxy_requests_total', route), n);
      const h = JSON.parse((await getFresh(`${proxy.url}/health`)).body);
      const victim = h.workers.list[0].pid as number;
      process.kill(victim, 'SIGKILL');
      // A connection the primary handed to the worker as it died is lost with it: such a probe
      // gives up after 2 s and the next one tries again.
      await pollUntil(
        async () => {
          const now = await getFresh(`${proxy.url}/health`, 2000).then(
            (r) => JSON.parse(r.body),
            () => undefined,
          );
          return now?.workers.answering === 2 && !now.workers.list.some((w: { pid: number }) => w.pid === victim);
        },
        'a replacement worker answering',
        20_000,
      );
      const text = (await getFresh(`${proxy.url}/metrics`)).body;
      assert.equal(sampleSum(text, 'zai_proxy_requests_total', route), n, "the dead worker's requests still counted");
      assert.equal(sampleSum(text, 'zai_proxy_request_duration_seconds_count', route), n);
      assert.equal(sampleSum(text, 'zai_proxy_cluster_workers'), 2);
      assert.equal((await chatFresh(proxy.url)).status, 200);
    } finally {
      await proxy.stop();
      await sim.close();
    }
  });

  it('a primary that stops answering breaks no request: the budget goes local, /metrics says 503, failures are counted', async () => {
    const sim = await startSimulator();
    const proxy = await spawnProxy({ ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl, PROXY_WORKERS: '2' });
    // One kept-alive connection: it stays with its worker while the primary (which accepts new ones) is stopped.
    const client = new Client(proxy.url, { pipelining: 1, headersTimeout: 20_000, bodyTimeout: 20_000 });
    const chat = () =>
      client.request({
        path: '/v1/chat/completions',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'x' }] }),
      });
    const primary = proxy.child.pid!;
    try {
      const first = await chat();
      await first.body.text();
      assert.equal(first.statusCode, 200);
      process.kill(primary, 'SIGSTOP');
      const started = performance.now();
      const during = await chat();
      await during.body.text();
      assert.equal(during.statusCode, 200, 'the request is answered on the local budget');
      assert.ok(performance.now() - started < 10_000);
      const scrape = await client.request({ path: '/metrics', method: 'GET' });
      await scrape.body.text();
      assert.equal(scrape.statusCode, 503, 'no partial sums');
      const health = await client.request({ path: '/health', method: 'GET' });
      const h = (await health.body.json()) as { status: string; degraded?: { reason: string } };
      assert.equal(health.statusCode, 200);
      assert.equal(h.status, 'degraded');
      process.kill(primary, 'SIGCONT');
      await pollUntil(
        async () => {
          const r = await client.request({ path: '/metrics', method: 'GET' });
          const text = await r.body.text();
          return (
            r.statusCode === 200 &&
            (sampleSum(text, 'zai_proxy_cluster_ipc_failures_total', { op: 'budget' }) ?? 0) >= 1 &&
            (sampleSum(text, 'zai_proxy_cluster_ipc_failures_total', { op: 'metrics' }) ?? 0) >= 1
          );
        },
        'the failures counted once the primary answers again',
        15_000,
      );
    } finally {
      process.kill(primary, 'SIGCONT');
      await client.close().catch(() => undefined);
      await proxy.stop();
      await sim.close();
    }
  });

  it('every worker resumes the limits in RATE_LIMIT_STATE_FILE, which the primary reads once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zai-cluster-state-'));
    const file = join(dir, 'limiter-state.json');
    await saveLimits(file, { ceiling: 7, rate: 6.86, concurrencyLimit: 5, savedAtMs: Date.now() });
    const sim = await startSimulator();
    const proxy = await spawnProxy({ ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl, PROXY_WORKERS: '2', RATE_LIMIT_STATE_FILE: file });
    try {
      // max() over the workers: one worker still at the initial 10 req/s would show here.
      const text = (await getFresh(`${proxy.url}/metrics`)).body;
      assert.equal(sampleSum(text, 'zai_proxy_rate_limit_ceiling'), 7);
      assert.equal(sampleSum(text, 'zai_proxy_rate_limit_requests_per_second'), 6.86);
      assert.equal((proxy.logs().match(/resumed persisted limits/g) ?? []).length, 1);
    } finally {
      await proxy.stop();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('PROXY_WORKERS=1 (the default) is one process, as before', async () => {
    const sim = await startSimulator();
    const proxy = await spawnProxy({ ZAI_OPENAI_BASE_URL: sim.openaiBaseUrl, PROXY_WORKERS: '1' });
    try {
      assert.match(proxy.logs(), /"url":"http:[^"]+","variant"/);
      const children = await import('node:fs').then((fs) => fs.readFileSync(`/proc/${proxy.child.pid}/task/${proxy.child.pid}/children`, 'utf8').trim());
      assert.equal(children, '', 'no worker processes');
      const h = JSON.parse((await getFresh(`${proxy.url}/health`)).body);
      assert.equal(h.workers, undefined);
      assert.equal(h.limiter.sharedState, 'local');
      assert.equal((await chatFresh(proxy.url)).status, 200);
    } finally {
      await proxy.stop();
      await sim.close();
    }
  });
});
