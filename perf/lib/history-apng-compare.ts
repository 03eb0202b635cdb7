/**
 * What the timelapse encoder costs, and what an alternative would: the 100 frames of 1000 x 1000 of
 * perf/history.ts encoded (a) with UPNG.encode, as server/history/timelapse.ts did, and (b) with a
 * minimal indexed APNG writer (each frame the changed rectangle of the palette indices, 4-bit
 * scanlines from canvas/png-encoder.ts, deflated by node:zlib), checked frame by frame against (a)
 * with upng-js's decoder. A measurement to decide on, not server code.
 *
 *   npx tsx perf/lib/history-apng-compare.ts --db /tmp/hbench/history-10m.db   (made by perf/history.ts)
 */
import Database from 'better-sqlite3';
import { parseArgs } from 'node:util';
import { deflateSync } from 'node:zlib';
import UPNG from 'upng-js';
import { PngEncoder, pngChunk } from '../../server/canvas/png-encoder.ts';
import { PALETTE_2017 } from '../../server/config/palette.ts';
import { frameSeqs } from '../../server/history/params.ts';
import { HistoryReader } from '../../server/history/replay.ts';
import type { Region } from '../../server/history/jobs.ts';

const { values: args } = parseArgs({ options: { db: { type: 'string' }, frames: { type: 'string', default: '100' } } });
if (!args.db) throw new Error('--db PATH (a database perf/history.ts built)');
const W = 1000;
const H = 1000;
const db = new Database(args.db, { readonly: true });
const reader = new HistoryReader(db, W, H);
const seqs = frameSeqs(0, reader.maxSeq(), Number(args.frames));
const grids: Uint8Array[] = [];
let g: Uint8Array = new Uint8Array(W * H);
let at = 0;
for (const s of seqs) {
  g = reader.advance(g, at, s);
  at = s;
  grids.push(g.slice());
}

/** RGBA bytes as one little-endian uint32 per palette index (UPNG.encode's input). */
function rgbaLookup(palette: readonly number[]): Uint32Array {
  const lut = new Uint32Array(256);
  palette.forEach((rgb, i) => {
    lut[i] = (0xff000000 | ((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >> 16) & 0xff)) >>> 0;
  });
  return lut;
}

/** The region of `grid` as RGBA (scale 1): what server/history/timelapse.ts gave UPNG.encode until it wrote APNG itself. */
function regionRgba(grid: Uint8Array, canvasWidth: number, region: Region, _scale: 1, lut: Uint32Array): ArrayBuffer {
  const out = new Uint32Array(region.w * region.h);
  for (let ry = 0; ry < region.h; ry++) {
    const src = (region.y + ry) * canvasWidth + region.x;
    for (let rx = 0; rx < region.w; rx++) out[ry * region.w + rx] = lut[grid[src + rx] as number] as number;
  }
  return out.buffer;
}

