import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maxContrastDownscale, maxContrastRows, overviewLevel, visibleSource } from '../src/view/overview.ts';
import { View } from '../src/view/view.ts';

const palette = [0xffffff, 0x222222, 0xe50000];
const lut = Uint32Array.from(palette); // words are the RGB values themselves here

test('the overview level is the power of two that keeps at least the zoom shown', () => {
  assert.equal(overviewLevel(1), 1);
  assert.equal(overviewLevel(3), 1);
  assert.equal(overviewLevel(0.5), 2);
  assert.equal(overviewLevel(0.4), 4);
  assert.equal(overviewLevel(0.1), 16);
});

test('zoomed out, a lone pixel stays visible and a plain area stays plain', () => {
  const w = 8;
  const grid = new Uint8Array(w * w); // white
  grid[3 * w + 5] = 1; // one dark pixel in the top-right 4 x 4 block
  grid[6 * w + 1] = 2; // one red pixel in the bottom-left block
  const { width, height, pixels } = maxContrastDownscale(grid, w, w, 4, palette, lut);
  assert.deepEqual([width, height], [2, 2]);
  assert.deepEqual([...pixels], [0xffffff, 0x222222, 0xe50000, 0xffffff]);
  // Nearest neighbour (the top-left pixel of each block) would have shown four white pixels.
});

test('the most common colour is the background: a block mostly dark with one white pixel shows white', () => {
  const grid = Uint8Array.from([1, 1, 1, 0]);
  assert.deepEqual([...maxContrastDownscale(grid, 2, 2, 2, palette, lut).pixels], [0xffffff]);
  const plain = Uint8Array.from([1, 1, 1, 1]);
  assert.deepEqual([...maxContrastDownscale(plain, 2, 2, 2, palette, lut).pixels], [0x222222]);
  const edge = maxContrastDownscale(new Uint8Array(5 * 3), 5, 3, 2, palette, lut);
  assert.deepEqual([edge.width, edge.height], [3, 2], 'partial blocks at the edges count');
});

test('a frame draws only the canvas pixels on screen', () => {
  const view = new View(4000, 4000, 390, 700);
  view.centreOn(2000, 2000, 10);
  const s = visibleSource(view);
  assert.ok(s.w <= 40 && s.h <= 71, `about 39 x 70 pixels, not 4000 x 4000: ${JSON.stringify(s)}`);
  assert.ok(s.x >= 1980 && s.x <= 1981);
  view.fit();
  assert.deepEqual(visibleSource(view), { x: 0, y: 0, w: 4000, h: 4000 });
});

test('an overview built a few rows at a time is the one built in one go', () => {
  const width = 37;
  const height = 29;
  const palette = [0xffffff, 0x000000, 0xff0000, 0x00ff00];
  const lut = Uint32Array.from(palette, (_, i) => i + 1);
  const grid = Uint8Array.from({ length: width * height }, (_, i) => (i * 7 + Math.floor(i / 5)) % 4);
  const whole = maxContrastDownscale(grid, width, height, 4, palette, lut);
  const out = new Uint32Array(whole.pixels.length);
  for (let row = 0; row < whole.height; row += 3)
    maxContrastRows(grid, width, height, 4, palette, lut, out, row, Math.min(whole.height, row + 3));
  assert.deepEqual(out, whole.pixels);
});
