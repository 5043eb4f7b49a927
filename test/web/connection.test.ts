import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelay, initialConnection, nextConnection, secondsUntilRetry, type ConnectionState } from '../../web/src/live/connection.js';
import { LiveFeed, type EventSourceLike } from '../../web/src/live/feed.js';

describe('live connection state', () => {
  test('backs off 1, 2, 4, 8, 16 s and holds at 30 s', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10].map(backoffDelay), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
  test('errors while connecting climb the schedule; an open connection resets it', () => {
    let s: ConnectionState = initialConnection;
    s = nextConnection(s, { type: 'error', nowMs: 0, reason: 'x' });
    assert.deepEqual(s, { kind: 'waiting', attempt: 1, retryAtMs: 1000, lastError: 'x' });
    s = nextConnection(s, { type: 'retry-due' });
    s = nextConnection(s, { type: 'error', nowMs: 5000, reason: 'x' });
    assert.equal(s.kind === 'waiting' && s.retryAtMs, 7000);
    assert.equal(secondsUntilRetry(s, 5001), 2);
    assert.equal(secondsUntilRetry(s, 6500), 1);
    assert.equal(secondsUntilRetry(s, 9000), 0);
    s = nextConnection(s, { type: 'open', nowMs: 9000 });
    s = nextConnection(s, { type: 'error', nowMs: 10_000, reason: 'x' });
    assert.equal(s.kind === 'waiting' && s.retryAtMs, 11_000);
    s = nextConnection(s, { type: 'retry-now' });
    assert.deepEqual(s, { kind: 'connecting', attempt: 0 });
  });
});

class FakeSource implements EventSourceLike {
  onopen: ((ev: Event) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  closed = false;
  listeners = new Map<string, (ev: MessageEvent) => void>();
  constructor(readonly url: string) {}
  addEventListener(type: string, l: (ev: MessageEvent) => void) {
    this.listeners.set(type, l);
  }
  close() {
    this.closed = true;
  }
  emit(type: string, data: unknown, lastEventId = '') {
    this.listeners.get(type)!({ data: JSON.stringify(data), lastEventId } as MessageEvent);
  }
}

describe('live feed shell', () => {
  test('closes a failed EventSource, retries on the schedule, resumes from the last event id and asks for a backfill', () => {
    const sources: FakeSource[] = [];
    const timers: { fn: () => void; ms: number }[] = [];
    let now = 0;
    const seen: string[] = [];
    const feed = new LiveFeed(
      '/api/events',
      {
        open: (u) => {
          const source = new FakeSource(u);
          sources.push(source);
          return source;
        },
        now: () => now,
        setTimeout: (fn, ms) => timers.push({ fn, ms }),
        clearTimeout: () => {},
      },
      {
        hello: () => seen.push('hello'),
        snapshot: (s) => seen.push(`snap:${s.variant}`),
        status: () => seen.push('status'),
        reconnected: () => seen.push('reconnected'),
        state: (s) => seen.push(s.kind),
      },
    );
    feed.start();
    sources[0].onopen!(new Event('open'));
    sources[0].emit('hello', { variants: [] });
    sources[0].emit('snapshot', { ts: 1, variant: 'stable' }, '1:stable');
    sources[0].listeners.get('snapshot')!({ data: '{not json', lastEventId: '' } as MessageEvent);
    now = 100;
    sources[0].onerror!(new Event('error'));
    assert.equal(sources[0].closed, true);
    assert.equal(timers.length, 1);
    assert.equal(timers[0].ms, 1000);
    timers[0].fn();
    assert.equal(sources.length, 2);
    assert.equal(sources[1].url, '/api/events?lastEventId=1%3Astable');
    sources[1].onopen!(new Event('open'));
    assert.deepEqual(seen, ['open', 'hello', 'snap:stable', 'waiting', 'connecting', 'open', 'reconnected']);
    feed.stop();
    assert.equal(sources[1].closed, true);
  });
});
