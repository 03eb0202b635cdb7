import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  countLeft,
  DOT_CELL,
  dottedRgba,
  nearestColour,
  nextWrong,
  paletteIndices,
  progressText,
  type TemplateGrid,
  wantAt,
} from '../src/templates/template-diff.ts';
import { Board } from '../src/board/board.ts';

const palette = [0xffffff, 0x888888, 0x222222, 0xe50000];

/** A 4 x 3 board from rows of palette indices (a real Board: its readShown is what the diff reads). */
const board = (rows: number[][]) => {
  const width = rows[0]?.length ?? 0;
  return new Board(width, rows.length, palette, Uint8Array.from(rows.flat()));
};

/** A 2 x 2 template at (1, 1): red, hole / dark grey, red. */
const grid: TemplateGrid = { x: 1, y: 1, w: 2, h: 2, want: Int16Array.from([3, -1, 2, 3]) };

test('template colours map to the nearest palette colour; transparent pixels want nothing', () => {
  assert.equal(nearestColour(0x90, 0x90, 0x90, palette), 1, '#909090 is the grey');
  assert.equal(nearestColour(0, 0, 0, palette), 2);
  assert.equal(nearestColour(0xe5, 0, 0, palette), 3);
  const rgba = [0xe5, 0, 0, 255, 0, 0, 0, 0, 0x10, 0x10, 0x10, 255, 0xff, 0xff, 0xff, 127];
  assert.deepEqual([...paletteIndices(rgba, palette)], [3, -1, 2, -1]);
});

test('the count of pixels left is the template pixels on the canvas that differ from it', () => {
  const b = board([
    [0, 0, 0, 0],
    [0, 3, 0, 0],
    [0, 0, 0, 0],
  ]);
  assert.deepEqual(countLeft(grid, b), { left: 2, total: 3 });
  const done = board([
    [0, 0, 0, 0],
    [0, 3, 1, 0],
    [0, 2, 3, 0],
  ]);
  assert.deepEqual(countLeft(grid, done), { left: 0, total: 3 }, 'the hole counts for nothing');
  const hanging: TemplateGrid = { ...grid, x: 3, y: 2 }; // only its top-left pixel is on the canvas
  assert.deepEqual(countLeft(hanging, b), { left: 1, total: 1 });
});

test('the wanted colour under the cursor, and the next wrong pixel in reading order, wrapping', () => {
  assert.equal(wantAt(grid, 1, 1), 3);
  assert.equal(wantAt(grid, 2, 1), null, 'a hole');
  assert.equal(wantAt(grid, 0, 0), null, 'outside');
  const b = board([
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 2, 0, 0],
  ]);
  assert.deepEqual(nextWrong(grid, b, null), { x: 1, y: 1 });
  assert.deepEqual(nextWrong(grid, b, { x: 1, y: 1 }), { x: 2, y: 2 }, '(1, 2) is done');
  assert.deepEqual(nextWrong(grid, b, { x: 2, y: 2 }), { x: 1, y: 1 }, 'wraps round');
  assert.deepEqual(nextWrong(grid, b, { x: 0, y: 0 }), { x: 1, y: 1 }, 'from outside: the first');
  const done = board([
    [0, 0, 0, 0],
    [0, 3, 0, 0],
    [0, 2, 3, 0],
  ]);
  assert.equal(nextWrong(grid, done, null), null);
});

test('the dotted style puts one dot of the wanted colour in the middle of each pixel', () => {
  const rgba = dottedRgba(grid, palette);
  const width = grid.w * DOT_CELL;
  assert.equal(rgba.length, width * grid.h * DOT_CELL * 4);
  const at = (ix: number, iy: number) => [...rgba.subarray((iy * width + ix) * 4, (iy * width + ix) * 4 + 4)];
  assert.deepEqual(at(1, 1), [0xe5, 0, 0, 255], 'pixel (0, 0): red dot in its middle');
  assert.deepEqual(at(0, 0), [0, 0, 0, 0], 'around the dot: transparent, the board shows');
  assert.deepEqual(at(4, 1), [0, 0, 0, 0], 'a hole has no dot');
  assert.deepEqual(at(1, 4), [0x22, 0x22, 0x22, 255]);
  assert.deepEqual(at(4, 4), [0xe5, 0, 0, 255]);
  const opaque = [...rgba].filter((v, i) => i % 4 === 3 && v === 255).length;
  assert.equal(opaque, 3, 'one dot per non-transparent pixel');
});

test('the progress line counts what is left, or says the template is done', () => {
  assert.equal(progressText({ left: 37, total: 96 }), '37 of 96 pixels left.');
  assert.equal(progressText({ left: 1200, total: 4000 }), '1,200 of 4,000 pixels left.');
  assert.equal(progressText({ left: 0, total: 96 }), 'Done: all 96 pixels match.');
  assert.equal(progressText({ left: 0, total: 0 }), 'The template is off the canvas.');
});

test('the diff reads a tile-mode board: loaded tiles exactly, the pyramid where none is, pending on top', () => {
  const b = new Board(1024, 512, palette, undefined, 0, { tileSize: 256, maxLevel: 2 });
  // Level-0 tile (1, 0) loaded all red; the top (level 2) says dark grey everywhere.
  b.cells.write(256, 0, 256, 256, new Uint8Array(256 * 256).fill(3));
  b.pyramid?.put({ level: 2, tx: 0, ty: 0, w: 256, h: 128, indices: new Uint8Array(256 * 128).fill(2) });
  // A 4 x 1 template across the edge of tiles 0 and 1 wanting red, and one over tile (3, 1).
  const across: TemplateGrid = { x: 254, y: 5, w: 4, h: 1, want: Int16Array.from([3, 3, 3, 3]) };
  assert.deepEqual(countLeft(across, b), { left: 2, total: 4 }, 'tile 0 is grey (the pyramid), tile 1 red');
  b.placeOptimistic(1, 254, 5, 3);
  assert.deepEqual(countLeft(across, b), { left: 1, total: 4 }, 'a pending placement counts');
  assert.deepEqual(nextWrong(across, b, null), { x: 255, y: 5 });
  const far: TemplateGrid = { x: 1000, y: 500, w: 2, h: 2, want: Int16Array.from([2, 2, 2, -1]) };
  assert.deepEqual(countLeft(far, b), { left: 0, total: 3 }, 'hanging over the corner, from the pyramid');
});
