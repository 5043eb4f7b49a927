import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BudgetHost } from '../../src/cluster/budget-host.js';
import { Channel, type Op } from '../../src/cluster/channel.js';
import { IpcBudget } from '../../src/cluster/ipc-budget.js';

/** A worker's IpcBudget wired to a BudgetHost in this process, counting the round trips. */
function linked(host: BudgetHost) {
  const calls: Op[] = [];
  const given = { tokens: 0 };
  let primary: Channel;
  const worker = new Channel((m, done) =>
    setImmediate(() => {
      primary.receive(m);
      done(null);
    }),
  );
  primary = new Channel(
    (m, done) =>
      setImmediate(() => {
        worker.receive(m);
        done(null);
      }),
    {
      takeToken: (b) => {
        const wait = host.takeToken(b);
        if (wait === 0) given.tokens++;
        return wait;
      },
      takeTokens: (b) => {
        calls.push('takeTokens');
        const lease = host.takeTokens(b);
        given.tokens += lease.granted;
        return lease;
      },
    },
  );
  return { budget: new IpcBudget(worker, 30_000), calls, given };
}

describe('the budget the primary holds for its workers', () => {
  let keep: NodeJS.Timeout;
  before(() => (keep = setInterval(() => undefined, 1000)));
  after(() => clearInterval(keep));

  it('never grants more tokens than its one bucket holds, however they are asked for', () => {
    const host = new BudgetHost(30_000, () => 1_000);
    let granted = 0;
    for (let i = 0; i < 100; i++) granted += host.takeTokens({ rate: 100, want: 7 }).granted;
    assert.equal(granted, 100, 'a burst of one second at 100 req/s');
    const next = host.takeTokens({ rate: 100, want: 7 });
    assert.equal(next.granted, 0);
    assert.ok(next.waitMs > 0 && next.waitMs <= 10);
    assert.equal(host.takeToken({ rate: 100, burst: 100 }) > 0, true);
  });

  it('at high rates a worker spends leased tokens without a round trip, each one from the bucket', async () => {
    const host = new BudgetHost(30_000);
    const { budget, calls, given } = linked(host);
    const rate = 1000; // a lease of 50 tokens
    let admitted = 0;
    for (let i = 0; i < 600; i++) {
      if (budget.takeLeased(rate)) admitted++;
      else if ((await budget.takeToken(rate, 1000)) === 0) admitted++;
      if (i % 25 === 0) await new Promise((r) => setImmediate(r)); // let prefetches land
    }
    assert.ok(admitted > 0 && admitted <= given.tokens, `admitted ${admitted}, the bucket gave ${given.tokens}`);
    assert.ok(calls.length < admitted / 10, `${calls.length} round trips for ${admitted} tokens`);
  });

  it('at low rates asks for every token (no lease left idle in a worker)', async () => {
    const host = new BudgetHost(30_000);
    const { budget, calls } = linked(host);
    assert.equal(budget.takeLeased(10), false);
    assert.equal(await budget.takeToken(10, 10), 0);
    assert.equal(calls.length, 0, 'takeToken, not a lease');
  });
});
