import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log/logger.js';
import { AccessLog, type AccessRecord } from '../../src/log/access-log.js';

function capture(level: string) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { log: createLogger(level, sink), lines };
}

const record: AccessRecord = {
  method: 'POST',
  route: '/v1/messages',
  status: 200,
  ms: 12.3456,
  upstreamMs: 11.111,
  waitMs: 0,
  attempts: 1,
  stream: true,
  bytesIn: 120,
  bytesOut: 4096,
  clientGone: false,
  zaiError: undefined,
};

describe('access log lines', () => {
  it('are pino-shaped JSON with the logger bindings, like a pino info line', () => {
    const { log, lines } = capture('info');
    const child = log.child({ part: 'proxy' });
    const access = new AccessLog(child);
    access.write(record);
    access.flush();
    child.info({ component: 'access', method: 'POST' }, 'request');
    const ours = JSON.parse(lines[0]!) as Record<string, unknown>;
    const pinos = JSON.parse(lines[1]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(ours).slice(0, 5), Object.keys(pinos).slice(0, 5));
    assert.equal(ours.level, 30);
    assert.equal(ours.part, 'proxy');
    assert.equal(ours.msg, 'request');
    assert.equal(ours.ms, 12.35);
    assert.equal(ours.stream, true);
    assert.equal(ours.clientGone, undefined);
  });

  it('name only bounded values, and nothing below the configured level', () => {
    const { log, lines } = capture('info');
    const access = new AccessLog(log);
    access.write({ ...record, method: 'BR"EW\\', clientGone: true, zaiError: 'quota' });
    access.flush();
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(line.method, 'other');
    assert.equal(line.clientGone, true);
    assert.equal(line.zaiError, 'quota');
    const quiet = capture('warn');
    const quietAccess = new AccessLog(quiet.log);
    quietAccess.write(record);
    quietAccess.flush();
    assert.equal(quiet.lines.length, 0);
  });
});

describe('access log writes are off the request path', () => {
  it('keep records on the request turn and write them later as one batch', async () => {
    const { log, lines } = capture('info');
    const access = new AccessLog(log);
    access.write(record);
    access.write({ ...record, status: 429 });
    assert.equal(lines.length, 0, 'nothing is written while the request is being answered');
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(lines.length, 1, 'one write call for the batch');
    assert.deepEqual(
      lines[0]!
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { status: number }).status),
      [200, 429],
    );
  });

  it('stop writing to a blocked destination, keep a bounded backlog, count what is dropped', async () => {
    let writes = 0;
    const stuck = new Writable({
      highWaterMark: 16,
      write(_chunk, _enc, _done) {
        writes++; // never calls done: a reader that stopped reading
      },
    });
    const access = new AccessLog(createLogger('info', stuck));
    access.write(record);
    access.flush();
    const started = performance.now();
    for (let i = 0; i < 60_000; i++) access.write(record);
    assert.ok(performance.now() - started < 2_000, 'writes never wait for the destination');
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(writes, 1, 'no second write until the destination drains');
    assert.equal(access.dropped, 10_000, 'past 50,000 kept records new ones are dropped and counted');
  });
});

describe('access log fields', () => {
  it('carry every value as given, line after line with the same and with other values', () => {
    const { log, lines } = capture('info');
    const access = new AccessLog(log);
    const records: AccessRecord[] = [];
    for (let i = 0; i < 300; i++)
      records.push({
        ...record,
        status: [200, 429, 500, 200, 99999][i % 5]!,
        attempts: (i % 4) + 1,
        stream: i % 3 === 0,
        ms: i * 1.237,
        upstreamMs: i === 7 ? 0.004 : i / 7,
        waitMs: i % 2 ? 0 : 1e6 + i,
        bytesIn: i * 1000,
        bytesOut: 2 ** 40 + i,
        clientGone: i % 11 === 0,
        zaiError: i % 13 === 0 ? 'quota' : undefined,
      });
    for (const r of records) access.write(r);
    access.flush();
    const parsed = lines[0]!
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const round = (n: number) => Math.round(n * 100) / 100;
    assert.deepEqual(
      parsed.map((l) => [l.status, l.attempts, l.stream, l.ms, l.upstreamMs, l.waitMs, l.bytesIn, l.bytesOut, l.clientGone ?? false, l.zaiError]),
      records.map((r) => [r.status, r.attempts, r.stream, round(r.ms), round(r.upstreamMs), round(r.waitMs), r.bytesIn, r.bytesOut, r.clientGone, r.zaiError]),
    );
  });

  it('carry the time of the write as pino writes it, and each route and method as given', () => {
    const { log, lines } = capture('info');
    const access = new AccessLog(log);
    const before = Date.now();
    for (const [route, method] of [
      ['/v1/messages', 'POST'],
      ['/v1/models', 'GET'],
      ['/v1/messages', 'GET'],
      ['/v1/messages', 'POST'],
    ] as const)
      access.write({ ...record, route, method });
    access.flush();
    const parsed = lines[0]!
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { time: number; route: string; method: string });
    assert.deepEqual(
      parsed.map((l) => `${l.method} ${l.route}`),
      ['POST /v1/messages', 'GET /v1/models', 'GET /v1/messages', 'POST /v1/messages'],
    );
    for (const l of parsed) assert.ok(Number.isInteger(l.time) && l.time >= before && l.time <= Date.now(), `time ${l.time}`);
  });
});
