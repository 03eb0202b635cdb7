import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PALETTE_2017, PALETTE_2022 } from '../config/palette.ts';
import { PngEncoder } from '../canvas/png-encoder.ts';
import { decodeToIndices } from '../../testkit/fixture.ts';

function randomGrid(width: number, height: number, colours: number, seed: number): Uint8Array {
  const grid = new Uint8Array(width * height);
  let s = seed >>> 0;
  for (let i = 0; i < grid.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    grid[i] = s % colours;
  }
  return grid;
}

const palette256 = Array.from({ length: 256 }, (_, i) => (i << 16) | ((255 - i) << 8) | ((i * 7) & 0xff));

const cases: Array<{ name: string; width: number; height: number; palette: readonly number[]; depth: number }> = [
  { name: '1 x 1, 16 colours', width: 1, height: 1, palette: PALETTE_2017, depth: 4 },
  { name: 'odd width 7 x 5, 16 colours', width: 7, height: 5, palette: PALETTE_2017, depth: 4 },
  { name: 'odd width 1001 x 3, 16 colours', width: 1001, height: 3, palette: PALETTE_2017, depth: 4 },
  { name: '2 colours still uses depth 4', width: 9, height: 4, palette: [0x000000, 0xffffff], depth: 4 },
  { name: '32 colours (r/place 2022) uses depth 8', width: 33, height: 17, palette: PALETTE_2022, depth: 8 },
  { name: '256 colours, odd size', width: 255, height: 3, palette: palette256, depth: 8 },
];

for (const c of cases) {
  test(`PNG round-trips through UPNG.decode: ${c.name}`, async () => {
    const grid = randomGrid(c.width, c.height, c.palette.length, c.width * 31 + c.height);
    const png = await new PngEncoder(c.width, c.height, c.palette).encode(grid);
    const decoded = decodeToIndices(png, c.palette);
    assert.equal(decoded.ctype, 3, 'colour type 3 (indexed)');
    assert.equal(decoded.depth, c.depth);
    assert.equal(decoded.width, c.width);
    assert.equal(decoded.height, c.height);
    assert.deepEqual(decoded.grid, grid);
  });
}

test('a 2000 x 2000, 32-colour canvas encodes and decodes exactly', async () => {
  const grid = randomGrid(2000, 2000, 32, 7);
  const png = await new PngEncoder(2000, 2000, PALETTE_2022).encode(grid);
  const decoded = decodeToIndices(png, PALETTE_2022);
  assert.equal(decoded.depth, 8);
  assert.ok(Buffer.compare(Buffer.from(decoded.grid), Buffer.from(grid)) === 0, 'grid differs');
});

test('encode snapshots the grid when called: later writes do not leak into the pending PNG', async () => {
  const grid = new Uint8Array(16 * 16);
  const encoder = new PngEncoder(16, 16, PALETTE_2017);
  const pending = encoder.encode(grid);
  grid.fill(5);
  const decoded = decodeToIndices(await pending, PALETTE_2017);
  assert.deepEqual(decoded.grid, new Uint8Array(256));
});

test('encodeChanged packs only the changed cells and gives the same PNG as a whole encode, at 4 and 8 bits', async () => {
  for (const c of cases) {
    const encoder = new PngEncoder(c.width, c.height, c.palette);
    const grid = randomGrid(c.width, c.height, c.palette.length, 5);
    const first = await encoder.encodeChanged(grid, undefined);
    assert.deepEqual(first, await new PngEncoder(c.width, c.height, c.palette).encode(grid), c.name);
    let s = 99;
    for (let tick = 0; tick < 5; tick++) {
      const changed = new Set<number>();
      for (let k = 0; k < 1 + tick * 3; k++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const cell = s % grid.length;
        grid[cell] = (s >>> 8) % c.palette.length;
        changed.add(cell);
      }
      const png = await encoder.encodeChanged(grid, [...changed]);
      assert.deepEqual(decodeToIndices(png, c.palette).grid, grid, `${c.name}, tick ${tick}`);
      assert.deepEqual(png, await encoder.encode(grid), `${c.name}, tick ${tick}: the same bytes as a whole encode`);
    }
  }
});
