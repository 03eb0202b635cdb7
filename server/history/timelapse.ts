/**
 * Timelapse: an animated PNG (APNG) of the canvas at evenly spaced seqs, encoded with upng-js
 * (UPNG.encode takes RGBA frames and writes the fcTL/fdAT chunks, each frame as the changed rectangle
 * of the previous one, with an indexed palette when the frames hold <= 256 colours). Runs in a history
 * worker: 100 frames of 1000 x 1000 take seconds of CPU and about 6 bytes of memory per output pixel
 * (the RGBA frames plus UPNG's output buffer of the same size), hence the limits in params.ts.
 */
import { createRequire } from 'node:module';
import UPNG from 'upng-js';
import { crc32, deflateSync } from 'node:zlib';
import type { HistoryReader } from './replay.ts';
import type { Region } from './jobs.ts';

/**
 * upng-js deflates every frame with pako, a JavaScript zlib. Node's own zlib writes the same format
 * (level 6 by default in both) in native code: the 100-frame 1000 x 1000 benchmark timelapse over 10 M
 * placements, built by a history worker, took 11.4 s of CPU with pako and 9.2 s with this, side by
 * side (perf/RESULTS.md, "History"); the frames decode identically. pako is reached through upng-js's own resolution, so this is the very
 * module object upng-js calls; it runs in each history worker (and wherever this file is loaded).
 */
const pako = createRequire(createRequire(import.meta.url).resolve('upng-js'))('pako') as {
  deflate: (data: Uint8Array) => Uint8Array;
};
pako.deflate = (data) => deflateSync(data);

/** RGBA bytes as one little-endian uint32 per palette index (what a Uint32Array view of RGBA holds). */
export function rgbaLookup(palette: readonly number[]): Uint32Array {
  const lut = new Uint32Array(256);
  palette.forEach((rgb, i) => {
    lut[i] = (0xff000000 | ((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >> 16) & 0xff)) >>> 0;
  });
  return lut;
}

/** The region of `grid` as RGBA, each canvas pixel a scale x scale block. */
export function regionRgba(
  grid: Uint8Array,
  canvasWidth: number,
  region: Region,
  scale: number,
  lut: Uint32Array,
): ArrayBuffer {
  const outW = region.w * scale;
  const out = new Uint32Array(outW * region.h * scale);
  for (let ry = 0; ry < region.h; ry++) {
    const src = (region.y + ry) * canvasWidth + region.x;
    const row = ry * scale * outW;
    if (scale === 1) {
      // The common case without the inner block loop: 3x faster (15 -> 5 ms a 1000 x 1000 frame).
      for (let rx = 0; rx < region.w; rx++) out[row + rx] = lut[grid[src + rx] as number] as number;
      continue;
    }
    for (let rx = 0; rx < region.w; rx++) {
      const c = lut[grid[src + rx] as number] as number;
      for (let s = 0; s < scale; s++) out[row + rx * scale + s] = c;
    }
    // The other scale - 1 rows of this block repeat the first.
    for (let s = 1; s < scale; s++) out.copyWithin(row + s * outW, row, row + outW);
  }
  return out.buffer;
}

/**
 * Sets the APNG play count (acTL num_plays): UPNG.encode always writes 0 (forever). The acTL chunk
 * comes right after IHDR and sRGB in UPNG's output; this finds it by type rather than by offset.
 */
export function setLoopCount(png: Uint8Array, plays: number): void {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let off = 8;
  while (off + 12 <= png.length) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(...png.subarray(off + 4, off + 8));
    if (type === 'acTL') {
      view.setUint32(off + 12, plays);
      view.setUint32(off + 8 + len, crc32(png.subarray(off + 4, off + 8 + len)));
      return;
    }
    if (type === 'IDAT') return;
    off += 12 + len;
  }
}

export interface TimelapseJob {
  seqs: readonly number[];
  region: Region;
  scale: number;
  delayMs: number;
  loop: number;
}

export function buildTimelapse(reader: HistoryReader, palette: readonly number[], job: TimelapseJob): Uint8Array {
  const lut = rgbaLookup(palette);
  const frames: ArrayBuffer[] = [];
  let grid: Uint8Array = new Uint8Array(reader.width * reader.height);
  let at = 0;
  for (const seq of job.seqs) {
    // Frames are in seq order, so each is the previous one plus the rows between (or a later keyframe).
    grid = reader.advance(grid, at, seq);
    at = seq;
    frames.push(regionRgba(grid, reader.width, job.region, job.scale, lut));
  }
  const w = job.region.w * job.scale;
  const h = job.region.h * job.scale;
  // cnum 0: lossless (no quantisation); the palette has at most 256 colours, so UPNG writes indexed frames.
  const png = new Uint8Array(
    UPNG.encode(
      frames,
      w,
      h,
      0,
      frames.map(() => job.delayMs),
    ),
  );
  if (frames.length > 1) setLoopCount(png, job.loop);
  return png;
}
