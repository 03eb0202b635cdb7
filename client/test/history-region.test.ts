import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  asksByRegion,
  covers,
  onTodayRect,
  PAST_MAX_SIDE,
  pastRegion,
  regionQuery,
  viewRegion,
} from '../src/history/history-region.ts';
import { historyImageAtUrl, historyImageUrl } from '../src/history/history-urls.ts';
import { shiftSince } from '../src/board/resizes.ts';

const HUGE = { width: 16_384, height: 16_384 };

test('past canvases are asked for by region only on a canvas over 4096 a side', () => {
  assert.equal(asksByRegion({ width: 4096, height: 4096 }), false);
  assert.equal(asksByRegion({ width: 1000, height: 1000 }), false);
  assert.equal(asksByRegion({ width: 4097, height: 10 }), true);
  assert.equal(asksByRegion({ width: 8192, height: 6000 }), true);
  assert.equal(asksByRegion(HUGE), true);
});

test('the region of a view: the visible rectangle widened to 64 px steps, within the canvas', () => {
  assert.deepEqual(viewRegion({ x: 16_300, y: 16_310, w: 84, h: 74 }, HUGE), { x: 16_256, y: 16_256, w: 128, h: 128 });
  assert.deepEqual(viewRegion({ x: 0, y: 0, w: 125, h: 88 }, HUGE), { x: 0, y: 0, w: 128, h: 128 });
  // At the canvas's far edge the last step is cut at its side (8192 x 6000: 6000 is no multiple of 64).
  assert.deepEqual(viewRegion({ x: 8100, y: 5950, w: 92, h: 50 }, { width: 8192, height: 6000 }), {
    x: 8064,
    y: 5888,
    w: 128,
    h: 112,
  });
  // A small pan stays inside the same region: no new request.
  const a = viewRegion({ x: 1000, y: 2000, w: 125, h: 88 }, HUGE);
  const b = viewRegion({ x: 1003, y: 2001, w: 125, h: 88 }, HUGE);
  assert.ok(a && b && covers(a, b));
  assert.equal(viewRegion({ x: 0, y: 0, w: 0, h: 0 }, HUGE), null, 'nothing of the board in view');
});

test('zoomed far out, the region is 4096 x 4096 around the view centre, never past the canvas', () => {
  assert.deepEqual(viewRegion({ x: 0, y: 0, w: 16_384, h: 16_384 }, HUGE), { x: 6144, y: 6144, w: 4096, h: 4096 });
  // Centred on the view's middle (to the nearest 64 px), then held inside the canvas.
  assert.deepEqual(viewRegion({ x: 10_000, y: 0, w: 6384, h: 5000 }, HUGE), {
    x: 11_136,
    y: 448,
    w: 4096,
    h: 4096,
  });
  // Around the view's centre, where the user looks, when it is not the visible part's (a view
  // reaching past the board's right edge, centred on (12000, 12000)).
  assert.deepEqual(viewRegion({ x: 3667, y: 7000, w: 12_717, h: 9384 }, HUGE, { x: 12_000, y: 12_000 }), {
    x: 9984,
    y: 9984,
    w: 4096,
    h: 4096,
  });
  assert.deepEqual(viewRegion({ x: 14_000, y: 1000, w: 2384, h: 9000 }, HUGE), {
    x: 13_952,
    y: 3456,
    w: 2432,
    h: 4096,
  });
  for (const visible of [
    { x: 0, y: 0, w: 16_384, h: 16_384 },
    { x: 12_345, y: 67, w: 4039, h: 16_317 },
    { x: 1, y: 1, w: 4095, h: 4095 },
  ]) {
    const r = viewRegion(visible, HUGE);
    assert.ok(r && r.w <= PAST_MAX_SIDE && r.h <= PAST_MAX_SIDE, JSON.stringify(r));
    assert.ok(r.x >= 0 && r.y >= 0 && r.x + r.w <= HUGE.width && r.y + r.h <= HUGE.height, JSON.stringify(r));
  }
});

