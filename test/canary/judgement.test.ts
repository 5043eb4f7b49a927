import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canaryWorsePValue, judge, normalCdf, throttledCounts, wilsonUpper, type ArmCounts } from '../../src/canary/judgement.js';
import { arm } from './support.js';

const both = (stable: ArmCounts, canary: ArmCounts) => ({ windowS: 1800, window: { stable, canary }, sustain: { stable, canary } });

describe('canary judgement statistics', () => {
  it('normal CDF and the one-sided Wilson bound match textbook values', () => {
    assert.ok(Math.abs(normalCdf(1.6448536) - 0.95) < 1e-6);
    assert.ok(Math.abs(normalCdf(-1.959964) - 0.025) < 1e-6);
    // 0 errors in 59 requests is the first sample whose 95 % upper bound is below 5 %.
    assert.ok(wilsonUpper(0, 59) < 0.05 && wilsonUpper(0, 50) > 0.05, `${wilsonUpper(0, 59)} ${wilsonUpper(0, 50)}`);
  });

  it('the two-proportion test tells 20/100 from 2/100 and not 3/100 from 2/100', () => {
    assert.ok(canaryWorsePValue(20, 100, 2, 100) < 0.001);
    assert.ok(canaryWorsePValue(3, 100, 2, 100) > 0.3);
    assert.equal(canaryWorsePValue(0, 100, 0, 100), 1);
  });

  it('splits 429s into proxy queue, quota and upstream rate', () => {
    const a = arm('canary', { requests: 100 });
    a.byStatus['429'] = 10;
    a.rejections = { capacity: 2, queue_timeout: 1, quota: 1 };
    a.zaiErrors = { quota: 2, frequency: 7 };
    assert.deepEqual(throttledCounts(a), { total: 10, proxy_queue: 3, upstream_quota: 3, upstream_rate: 4 });
  });
});

describe('canary verdicts', () => {
  it('promotes a canary that matches stable', () => {
    const r = judge(both(arm('stable', { requests: 200 }), arm('canary', { requests: 200 })));
    assert.equal(r.verdict, 'promote', r.reasons.join('\n'));
    assert.equal(r.enough_data, true);
  });

  it('says "not enough data" below the minimum sample, whatever the numbers', () => {
    const r = judge(both(arm('stable', { requests: 20 }), arm('canary', { requests: 20, errors: 10 })));
    assert.equal(r.verdict, 'hold');
    assert.equal(r.enough_data, false);
    assert.match(r.reasons[0]!, /not enough data to judge/);
  });

  it('holds when the error rate cannot yet be shown below 5 %', () => {
    const r = judge(both(arm('stable', { requests: 100 }), arm('canary', { requests: 100, errors: 2 })));
    assert.equal(r.verdict, 'hold');
    assert.equal(r.enough_data, false);
    assert.equal(r.checks.find((c) => c.name === 'errors')!.status, 'insufficient');
  });

  it('rolls back at errors above 10 % worse than stable, but holds when stable fails alike', () => {
    assert.equal(judge(both(arm('stable', { requests: 200 }), arm('canary', { requests: 200, errors: 30 }))).verdict, 'rollback');
    const alike = judge(both(arm('stable', { requests: 200, errors: 28 }), arm('canary', { requests: 200, errors: 30 })));
    assert.equal(alike.verdict, 'hold');
    assert.match(alike.reasons.join(' '), /not worse than stable/);
  });

  it('holds between the promote and rollback error thresholds', () => {
    assert.equal(judge(both(arm('stable', { requests: 1000 }), arm('canary', { requests: 1000, errors: 70 }))).verdict, 'hold');
  });

  it('judges p95 against 1.5x and 2x stable, with an absolute slack', () => {
    const stable = arm('stable', { requests: 200, latencyS: 0.5 });
    assert.equal(judge(both(stable, arm('canary', { requests: 200, latencyS: 0.5 }))).verdict, 'promote');
    assert.equal(judge(both(stable, arm('canary', { requests: 200, latencyS: 1 }))).verdict, 'hold');
    assert.equal(judge(both(stable, arm('canary', { requests: 200, latencyS: 2.5 }))).verdict, 'rollback');
    // 10 ms against 4 ms is 2.5x but within the 50 ms slack.
    assert.equal(judge(both(arm('stable', { requests: 200, latencyS: 0.004 }), arm('canary', { requests: 200, latencyS: 0.01 }))).verdict, 'promote');
    assert.equal(
      judge({ ...both(arm('stable', { requests: 200, latencyS: 0.004 }), arm('canary', { requests: 200, latencyS: 0.01 })), thresholds: { latencySlackMs: 0 } })
        .verdict,
      'rollback',
    );
  });

  it('rolls back on errors only when the failure is sustained over the last span', () => {
    const stable = arm('stable', { requests: 400 });
    const recentStable = arm('stable', { requests: 150 });
    const passed = judge({
      windowS: 1800,
      window: { stable, canary: arm('canary', { requests: 400, errors: 60 }) },
      sustain: { stable: recentStable, canary: arm('canary', { requests: 150 }) },
    });
    assert.equal(passed.verdict, 'hold');
    assert.match(passed.reasons.join(' '), /not sustained/);
    const ongoing = judge({
      windowS: 1800,
      window: { stable, canary: arm('canary', { requests: 400, errors: 60 }) },
      sustain: { stable: recentStable, canary: arm('canary', { requests: 150, errors: 30 }) },
    });
    assert.equal(ongoing.verdict, 'rollback');
  });

  it('rolls back when tokens per request disagree by more than 2 %, whatever else', () => {
    const r = judge(both(arm('stable', { requests: 200, output: 20 }), arm('canary', { requests: 200, output: 19 })));
    assert.equal(r.verdict, 'rollback');
    assert.match(r.reasons.join(' '), /glm-4.7 output: canary 19.0 vs stable 20.0/);
    assert.equal(
      judge({ ...both(arm('stable', { requests: 200, output: 20 }), arm('canary', { requests: 200, output: 19 })), thresholds: { tokenTolerance: 0.06 } })
        .verdict,
      'promote',
    );
  });
});