/** The smallest rectangle holding every cell that differs (1 x 1 when none does). */
function changed(a: Uint8Array, b: Uint8Array) {
  let x0 = W;
  let y0 = H;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < H; y++) {
    const row = y * W;
    for (let x = 0; x < W; x++) {
      if (a[row + x] === b[row + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  return x1 < 0 ? { x: 0, y: 0, w: 1, h: 1 } : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/**
 * `delta`: unchanged cells of a frame's rectangle become a transparent palette entry (tRNS) blended
 * over the previous frame, as UPNG.encode does with RGBA; bit depth 8 then (17 entries).
 */
function indexedApng(frames: Uint8Array[], delayMs: number, delta: boolean): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(W, 0);
  ihdr.writeUInt32BE(H, 4);
  const palette = delta ? [...PALETTE_2017, 0] : PALETTE_2017;
  ihdr[8] = delta ? 8 : 4; // 16 colours: bit depth 4, like /image
  ihdr[9] = 3; // indexed
  const plte = Buffer.from(palette.flatMap((rgb) => [rgb >> 16, (rgb >> 8) & 255, rgb & 255]));
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const parts: Buffer[] = [signature, pngChunk('IHDR', ihdr), pngChunk('PLTE', plte)];
  const clear = PALETTE_2017.length;
  if (delta) parts.push(pngChunk('tRNS', Buffer.from([...PALETTE_2017.map(() => 255), 0])));
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(frames.length, 0);
  parts.push(pngChunk('acTL', actl));
  let sequence = 0;
  frames.forEach((f, i) => {
    const r = i === 0 ? { x: 0, y: 0, w: W, h: H } : changed(frames[i - 1] as Uint8Array, f);
    const fctl = Buffer.alloc(26);
    fctl.writeUInt32BE(sequence++, 0);
    fctl.writeUInt32BE(r.w, 4);
    fctl.writeUInt32BE(r.h, 8);
    fctl.writeUInt32BE(r.x, 12);
    fctl.writeUInt32BE(r.y, 16);
    fctl.writeUInt16BE(delayMs, 20);
    fctl.writeUInt16BE(1000, 22);
    fctl[25] = delta && i > 0 ? 1 : 0; // blend 1 (over): transparent cells keep the previous frame
    parts.push(pngChunk('fcTL', fctl));
    const crop = new Uint8Array(r.w * r.h);
    const prev = frames[i - 1];
    for (let y = 0; y < r.h; y++) {
      const src = (r.y + y) * W + r.x;
      crop.set(f.subarray(src, src + r.w), y * r.w);
      if (!delta || !prev) continue;
      for (let x = 0; x < r.w; x++) if (prev[src + x] === f[src + x]) crop[y * r.w + x] = clear;
    }
    const data = deflateSync(new PngEncoder(r.w, r.h, palette).packScanlines(crop), { level: 6 });
    if (i === 0) {
      parts.push(pngChunk('IDAT', data));
      return;
    }
    const fdat = Buffer.alloc(4 + data.length);
    fdat.writeUInt32BE(sequence++, 0);
    fdat.set(data, 4);
    parts.push(pngChunk('fdAT', fdat));
  });
  parts.push(pngChunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

const cpu = (fn: () => Uint8Array) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = fn();
  const d = process.cpuUsage(c0);
  return { out, wallS: (performance.now() - t0) / 1000, cpuS: (d.user + d.system) / 1e6 };
};
const lut = rgbaLookup(PALETTE_2017);
const region = { x: 0, y: 0, w: W, h: H };
const a = cpu(
  () =>
    new Uint8Array(
      UPNG.encode(
        grids.map((f) => regionRgba(f, W, region, 1, lut)),
        W,
        H,
        0,
        grids.map(() => 100),
      ),
    ),
);
const b = cpu(() => indexedApng(grids, 100, false));
const c = cpu(() => indexedApng(grids, 100, true));
const fa = UPNG.toRGBA8(UPNG.decode(new Uint8Array(a.out).buffer));
const fb = UPNG.toRGBA8(UPNG.decode(new Uint8Array(b.out).buffer));
const fc = UPNG.toRGBA8(UPNG.decode(new Uint8Array(c.out).buffer));
const equal = (x: ArrayBuffer[], y: ArrayBuffer[]) =>
  x.length === y.length && x.every((f, i) => Buffer.from(f).equals(Buffer.from(y[i] as ArrayBuffer)));
const line = (name: string, r: typeof a) =>
  `${name}: ${r.cpuS.toFixed(2)} s CPU, ${r.wallS.toFixed(2)} s wall, ${(r.out.length / 1048576).toFixed(2)} MiB`;
console.log(
  `${seqs.length} frames of ${W} x ${H} over ${reader.maxSeq().toLocaleString('en')} placements (frames replayed beforehand)`,
);
console.log(line('UPNG.encode (RGBA in, as timelapse.ts)', a));
console.log(line('indexed APNG writer, rectangles replace (node:zlib 6)', b));
console.log(line('indexed APNG writer, transparent unchanged cells (node:zlib 6)', c));
console.log(`decoded frames identical to UPNG's: ${equal(fa, fb)}, ${equal(fa, fc)}`);