test('the region at seq N: moved back by the columns and rows added since, cut at 0', () => {
  const today = { x: 100, y: 50, w: 200, h: 100 };
  assert.deepEqual(pastRegion(today, { left: 0, top: 0 }), today, 'no resize since: the same coordinates');
  assert.deepEqual(pastRegion(today, { left: 30, top: 20 }), { x: 70, y: 30, w: 200, h: 100 });
  // The view reaches into columns added since on the left: only what was canvas then is asked.
  assert.deepEqual(pastRegion(today, { left: 150, top: 20 }), { x: 0, y: 30, w: 150, h: 100 });
  assert.deepEqual(pastRegion(today, { left: 150, top: 80 }), { x: 0, y: 0, w: 150, h: 70 });
  assert.equal(pastRegion(today, { left: 300, top: 0 }), null, 'all of the view was added since');
  assert.equal(pastRegion(today, { left: 0, top: 150 }), null);
});

test('the shift of a seq comes from the resizes after it', () => {
  const resizes = [
    { seq: 10, width: 5000, height: 5000, left: 100, top: 50 },
    { seq: 20, width: 8192, height: 6000, left: 7, top: 0 },
  ];
  const region = pastRegion({ x: 200, y: 100, w: 64, h: 64 }, shiftSince(resizes, 5));
  assert.deepEqual(region, { x: 93, y: 50, w: 64, h: 64 });
  assert.equal(region && historyImageUrl(5, region), '/api/history/image?seq=5&x=93&y=50&w=64&h=64');
  assert.deepEqual(pastRegion({ x: 200, y: 100, w: 64, h: 64 }, shiftSince(resizes, 20)), {
    x: 200,
    y: 100,
    w: 64,
    h: 64,
  });
});

test('region addresses: all four parameters after the seq or time', () => {
  const r = { x: 16_256, y: 0, w: 128, h: 4096 };
  assert.equal(regionQuery(r), '&x=16256&y=0&w=128&h=4096');
  assert.equal(historyImageUrl(42, r), '/api/history/image?seq=42&x=16256&y=0&w=128&h=4096');
  assert.equal(historyImageAtUrl(1764000000000.7, r), '/api/history/image?at=1764000000000&x=16256&y=0&w=128&h=4096');
  assert.equal(historyImageUrl(42), '/api/history/image?seq=42', 'no region: the whole canvas');
  assert.equal(historyImageAtUrl(5), '/api/history/image?at=5');
});

test("the answer lands on today's rectangle; what was not canvas at N is index 0", () => {
  const today = { x: 10, y: 20, w: 4, h: 3 };
  const same = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.equal(onTodayRect(same, { x: 7, y: 20, w: 4, h: 3 }, today, { left: 3, top: 0 }), same, 'as it came');
  // Two columns and one row of the view were added since (left 12, top 20): the answer is 2 x 2.
  const shift = { left: 12, top: 21 };
  const asked = pastRegion(today, shift);
  assert.deepEqual(asked, { x: 0, y: 0, w: 2, h: 2 });
  assert.deepEqual(
    [...onTodayRect(new Uint8Array([5, 6, 7, 8]), asked, today, shift)],
    [0, 0, 0, 0, 0, 0, 5, 6, 0, 0, 7, 8],
  );
  assert.deepEqual([...onTodayRect(null, null, today, shift)], new Array(12).fill(0), 'nothing asked: all blank');
});

test('covers: a rectangle within another', () => {
  const outer = { x: 0, y: 0, w: 128, h: 128 };
  assert.equal(covers(outer, { x: 0, y: 0, w: 128, h: 128 }), true);
  assert.equal(covers(outer, { x: 64, y: 64, w: 64, h: 64 }), true);
  assert.equal(covers(outer, { x: 64, y: 64, w: 65, h: 64 }), false);
  assert.equal(covers(outer, { x: -1, y: 0, w: 10, h: 10 }), false);
});
