import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { spawnProxy, type ProxyProcess } from '../support/proxy-process.js';
import { pollUntil } from '../support/wait.js';

/**
 * MAX_HELD_BODY_BYTES bounds the request bodies held at once: 60 concurrent 8 MiB bodies
 * against an upstream that takes its time would otherwise all sit in memory (~480 MiB).
 *
 * The upstream takes its time behind a gate the test opens, not for a fixed delay: the
 * bodies it holds are held until every other request has been answered, however slowly a
 * loaded machine moves them, so how many get through is exact. Memory is the proxy's live
 * memory measured inside its own process after a full collection (memory-probe.mjs), not its
 * RSS, which also counts garbage not yet collected and pages malloc keeps.
 */
const MiB = 1024 * 1024;
const BODY = 8 * MiB;
const BUDGET = 64 * MiB;

/** The simulator behind a gate: requests are read whole, then wait while it is closed. */
interface GatedUpstream {
  /** What to give the proxy as ZAI_*_BASE_URL for a simulator base URL. */
  baseUrl(simBaseUrl: string): string;
  /** Requests read and waiting for the gate. */
  readonly waiting: number;
  close(): void;
  open(): void;
  stop(): Promise<void>;
}

async function gatedUpstream(simOrigin: string): Promise<GatedUpstream> {
  let waiting = 0;
  let opened = Promise.resolve();
  let openGate = () => {};
  const readAll = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      waiting++;
      await opened;
      waiting--;
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length', 'transfer-encoding'].includes(k)),
      ) as Record<string, string>;
      const up = await request(`${simOrigin}${req.url}`, { method: req.method as 'POST', headers, body });
      res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
      for await (const c of up.body) res.write(c);
      res.end();
    })().catch((err: Error) => res.destroy(err));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    baseUrl: (sim) => `${origin}${new URL(sim).pathname}`,
    get waiting() {
      return waiting;
    },
    close: () => {
      opened = new Promise((r) => (openGate = r));
    },
    open: () => openGate(),
    stop: async () => {
      openGate();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('global budget for held request bodies', () => {
  let sim: Simulator;
  let gate: GatedUpstream;
  let proxy: ProxyProcess;
  before(async () => {
    sim = await startSimulator();
    gate = await gatedUpstream(new URL(sim.openaiBaseUrl).origin);
    // A process of its own, so its memory is the proxy's alone.
    proxy = await spawnProxy(
      {
        ZAI_OPENAI_BASE_URL: gate.baseUrl(sim.openaiBaseUrl),
        ZAI_ANTHROPIC_BASE_URL: gate.baseUrl(sim.anthropicBaseUrl),
        RATE_LIMIT_ENABLED: 'false',
        MAX_BODY_BYTES: String(BODY + MiB),
        MAX_HELD_BODY_BYTES: String(BUDGET),
        UPSTREAM_CONNECTIONS: '128',
      },
      [],
      { memoryProbe: true },
    );
  });
  after(async () => {
    await proxy.stop();
    await gate.stop();
    await sim.close();
  });

  const held = async () => {
    const res = await request(`${proxy.url}/health`);
    return ((await res.body.json()) as { heldBodyBytes: number }).heldBodyBytes;
  };
  // One shared 8 MiB payload, so the test's own memory does not grow with the request count.
  const payload = Buffer.from(JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'x'.repeat(BODY - 100) }] }));
  const fits = Math.floor(BUDGET / payload.length);
  const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

  it('60 concurrent 8 MiB bodies: those past the budget get 503 with Retry-After, memory stays bounded', async () => {
    assert.equal(fits, 8);
    const memory = proxy.memory!;
    const base = await memory.sample();
    await memory.watch();
    let peakHeld = 0;
    const sampler = setInterval(
      () =>
        void held().then(
          (h) => (peakHeld = Math.max(peakHeld, h)),
          () => undefined,
        ),
      50,
    );
    gate.close();
    try {
      let answered = 0;
      const pending = Array.from({ length: 60 }, async () => {
        try {
          const res = await request(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
          const body = (await res.body.json()) as { error?: { type: string } };
          return { status: res.statusCode, retryAfter: res.headers['retry-after'], type: body.error?.type };
        } catch (err) {
          return { status: 0, retryAfter: undefined, type: `client error ${(err as { code?: string }).code ?? String(err)}` };
        } finally {
          answered++;
        }
      });
      // Every request is either answered or waiting upstream: those within the budget wait
      // there until the gate opens, the rest are answered meanwhile.
      await pollUntil(() => answered + gate.waiting === 60, 'every request answered or waiting upstream', 60_000);
      const whileHeld = await memory.sample();
      const heldNow = await held();
      assert.deepEqual({ answered, waiting: gate.waiting, heldNow }, { answered: 60 - fits, waiting: fits, heldNow: fits * payload.length });
      gate.open();
      const results = await Promise.all(pending);

      const ok = results.filter((r) => r.status === 200).length;
      const refused = results.filter((r) => r.status === 503);
      assert.equal(ok, fits, JSON.stringify(results.filter((r) => r.status !== 200 && r.status !== 503)));
      assert.equal(refused.length, 60 - fits, JSON.stringify(results.filter((r) => r.status !== 200 && r.status !== 503)));
      for (const r of refused) {
        assert.equal(r.type, 'overloaded_error');
        assert.ok(Number(r.retryAfter) >= 1);
      }
      assert.ok(peakHeld <= BUDGET, `peak held ${peakHeld}`);
      // The body bytes alive in the proxy never exceed the budget plus one body (a body being
      // joined from its chunks exists twice for a moment). Unbounded, they would reach 480 MiB.
      const peak = await memory.peak();
      const grew = { whileHeld: whileHeld.arrayBuffers - base.arrayBuffers, peak: peak.arrayBuffers - base.arrayBuffers };
      const detail = `array buffers ${mib(base.arrayBuffers)} at the start, +${mib(grew.whileHeld)} while ${fits} bodies were held, +${mib(grew.peak)} at the peak; heap +${mib(peak.heapUsed - base.heapUsed)} at the peak`;
      console.log(detail);
      assert.ok(grew.whileHeld >= fits * payload.length, `the held bodies are in memory: ${detail}`);
      assert.ok(grew.peak <= BUDGET + BODY, detail);
    } finally {
      clearInterval(sampler);
      gate.open();
    }
    await pollUntil(async () => (await held()) === 0, 'budget given back');
    // And given back for real: nothing of the 60 bodies stays alive.
    const end = await memory.sample();
    assert.ok(end.arrayBuffers - base.arrayBuffers < BODY, `array buffers ${mib(base.arrayBuffers)} at the start, ${mib(end.arrayBuffers)} after`);
  });

  it('a chunked body is counted as it arrives, and refused once it does not fit', async () => {
    gate.close();
    try {
      // Fill 56 of the 64 MiB with requests that wait upstream.
      const fillers = Array.from({ length: 7 }, () =>
        request(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload }).then(async (r) => {
          await r.body.dump();
          return r.statusCode;
        }),
      );
      await pollUntil(() => gate.waiting === 7, 'seven bodies waiting upstream', 60_000);
      assert.equal(await held(), 7 * payload.length);
      const chunked = await request(`${proxy.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // Under MAX_BODY_BYTES (9 MiB), but 56 + 9 MiB does not fit the budget.
        body: Readable.from([payload, Buffer.alloc(MiB - 1024, 0x20)]),
      });
      assert.equal(chunked.statusCode, 503);
      assert.ok(Number(chunked.headers['retry-after']) >= 1);
      const body = (await chunked.body.json()) as { type: string; error: { type: string } };
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, 'overloaded_error');
      gate.open();
      assert.deepEqual(await Promise.all(fillers), Array(7).fill(200));
    } finally {
      gate.open();
    }
    await pollUntil(async () => (await held()) === 0, 'budget given back');
    const res = await request(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
  });
});
