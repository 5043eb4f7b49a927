import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { MESSAGES, post, sseData } from './support.js';

/** Reads a body to its end or its error, keeping whatever bytes arrived. */
async function drain(body: AsyncIterable<Uint8Array>): Promise<{ text: string; error: unknown }> {
  let text = '';
  try {
    for await (const chunk of body) text += Buffer.from(chunk).toString('utf8');
    return { text, error: undefined };
  } catch (error) {
    return { text, error };
  }
}

describe('simulator faults', () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator();
  });
  after(() => sim.close());
  beforeEach(() => {
    sim.resetScenario();
    sim.resetStats();
  });

  const url = () => `${sim.openaiBaseUrl}/chat/completions`;
  const chat = (stream = false) => post(url(), { model: 'glm-4.7', messages: MESSAGES, stream });
  const raw = (stream: boolean, signal?: AbortSignal) =>
    request(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'glm-4.7', messages: MESSAGES, stream }),
      signal,
    });

  it('status faults fire in order, each consumed when it fires', async () => {
    sim.setScenario({
      faults: [
        { kind: 'status', status: 503, times: 2 },
        { kind: 'status', status: 500, code: 1234 },
      ],
    });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await chat()).status);
    assert.deepEqual(statuses, [503, 503, 500, 200]);
    assert.equal(sim.stats().byOutcome['fault:status'], 3);
    assert.deepEqual(sim.scenario().faults, []);
  });

  it('times -1 fires on every request', async () => {
    sim.setScenario({ faults: [{ kind: 'status', status: 502, times: -1 }] });
    for (let i = 0; i < 3; i++) assert.equal((await chat()).status, 502);
  });

  it('zaiError uses the status Z.AI pairs with the code and sends Retry-After when asked', async () => {
    sim.setScenario({
      faults: [
        { kind: 'zaiError', code: 1305, retryAfter: '2' },
        { kind: 'zaiError', code: 1211 },
      ],
    });
    const overloaded = await chat();
    assert.equal(overloaded.status, 429);
    assert.equal(overloaded.headers['retry-after'], '2');
    assert.equal(JSON.parse(overloaded.text).error.code, '1305');
    const unknownModel = await chat();
    assert.equal(unknownModel.status, 400);
    assert.equal(JSON.parse(unknownModel.text).error.code, '1211');
  });

  it('resetBeforeHeaders destroys the connection without an answer', async () => {
    sim.setScenario({ faults: [{ kind: 'resetBeforeHeaders' }] });
    await assert.rejects(chat());
    assert.equal((await chat()).status, 200);
    assert.equal(sim.stats().clientAborts, 0, 'a reset the simulator made is not a client abort');
  });

  it('resetMidStream cuts the stream after the given number of chunks', async () => {
    sim.setScenario({ faults: [{ kind: 'resetMidStream', afterChunks: 2 }] });
    const res = await raw(true);
    assert.equal(res.statusCode, 200);
    const { text, error } = await drain(res.body);
    assert.ok(error, 'the body must end in an error, not cleanly');
    assert.equal(sseData(text).length, 2);
    assert.doesNotMatch(text, /\[DONE\]/);
    assert.equal(sim.stats().chunksSent, 2);
  });

  it('slowFirstByte holds the headers back (the request stays pending until aborted)', async () => {
    sim.setScenario({ faults: [{ kind: 'slowFirstByte', delayMs: 600_000 }] });
    const ac = new AbortController();
    let answered = false;
    const pending = raw(false, ac.signal).then(() => (answered = true));
    await sim.waitFor((s) => s.byOutcome['fault:slowFirstByte'] === 1 && s.inFlight === 1);
    assert.equal(answered, false);
    ac.abort();
    await assert.rejects(pending);
    await sim.waitFor((s) => s.clientAborts === 1 && s.inFlight === 0);
  });

  it('malformedJson answers 200 with a cut JSON body', async () => {
    sim.setScenario({ faults: [{ kind: 'malformedJson' }] });
    const r = await chat();
    assert.equal(r.status, 200);
    assert.ok(r.text.length > 10);
    assert.throws(() => JSON.parse(r.text));
  });

  it('malformedSse sends a cut event and garbage, then ends without [DONE]', async () => {
    sim.setScenario({ faults: [{ kind: 'malformedSse' }] });
    const r = await chat(true);
    assert.equal(r.status, 200);
    assert.throws(() => sseData(r.text));
    assert.doesNotMatch(r.text, /\[DONE\]/);
    assert.match(r.text, /^data: \{"id":"chatcmpl-sim-/);
  });

  it('emptyBody answers 200 with nothing', async () => {
    sim.setScenario({ faults: [{ kind: 'emptyBody' }, { kind: 'emptyBody' }] });
    const r = await chat();
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
    const s = await chat(true);
    assert.equal(s.status, 200);
    assert.equal(s.text, '');
  });

  it('truncated declares a Content-Length and closes before it is reached', async () => {
    sim.setScenario({ faults: [{ kind: 'truncated' }] });
    const res = await raw(false);
    assert.equal(res.statusCode, 200);
    const declared = Number(res.headers['content-length']);
    const { text, error } = await drain(res.body);
    assert.ok(error);
    assert.ok(Buffer.byteLength(text) < declared);
  });

  it('faults apply to the Anthropic shape too', async () => {
    sim.setScenario({ faults: [{ kind: 'zaiError', code: 1302 }] });
    const r = await post(`${sim.anthropicBaseUrl}/v1/messages`, { model: 'glm-4.7', messages: MESSAGES });
    assert.equal(r.status, 429);
    assert.equal(JSON.parse(r.text).error.code, '1302');
  });
});
