import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onLiveGrid, parseResizes, shiftSince } from '../src/board/resizes.ts';
import { parseCanvasInfo } from '../src/tiles/tile-fetch.ts';

const RESIZES = [
  { seq: 10, width: 12, height: 8, left: 2, top: 0 },
  { seq: 20, width: 12, height: 11, left: 0, top: 3 },
];

test('shiftSince: the left and top added after a seq', () => {
  assert.deepEqual(shiftSince(RESIZES, 5), { left: 2, top: 3 });
  assert.deepEqual(shiftSince(RESIZES, 10), { left: 0, top: 3 });
  assert.deepEqual(shiftSince(RESIZES, 20), { left: 0, top: 0 });
  assert.deepEqual(shiftSince([], 0), { left: 0, top: 0 });
});

test('onLiveGrid: a past canvas placed on the live board where its pixels are now, blank around it', () => {
  const past = Uint8Array.from([1, 2, 3, 4]); // 2 x 2
  assert.deepEqual(
    onLiveGrid(past, 2, 2, { width: 4, height: 3 }, { left: 1, top: 1 }),
    Uint8Array.from([0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0]),
  );
  assert.equal(onLiveGrid(past, 2, 2, { width: 2, height: 2 }, { left: 0, top: 0 }), past, 'same size: as it is');
  assert.equal(onLiveGrid(past, 2, 2, { width: 3, height: 3 }, { left: 2, top: 0 }), null, 'does not fit');
});

test('parseResizes keeps well-formed entries; GET /api/canvas without them (an older server) has none', () => {
  assert.deepEqual(parseResizes([...RESIZES, { seq: -1 }, null, 'x']), RESIZES);
  assert.deepEqual(parseResizes(undefined), []);
  const info = { width: 12, height: 11, tileSize: 256, maxLevel: 0, palette: [0, 1], seq: 30 };
  assert.deepEqual(parseCanvasInfo(info)?.resizes, []);
  assert.deepEqual(parseCanvasInfo({ ...info, resizes: RESIZES })?.resizes, RESIZES);
});
