import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DATE_AXIS_SPAN_MS, Y_AXIS_MIN_SIZE, timeAxisIncrs, timeAxisSpace, timeTickLabels, yAxisSize } from '../../web/src/chart/axes.js';

// A fixed-pitch stand-in for canvas measureText: 7 px per character.
const mono = (text: string) => text.length * 7;
const at = (h: number, m: number, s = 0) => new Date(2026, 10, 27, h, m, s).getTime();

describe('y axis width follows its widest label', () => {
  test('wider labels widen the axis, so "500ms" is not drawn as "00ms"', () => {
    const narrow = yAxisSize(['0', '5', '10'], mono);
    const wide = yAxisSize(['0ms', '250ms', '500ms'], mono);
    assert.equal(narrow, Y_AXIS_MIN_SIZE);
    // tick 10 + gap 5 + 5 chars x 7 px + 4 px edge room
    assert.equal(wide, 54);
    assert.ok(yAxisSize(['0ms', '1.0ms', '100.0k/s'], mono) > wide);
  });
  test('the widest label decides, wherever it sits, and missing labels are skipped', () => {
    assert.equal(yAxisSize(['1.00s', '0ms', null, '2.00s'], mono), yAxisSize(['2.00s'], mono));
    assert.equal(yAxisSize(null, mono), Y_AXIS_MIN_SIZE);
    assert.equal(yAxisSize([], mono), Y_AXIS_MIN_SIZE);
  });
  test('fractional widths round up, never clipping a pixel', () => {
    assert.equal(
      yAxisSize(['x'], () => 40.2),
      60,
    );
  });
});

describe('time ticks never repeat a label', () => {
  test('ticks under a minute apart show seconds', () => {
    const splits = [at(4, 6, 0), at(4, 6, 30), at(4, 7, 0), at(4, 7, 30)];
    assert.deepEqual(timeTickLabels(splits, 30_000, 5 * 60_000), ['04:06:00', '04:06:30', '04:07:00', '04:07:30']);
  });
  test('minute and coarser steps show HH:MM', () => {
    assert.deepEqual(timeTickLabels([at(4, 5), at(4, 10), at(4, 15)], 300_000, 3_600_000), ['04:05', '04:10', '04:15']);
    assert.deepEqual(timeTickLabels([at(14, 5)], 3_600_000, 86_400_000), ['14:05']);
  });
  test('a coarse format that would still repeat falls back to a finer one', () => {
    // Uneven splits a minute apart in name only: HH:MM would read "04:06 04:06".
    assert.deepEqual(timeTickLabels([at(4, 6, 10), at(4, 6, 50)], 60_000, 5 * 60_000), ['04:06:10', '04:06:50']);
    const week = 7 * 86_400_000;
    assert.deepEqual(timeTickLabels([at(0, 0), at(12, 0)], 43_200_000, week), ['Nov 27 00:00', 'Nov 27 12:00']);
  });
  test('beyond two days the axis shows dates and steps in whole days', () => {
    const day = 86_400_000;
    assert.deepEqual(timeTickLabels([at(0, 0), at(0, 0) + day], day, 7 * day), ['Nov 27', 'Nov 28']);
    for (const incr of timeAxisIncrs(7 * day)) assert.equal(incr % 86_400, 0, `${incr}s is whole days`);
    assert.ok(timeAxisIncrs(DATE_AXIS_SPAN_MS).includes(30), 'two days and under keeps sub-minute steps');
  });
  test('sub-minute ranges get room for the longer HH:MM:SS label', () => {
    assert.ok(timeAxisSpace(5 * 60_000) * 1 >= mono('04:06:30'));
  });
});
