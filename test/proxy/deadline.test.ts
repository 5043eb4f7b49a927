import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineTimers } from '../../src/proxy/deadline.js';
import { pollUntil } from '../support/wait.js';

/** A call stand-in that records whether its deadline stopped it. */
const target = () => ({
  aborted: 0,
  abort() {
    this.aborted++;
  },
});

/**
 * Every attempt deadline shares one timer. Wiring only: the deadlines here are tens of
 * milliseconds, and every wait is a bounded poll for something that must happen, never a
 * sleep that expects something not to have happened yet.
 */
describe('attempt deadlines behind one timer', () => {
  it('a deadline already passed aborts at once', () => {
    const timers = new DeadlineTimers();
    const t = target();
    const d = timers.arm(performance.now() - 1, t);
    assert.deepEqual({ expired: d.expired, aborted: t.aborted, pending: timers.pending }, { expired: true, aborted: 1, pending: 0 });
  });

  it('a deadline that passes aborts its call; one cleared before never does', async () => {
    const timers = new DeadlineTimers();
    const [kept, cleared] = [target(), target()];
    const at = performance.now() + 20;
    const d = timers.arm(at, kept);
    timers.arm(at, cleared).clear();
    await pollUntil(() => d.expired, 'the kept deadline expires');
    assert.ok(performance.now() >= at, 'not before its time');
    assert.deepEqual(
      { kept: kept.aborted, cleared: cleared.aborted, pending: timers.pending, queued: timers.queued },
      { kept: 1, cleared: 0, pending: 0, queued: 0 },
    );
    d.clear(); // after expiry: nothing more happens
    assert.equal(kept.aborted, 1);
  });

  it('a retried attempt of an older request, due sooner than newer ones, fires first', async () => {
    const timers = new DeadlineTimers();
    const [later, sooner] = [target(), target()];
    const l = timers.arm(performance.now() + 60_000, later);
    const s = timers.arm(performance.now() + 20, sooner);
    await pollUntil(() => s.expired, 'the sooner deadline expires');
    assert.deepEqual({ later: later.aborted, laterExpired: l.expired, pending: timers.pending }, { later: 0, laterExpired: false, pending: 1 });
    l.clear();
    assert.equal(timers.pending, 0);
  });

  it('cleared deadlines do not pile up while the first one is still far away', () => {
    const timers = new DeadlineTimers();
    const start = performance.now();
    const live = timers.arm(start + 60_000, target());
    for (let i = 0; i < 100_000; i++) timers.arm(start + 60_000 + i, target()).clear();
    assert.equal(timers.pending, 1);
    assert.ok(timers.queued <= 200, `queued ${timers.queued} after 100,000 cleared deadlines`);
    live.clear();
  });
});
