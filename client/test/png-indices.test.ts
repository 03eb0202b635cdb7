import assert from 'node:assert/strict';
import { test } from 'node:test';
import UPNG from 'upng-js';
import { PALETTE_2017, PALETTE_2022 } from '../../server/config/palette.ts';
import { PngEncoder } from '../../server/canvas/png-encoder.ts';
import { decodeIndexedPng, remapToPalette } from '../src/board/png-indices.ts';

function pattern(width: number, height: number, colours: number): Uint8Array {
  const grid = new Uint8Array(width * height);
  for (let i = 0; i < grid.length; i++) grid[i] = (i * 7 + Math.floor(i / width) * 3) % colours;
  return grid;
}

const cases = [
  { name: '4-bit, odd width', width: 7, height: 5, palette: PALETTE_2017 },
  { name: '4-bit, 1 x 1', width: 1, height: 1, palette: PALETTE_2017 },
  { name: '8-bit (2022 palette)', width: 33, height: 9, palette: PALETTE_2022 },
  { name: '4-bit, wide', width: 1001, height: 2, palette: PALETTE_2017 },
];

for (const c of cases) {
  test(`the server's PNG decodes to exactly its grid: ${c.name}`, async () => {
    const grid = pattern(c.width, c.height, c.palette.length);
    const png = await new PngEncoder(c.width, c.height, c.palette).encode(grid);
    const decoded = decodeIndexedPng(png);
    assert.equal(decoded.width, c.width);
    assert.equal(decoded.height, c.height);
    assert.deepEqual(decoded.palette, [...c.palette]);
    assert.deepEqual(decoded.indices, grid);
    assert.equal(remapToPalette(decoded, c.palette), decoded.indices, 'same palette: no copy');
  });
}

test('decoding works on a view into a larger buffer (as msgpackr hands out bin fields)', async () => {
  const grid = pattern(5, 4, 16);
  const png = await new PngEncoder(5, 4, PALETTE_2017).encode(grid);
  const big = new Uint8Array(png.length + 20);
  big.set(png, 10);
  assert.deepEqual(decodeIndexedPng(big.subarray(10, 10 + png.length)).indices, grid);
});

test('a PNG with its own palette order is remapped onto the hello palette', () => {
  const palette = [0xffffff, 0x000000, 0xff0000];
  const width = 6;
  const grid = Uint8Array.from([0, 1, 2, 2, 1, 0]);
  const rgba = new Uint8Array(width * 4);
  grid.forEach((c, i) => {
    const rgb = palette[c] as number;
    rgba.set([rgb >> 16, (rgb >> 8) & 255, rgb & 255, 255], i * 4);
  });
  const png = new Uint8Array(UPNG.encode([rgba.buffer], width, 1, 4)); // quantised: upng picks its own PLTE order
  const decoded = decodeIndexedPng(png);
  assert.deepEqual(remapToPalette(decoded, palette), grid);
  assert.equal(remapToPalette(decoded, [0x123456, 0x654321]), null, 'colours outside the palette');
});

test('non-indexed and non-PNG input is rejected with a message', () => {
  const rgba = new Uint8Array(2 * 2 * 4).fill(200);
  // upng-js's 6th parameter, forbidPlte, is missing from @types/upng-js; it forces a truecolour PNG.
  const encode = UPNG.encode as (...args: unknown[]) => ArrayBuffer;
  const truecolour = new Uint8Array(encode([rgba.buffer], 2, 2, 0, [], true));
  assert.throws(() => decodeIndexedPng(truecolour), /indexed/);
  assert.throws(() => decodeIndexedPng(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])));
});
