import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cells } from '../src/board/cells.ts';
import { blitTile, pyramidLevel, regionFor, regionTiles, tilesCovering } from '../src/tiles/tile-region.ts';
import { parseCanvasInfo, parseSeqHeader, wantsTiles } from '../src/tiles/tile-fetch.ts';

const layout = { width: 1500, height: 1200, tileSize: 256, maxLevel: 3 };
const big = { width: 8192, height: 8192, tileSize: 256, maxLevel: 5 };

test('the region of a view is its level-0 tiles plus the margin, clipped to the canvas', () => {
  assert.deepEqual(regionFor(layout, { x: 75, y: 112, w: 250, h: 136 }, 1), { tx: 0, ty: 0, tw: 3, th: 2 });
  assert.deepEqual(regionFor(layout, { x: 1225, y: 982, w: 250, h: 136 }, 1), { tx: 3, ty: 2, tw: 3, th: 3 });
  // A view ending exactly on a tile edge does not take the next tile.
  assert.deepEqual(tilesCovering(layout, { x: 0, y: 0, w: 256, h: 256 }, 0, 0), { tx: 0, ty: 0, tw: 1, th: 1 });
});

test('a region never exceeds 16 x 16 tiles: cut around the view centre', () => {
  const r = regionFor(big, { x: 0, y: 0, w: 8192, h: 8192 }, 1);
  assert.deepEqual(r, { tx: 8, ty: 8, tw: 16, th: 16 });
  const corner = regionFor(big, { x: 0, y: 0, w: 5000, h: 300 }, 1);
  assert.equal(corner.tw, 16);
  assert.equal(corner.tx, 1); // tiles 1..16 around 2500 / 256 = 9.8
  assert.ok(corner.tw * corner.th <= 256);
});

test('zoomed in the view uses live level-0 tiles; zoomed out, the pyramid level matching the zoom', () => {
  assert.equal(pyramidLevel(big, { x: 0, y: 0, w: 390, h: 700 }, 1), 0);
  assert.equal(pyramidLevel(big, { x: 0, y: 0, w: 1000, h: 1000 }, 0.5), 0);
  assert.equal(pyramidLevel(big, { x: 0, y: 0, w: 8192, h: 8192 }, 0.1), 3);
  // More than 16 tiles on a side at a fine zoom (a huge screen): level 1 at least.
  assert.equal(pyramidLevel(big, { x: 0, y: 0, w: 4200, h: 100 }, 1), 1);
  assert.equal(pyramidLevel(big, { x: 0, y: 0, w: 8192, h: 8192 }, 0.001), 5);
});

test('region tiles come nearest to the view centre first', () => {
  const order = regionTiles({ tx: 0, ty: 0, tw: 3, th: 3 }, { x: 1.5, y: 1.5 });
  assert.deepEqual(order[0], { tx: 1, ty: 1 });
  assert.equal(order.length, 9);
});

test('blitTile writes a level-0 tile exactly into the blocks of the board, cropped at the canvas edge', () => {
  const l = { width: 600, height: 300, tileSize: 256, maxLevel: 2 };
  const cells = Cells.chunked(l.width, l.height, l.tileSize);
  // The cropped bottom-right tile (88 x 44).
  const edge = new Uint8Array(88 * 44).map((_, i) => 1 + (i % 7));
  const rect = blitTile(cells, l, 2, 1, { w: 88, h: 44, indices: edge });
  assert.deepEqual(rect, { x: 512, y: 256, w: 88, h: 44 });
  assert.equal(cells.get(512, 256), edge[0]);
  assert.equal(cells.get(512 + 3, 256 + 1), edge[88 + 3]);
  assert.equal(cells.get(599, 299), edge[43 * 88 + 87]);
  assert.equal(cells.get(511, 256), -1, 'tile (1, 1) was not loaded');
  assert.equal(cells.allocatedBlocks, 1);
});

test('GET /api/canvas is checked, and tile mode is chosen by size or forced by ?tiles=', () => {
  const body = { width: 4096, height: 100, tileSize: 256, maxLevel: 4, palette: [0, 0xffffff], seq: 7, tickMs: 1000 };
  const info = parseCanvasInfo(body);
  assert.ok(info);
  assert.equal(info.seq, 7);
  assert.equal(parseCanvasInfo({ ...body, width: -1 }), null);
  assert.equal(parseCanvasInfo({ ...body, palette: ['red'] }), null);
  assert.equal(parseCanvasInfo(null), null);
  assert.equal(wantsTiles({ width: 4096, height: 100 }, ''), true);
  assert.equal(wantsTiles({ width: 2048, height: 2048 }, ''), false);
  assert.equal(wantsTiles({ width: 64, height: 48 }, '?tiles=1'), true);
  assert.equal(wantsTiles({ width: 4096, height: 4096 }, '?tiles=0'), false);
  assert.equal(parseSeqHeader('42'), 42);
  assert.equal(parseSeqHeader('4x'), null);
  assert.equal(parseSeqHeader(null), null);
});
