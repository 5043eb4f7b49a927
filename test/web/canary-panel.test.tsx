/** @jsxRuntime automatic */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderToStaticMarkup } from 'react-dom/server';
import { judge } from '../../src/canary/judgement.js';
import type { CanaryResponse } from '../../src/dashboard/model.js';
import { canaryPair } from '../../web/src/app/App.js';
import { CanaryPanel, type CanaryState } from '../../web/src/panels/CanaryPanel.js';
import { arm } from '../canary/support.js';

/**
 * The dashboard's canary panel renders the judgement itself (judge() from the canary module, on
 * arms shaped like real ones): the verdict as a word and a glyph, the reasons, each check, the
 * numbers behind it, and "not enough data" for a small sample.
 */

function response(stable: ReturnType<typeof arm>, canary: ReturnType<typeof arm>): CanaryResponse {
  const report = judge({ windowS: 1800, window: { stable, canary }, sustain: { stable, canary } });
  return { ...report, source: 'dashboard store', variants_seen: ['canary', 'stable'], at_ms: 0 };
}
const render = (state: CanaryState) => renderToStaticMarkup(<CanaryPanel state={state} />);
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
const state = (report: CanaryResponse | null, error: string | null = null): CanaryState => ({ stable: 'stable', canary: 'canary', report, error });

describe('canary panel', () => {
  test('a small sample says "not enough data to judge" and how many requests each arm needs', () => {
    const html = render(state(response(arm('stable', { requests: 12 }), arm('canary', { requests: 9 }))));
    assert.match(html, /data-verdict="hold"/);
    assert.match(html, /data-enough-data="false"/);
    const t = text(html);
    assert.match(t, /Hold not enough data to judge/);
    assert.match(t, /stable 12, canary 9 requests; each arm needs 100/);
    assert.doesNotMatch(html, /data-check=/, 'no checks are shown when nothing was judged');
  });

  test('a failing canary reads "Roll back", with the failed check and the error-rate delta behind it', () => {
    const html = render(state(response(arm('stable', { requests: 1000 }), arm('canary', { requests: 1000, errors: 200 }))));
    assert.match(html, /data-verdict="rollback"/);
    assert.match(html, /data-check="errors" data-status="fail"/);
    const t = text(html);
    assert.match(t, /Roll back the canary is worse than stable/);
    assert.match(t, /Error rate \(5xx\) 0\.00% 20\.00% \+20\.00 pp \(p=0\.000\)/);
    assert.match(t, /Cost \/ request \$0\.000100 \$0\.000100 1\.00×/);
    assert.match(t, /canary-report --since 30m --stable stable --canary canary/);
  });

  test('a canary that counts fewer tokens is rolled back on token agreement, the row shows by how much', () => {
    const html = render(state(response(arm('stable', { requests: 500 }), arm('canary', { requests: 500, output: 18 }))));
    assert.match(html, /data-verdict="rollback"/);
    assert.match(html, /data-check="tokens" data-status="fail"/);
    assert.match(text(html), /Tokens \/ request, glm-4\.7 output 20\.0 18\.0 −10\.00%/);
  });

  test('an equal canary reads "Promote" with every check passed', () => {
    const html = render(state(response(arm('stable', { requests: 500 }), arm('canary', { requests: 500 }))));
    assert.match(html, /data-verdict="promote"/);
    for (const c of ['sample', 'errors', 'latency_p95', 'tokens']) assert.match(html, new RegExp(`data-check="${c}" data-status="pass"`));
    assert.match(text(html), /Promote every check passed/);
  });

  test('before the first answer it says so, and a failed request names why', () => {
    assert.match(text(render(state(null))), /Judging…/);
    assert.match(text(render(state(null, '/api/canary answered 503: cannot read the dashboard store'))), /No verdict: \/api\/canary answered 503/);
    const stale = render(state(response(arm('stable', { requests: 500 }), arm('canary', { requests: 500 })), 'the dashboard did not answer'));
    assert.match(text(stale), /Last refresh failed: the dashboard did not answer/);
  });

  test('the panel judges the compare pair, the baseline first; one variant has no verdict', () => {
    assert.deepEqual(canaryPair(['stable', 'canary']), { stable: 'stable', canary: 'canary' });
    assert.deepEqual(canaryPair(['production', 'canary', 'other']), { stable: 'production', canary: 'canary' });
    assert.equal(canaryPair(['production']), null);
    assert.equal(canaryPair([]), null);
  });
});
