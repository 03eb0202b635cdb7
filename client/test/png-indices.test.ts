import assert from 'node:assert/strict';
import { test } from 'node:test';
import UPNG from 'upng-js';
import { deflateSync } from 'node:zlib';
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
    const decoded = await decodeIndexedPng(png);
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
  assert.deepEqual((await decodeIndexedPng(big.subarray(10, 10 + png.length))).indices, grid);
});

test('a PNG with its own palette order is remapped onto the hello palette', async () => {
  const palette = [0xffffff, 0x000000, 0xff0000];
  const width = 6;
  const grid = Uint8Array.from([0, 1, 2, 2, 1, 0]);
  const rgba = new Uint8Array(width * 4);
  grid.forEach((c, i) => {
    const rgb = palette[c] as number;
    rgba.set([rgb >> 16, (rgb >> 8) & 255, rgb & 255, 255], i * 4);
  });
  const png = new Uint8Array(UPNG.encode([rgba.buffer], width, 1, 4)); // quantised: upng picks its own PLTE order
  const decoded = await decodeIndexedPng(png);
  assert.deepEqual(remapToPalette(decoded, palette), grid);
  assert.equal(remapToPalette(decoded, [0x123456, 0x654321]), null, 'colours outside the palette');
});

test('non-indexed and non-PNG input is rejected with a message', async () => {
  const rgba = new Uint8Array(2 * 2 * 4).fill(200);
  // upng-js's 6th parameter, forbidPlte, is missing from @types/upng-js; it forces a truecolour PNG.
  const encode = UPNG.encode as (...args: unknown[]) => ArrayBuffer;
  const truecolour = new Uint8Array(encode([rgba.buffer], 2, 2, 0, [], true));
  await assert.rejects(decodeIndexedPng(truecolour), /indexed/);
  await assert.rejects(decodeIndexedPng(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])), /signature/);
  const good = await new PngEncoder(4, 4, PALETTE_2017).encode(new Uint8Array(16));
  await assert.rejects(decodeIndexedPng(good.subarray(0, good.length - 30)), /truncated|without image data/);
  const notZlib = indexedPng(
    2,
    2,
    8,
    [0],
    [
      [0, 0],
      [0, 0],
    ],
    Uint8Array.from([1, 2, 3, 4, 5, 6]),
  );
  await assert.rejects(decodeIndexedPng(notZlib), /not a valid PNG/);
  await assert.rejects(
    decodeIndexedPng(
      indexedPng(
        2,
        2,
        8,
        [0, 5],
        [
          [1, 2],
          [3, 4],
        ],
      ),
    ),
    /bad PNG filter 5 on row 1/,
  );
});

/** A chunk: length, type, data, CRC (left 0: the decoder does not check it). */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  new DataView(out.buffer).setUint32(0, data.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(data, 8);
  return out;
}

/** An indexed PNG whose row y is written with filter filters[y % filters.length] (PNG spec 9.2). */
function indexedPng(
  width: number,
  height: number,
  depth: number,
  filters: number[],
  rows: number[][],
  idatOverride?: Uint8Array,
): Uint8Array {
  const rowBytes = Math.ceil((width * depth) / 8);
  const raw = rows.map((r) => Uint8Array.from(r)); // packed bytes per row
  const filtered = new Uint8Array((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    const f = filters[y % filters.length] as number;
    const cur = raw[y] as Uint8Array;
    const prev = y > 0 ? (raw[y - 1] as Uint8Array) : new Uint8Array(rowBytes);
    filtered[y * (rowBytes + 1)] = f;
    for (let i = 0; i < rowBytes; i++) {
      const a = i > 0 ? (cur[i - 1] as number) : 0;
      const b = prev[i] as number;
      const c = i > 0 ? (prev[i - 1] as number) : 0;
      const p = a + b - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][f] ?? 0;
      filtered[y * (rowBytes + 1) + 1 + i] = ((cur[i] as number) - predictor) & 255;
    }
  }
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([depth, 3, 0, 0, 0], 8);
  const plte = Uint8Array.from(PALETTE_2022.flatMap((c) => [c >> 16, (c >> 8) & 255, c & 255]));
  const idat = idatOverride ?? deflateSync(filtered);
  // IDAT split in two chunks, as encoders may.
  const half = Math.floor(idat.length / 2);
  return Buffer.concat([
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', plte),
    chunk('tEXt', Buffer.from('Comment\0ignored')),
    chunk('IDAT', idat.subarray(0, half)),
    chunk('IDAT', idat.subarray(half)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

test('every PNG row filter (none, sub, up, average, Paeth) and bit depth unfilters to the rows', async () => {
  const width = 13;
  const height = 10;
  for (const depth of [1, 2, 4, 8]) {
    const rowBytes = Math.ceil((width * depth) / 8);
    // Bytes that make every predictor matter: rising, falling and wrapping values.
    const rows = Array.from({ length: height }, (_, y) =>
      Array.from({ length: rowBytes }, (_, i) => (y * 37 + i * 91 + ((i * y) % 7) * 29) & 255),
    );
    const png = indexedPng(width, height, depth, [0, 1, 2, 3, 4, 4, 3, 2, 1, 0], rows);
    const decoded = await decodeIndexedPng(png);
    const want = new Uint8Array(width * height);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const bit = x * depth;
        const byte = (rows[y] as number[])[bit >> 3] as number;
        want[y * width + x] = (byte >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
      }
    assert.deepEqual(decoded.indices, want, `depth ${depth}`);
    assert.equal(decoded.palette.length, PALETTE_2022.length);
  }
});
