/** @jsxRuntime automatic */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderToStaticMarkup } from 'react-dom/server';
import type { StatusResponse } from '../../src/dashboard/model.js';
import { oldestStored } from '../../web/src/app/App.js';
import { ClockContext } from '../../web/src/app/clock.js';
import { ConnectionPill } from '../../web/src/app/StatusBar.js';
import { defaultRange } from '../../web/src/data/dataset.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const MIN = 60_000;
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
const pill = (targets: { up: boolean; last_scrape_ms?: number | null }[] | undefined, paused = false) =>
  renderToStaticMarkup(
    <ClockContext.Provider value={() => NOW}>
      <ConnectionPill state={{ kind: 'open', sinceMs: NOW }} paused={paused} held={0} onRetry={() => {}} targets={targets} />
    </ClockContext.Provider>,
  );

describe('the range a page opens with', () => {
  test('is the shortest that holds the history there is', () => {
    assert.equal(defaultRange(null, NOW), '5m', 'nothing stored yet');
    assert.equal(defaultRange(NOW - 2 * MIN, NOW), '5m');
    assert.equal(defaultRange(NOW - 12 * MIN, NOW), '15m');
    assert.equal(defaultRange(NOW - 40 * MIN, NOW), '1h');
    assert.equal(defaultRange(NOW - 5 * 60 * MIN, NOW), '6h');
    assert.equal(defaultRange(NOW - 20 * 60 * MIN, NOW), '24h');
  });
  test('is at most 24h, and 1h when the history lives in Prometheus', () => {
    assert.equal(defaultRange(NOW - 40 * 24 * 60 * MIN, NOW), '24h');
    assert.equal(defaultRange(undefined, NOW), '1h');
  });
  test('reads the oldest stored point of any resolution from /api/status', () => {
    const status = (oldest: Record<string, number | null> | null) => ({ store: oldest && { oldest_ms: oldest } }) as unknown as StatusResponse;
    assert.equal(oldestStored(status({ raw: NOW - MIN, '1m': NOW - 30 * MIN, '1h': null })), NOW - 30 * MIN);
    assert.equal(oldestStored(status({ raw: null, '1m': null, '1h': null })), null);
    assert.equal(oldestStored(status(null)), undefined);
  });
});

describe('the header pill', () => {
  test('says Live only while some target answers', () => {
    assert.match(pill([{ up: true }, { up: true }]), /data-connection="live"/);
    assert.equal(text(pill([{ up: true }, { up: true }])), 'Live');
    const partial = pill([{ up: true }, { up: false }]);
    assert.match(partial, /data-connection="live"/);
    assert.match(partial, /pill-paused/, 'not in the healthy colour');
    assert.equal(text(partial), 'Live · 1 of 2 targets down');
    const none = pill([{ up: false }, { up: false }]);
    assert.match(none, /data-connection="no-targets"/);
    assert.doesNotMatch(none, /pill-live|Live/);
    assert.equal(text(none), '✖ No target reachable');
  });
  test('does not count a target the dashboard has not tried yet as down', () => {
    assert.equal(
      text(
        pill([
          { up: false, last_scrape_ms: null },
          { up: true, last_scrape_ms: NOW },
        ]),
      ),
      'Live',
    );
    assert.equal(text(pill([{ up: false, last_scrape_ms: null }])), 'Live');
    assert.equal(text(pill([{ up: false, last_scrape_ms: NOW }])), '✖ No target reachable');
  });
  test('says Live before the first status, and Paused when paused', () => {
    assert.equal(text(pill(undefined)), 'Live');
    assert.match(text(pill([{ up: false }], true)), /Paused/);
  });
});
