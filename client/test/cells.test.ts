import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDeltaPixels, packDeltaPixels } from '../../protocol/delta.ts';
import { Board } from '../src/board/board.ts';
import { Cells } from '../src/board/cells.ts';
import { PyramidCells } from '../src/board/pyramid-cells.ts';

/** A small seeded generator (mulberry32), so a failure replays. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every cell of `cells`, missing blocks as 0, against the plain grid. */
function assertSame(cells: Cells, grid: Uint8Array, what: string): void {
  assert.deepEqual(cells.read(0, 0, cells.width, cells.height), grid, what);
}

test('chunked cells equal a plain grid after random rectangles, deltas and snapshots, edges included', () => {
  // 37 x 23 blocks of 8 (the right and bottom blocks cropped): every write crosses block edges.
  for (const [width, height, side] of [
    [37, 23, 8],
    [64, 64, 16],
    [5, 300, 7],
  ] as const) {
    const r = rng(width * 1000 + height);
    const cells = Cells.chunked(width, height, side);
    const grid = new Uint8Array(width * height);
    for (let round = 0; round < 200; round++) {
      const kind = r();
      if (kind < 0.5) {
        // A rectangle (a tile's blit), possibly hanging over the edge, from a wider source.
        const x = Math.floor(r() * (width + 4)) - 2;
        const y = Math.floor(r() * (height + 4)) - 2;
        const w = 1 + Math.floor(r() * 20);
        const h = 1 + Math.floor(r() * 20);
        const stride = w + Math.floor(r() * 3);
        const src = Uint8Array.from({ length: stride * h }, () => Math.floor(r() * 32));
        cells.write(x, y, w, h, src, stride);
        for (let yy = Math.max(0, y); yy < Math.min(height, y + h); yy++)
          for (let xx = Math.max(0, x); xx < Math.min(width, x + w); xx++)
            grid[yy * width + xx] = src[(yy - y) * stride + (xx - x)] as number;
      } else if (kind < 0.95) {
        const cellsChanged = Array.from({ length: 1 + Math.floor(r() * 30) }, () => Math.floor(r() * width * height));
        const colours = cellsChanged.map(() => Math.floor(r() * 32));
        const px = packDeltaPixels(cellsChanged, colours, width);
        assert.equal(cells.applyDelta(px, true), true);
        applyDeltaPixels(px, grid, width, height);
      } else {
        const snap = Uint8Array.from({ length: width * height }, () => Math.floor(r() * 32));
        cells.replace(snap, r() < 0.5);
        grid.set(snap);
      }
      assertSame(cells, grid, `${width} x ${height} / ${side}, round ${round}`);
    }
    for (let i = 0; i < 100; i++) {
      const x = Math.floor(r() * width);
      const y = Math.floor(r() * height);
      assert.equal(cells.get(x, y), grid[y * width + x]);
    }
    // A read window hanging over every edge.
    const out = cells.read(-3, -2, width + 6, height + 4);
    assert.equal(out[2 * (width + 6) + 3], grid[0]);
    assert.equal(out[0], 0);
  }
});

test('chunked cells allocate a block on its first write only, and free it again', () => {
  const cells = Cells.chunked(16_384, 16_384, 256);
  assert.equal(cells.allocatedBlocks, 0);
  assert.equal(cells.get(16_383, 16_383), -1, 'never written: unknown');
  // Far corners: a delta touching two blocks allocates exactly those.
  const px = packDeltaPixels([0, 16_384 * 16_384 - 1], [3, 5], 16_384);
  assert.equal(cells.applyDelta(px, true), true);
  assert.equal(cells.allocatedBlocks, 2);
  assert.equal(cells.get(0, 0), 3);
  assert.equal(cells.get(16_383, 16_383), 5);
  assert.equal(cells.get(1, 0), 0, 'the rest of a written block is colour 0');
  // Without `create`, pixels of missing blocks are skipped, the others applied.
  const more = packDeltaPixels([1, 16_384 * 300 + 300], [7, 7], 16_384);
  assert.equal(cells.applyDelta(more, false), true);
  assert.equal(cells.get(1, 0), 7);
  assert.equal(cells.get(300, 300), -1);
  assert.equal(cells.allocatedBlocks, 2);
  cells.free(16_200, 16_300);
  assert.equal(cells.allocatedBlocks, 1);
  assert.equal(cells.get(16_383, 16_383), -1);
  // A payload that does not fit the canvas changes nothing.
  const bad = new Uint8Array(5);
  bad[0] = 0xff;
  bad[1] = 0xff; // x = 65,535
  assert.equal(cells.applyDelta(bad, true), false);
  assert.equal(cells.applyDelta(new Uint8Array(4), true), false);
  assert.equal(cells.allocatedBlocks, 1);
});

test('whole cells are one row-major grid: a snapshot handed over is taken as it is', () => {
  const grid = Uint8Array.from({ length: 12 }, (_, i) => i % 4);
  const cells = Cells.whole(4, 3, grid);
  assert.equal(cells.single, grid);
  assert.equal(cells.chunked, false);
  assert.equal(cells.get(3, 2), grid[11]);
  const next = new Uint8Array(12).fill(2);
  cells.replace(next, true);
  assert.equal(cells.single, next);
  cells.free(0, 0);
  assert.equal(cells.get(0, 0), 2, 'a whole grid is never freed');
  assert.throws(() => Cells.whole(4, 3, new Uint8Array(5)));
  assert.equal(Cells.chunked(4, 3, 8).single, null);
});

test('a tile-mode board answers from its cells where loaded, else from the finest pyramid tile kept', () => {
  const b = new Board(1024, 1024, [0xffffff, 0, 0xff0000, 0x0000ff], undefined, 0, { tileSize: 256, maxLevel: 2 });
  assert.equal(b.colourAt(600, 600), 0, 'nothing loaded: colour 0');
  // The top (level 2: one 256 x 256 tile, each pixel a 4 x 4 block) all blue, one block red.
  const top = new Uint8Array(256 * 256).fill(3);
  top[150 * 256 + 150] = 2;
  b.pyramid?.put({ level: 2, tx: 0, ty: 0, w: 256, h: 256, indices: top });
  assert.equal(b.colourAt(600, 600), 2, 'pixel (600, 600) is in block (150, 150) of the top');
  assert.equal(b.colourAt(0, 0), 3);
  // A finer level wins where it is kept.
  b.pyramid?.put({ level: 1, tx: 1, ty: 1, w: 256, h: 256, indices: new Uint8Array(256 * 256).fill(1) });
  assert.equal(b.colourAt(600, 600), 1);
  // A level-0 tile wins over both.
  b.cells.write(512, 512, 256, 256, new Uint8Array(256 * 256).fill(2));
  assert.equal(b.colourAt(600, 600), 2);
  assert.equal(b.cells.allocatedBlocks, 1);
});

test('the pyramid keeps its newest tiles and always its top', () => {
  const p = new PyramidCells(256, 6);
  const tile = (level: number, tx: number) => ({ level, tx, ty: 0, w: 1, h: 1, indices: new Uint8Array(1) });
  p.put(tile(6, 0));
  for (let i = 0; i < 100; i++) p.put(tile(1, i));
  assert.ok(p.get(6, 0, 0), 'the top stays');
  assert.ok(p.get(1, 99, 0), 'the newest stay');
  assert.equal(p.get(1, 0, 0), undefined, 'the oldest went');
  assert.ok(p.size <= 49);
});
