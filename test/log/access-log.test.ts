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
    new AccessLog(child).write(record);
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
    new AccessLog(log).write({ ...record, method: 'BR"EW\\', clientGone: true, zaiError: 'quota' });
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(line.method, 'other');
    assert.equal(line.clientGone, true);
    assert.equal(line.zaiError, 'quota');
    const quiet = capture('warn');
    new AccessLog(quiet.log).write(record);
    assert.equal(quiet.lines.length, 0);
  });
});
