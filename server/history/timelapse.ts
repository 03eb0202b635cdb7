/**
 * Timelapse: an animated PNG (APNG) of the canvas at evenly spaced seqs, written frame by frame as
 * the replay reaches each seq: indexed colour (the canvas's own palette indices, never RGBA), each
 * frame after the first only the rectangle that changed, its unchanged cells a transparent palette
 * entry blended over the previous frame, deflated by node:zlib. Runs in a history worker.
 *
 * Written by hand rather than with upng-js: UPNG.encode takes every frame at once as RGBA, so a
 * 100-frame 1000 x 1000 build held ~600 MB (the RGBA frames plus its working copies), which the
 * process kept as RSS after the build (glibc keeps freed arena pages): 16 distinct such builds over
 * 1.5 M placements took the server from 184 to 1,599 MiB (peak 1,701). This holds two region grids
 * and one frame's scanlines: the same 16 builds end at 302 MiB (peak 310), and each is ~4x faster
 * (perf/RESULTS.md, "History memory"). Every frame decodes to the canvas at its seq
 * (server/test/history-timelapse.test.ts, decoded with upng-js).
 */
import { deflateSync } from 'node:zlib';
import { PngEncoder, pngBitDepth, pngChunk } from '../canvas/png-encoder.ts';
import type { SizeHistory } from '../canvas/canvas-size.ts';
import { WHOLE_CANVAS_MAX_SIDE } from '../canvas/canvas.ts';
import type { Region } from './jobs.ts';
import { columnsOnCanvas, RegionCursor } from './region-replay.ts';
import type { HistoryReader } from './replay.ts';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Deflate level of the frames: node:zlib's default, the level upng-js used. */
const LEVEL = 6;

export interface TimelapseJob {
  seqs: readonly number[];
  region: Region;
  scale: number;
  delayMs: number;
  loop: number;
}

/** The smallest rectangle of a w x h grid holding every cell where `a` and `b` differ; undefined if none. */
export function changedRect(a: Uint8Array, b: Uint8Array, w: number, h: number): Region | undefined {
  let x0 = w;
  let x1 = -1;
  let y0 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let first = -1;
    let last = -1;
    for (let x = 0; x < w; x++) {
      if (a[row + x] !== b[row + x]) {
        if (first < 0) first = x;
        last = x;
      }
    }
    if (first < 0) continue;
    if (y0 < 0) y0 = y;
    y1 = y;
    if (first < x0) x0 = first;
    if (last > x1) x1 = last;
  }
  return y0 < 0 ? undefined : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/**
 * An APNG written one frame at a time. `palette` gains one transparent entry for "unchanged" when it
 * has room (< 256 colours); with 256, a changed rectangle replaces the previous frame's pixels whole.
 */
export class ApngWriter {
  private readonly parts: Buffer[] = [];
  private readonly palette: readonly number[];
  /** The palette index of "as in the previous frame", or -1 when the palette is full. */
  private readonly clear: number;
  private sequence = 0;
  private written = 0;

  constructor(
    readonly width: number,
    readonly height: number,
    palette: readonly number[],
    private readonly frames: number,
    plays: number,
    private readonly delayMs: number,
  ) {
    this.clear = palette.length < 256 ? palette.length : -1;
    this.palette = this.clear < 0 ? palette : [...palette, 0];
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr[8] = pngBitDepth(this.palette.length); // as PngEncoder packs the scanlines below
    ihdr[9] = 3; // indexed colour; then compression 0, filter method 0, no interlace
    const plte = Buffer.from(this.palette.flatMap((rgb) => [(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255]));
    this.parts.push(SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('PLTE', plte));
    if (this.clear >= 0) {
      const trns = Buffer.alloc(this.palette.length, 255);
      trns[this.clear] = 0;
      this.parts.push(pngChunk('tRNS', trns));
    }
    const actl = Buffer.alloc(8);
    actl.writeUInt32BE(frames, 0);
    actl.writeUInt32BE(plays, 4);
    this.parts.push(pngChunk('acTL', actl));
  }

  /**
   * Adds a frame: `cells` (width x height palette indices, already scaled) at `rect` of the image; the
   * first frame must cover the whole image. `over`: blend over the previous frame (cells equal to
   * the clear index keep it).
   */
  add(cells: Uint8Array, rect: Region, over: boolean): void {
    const fctl = Buffer.alloc(26);
    fctl.writeUInt32BE(this.sequence++, 0);
    fctl.writeUInt32BE(rect.w, 4);
    fctl.writeUInt32BE(rect.h, 8);
    fctl.writeUInt32BE(rect.x, 12);
    fctl.writeUInt32BE(rect.y, 16);
    fctl.writeUInt16BE(this.delayMs, 20);
    fctl.writeUInt16BE(1000, 22);
    fctl[24] = 0; // dispose_op none: the next frame starts from this one
    fctl[25] = over ? 1 : 0; // blend_op: 1 over (transparent cells keep the previous frame), 0 source
    this.parts.push(pngChunk('fcTL', fctl));
    const data = deflateSync(new PngEncoder(rect.w, rect.h, this.palette).packScanlines(cells), { level: LEVEL });
    if (this.written++ === 0) {
      this.parts.push(pngChunk('IDAT', data));
      return;
    }
    const fdat = Buffer.allocUnsafe(4 + data.length);
    fdat.writeUInt32BE(this.sequence++, 0);
    fdat.set(data, 4);
    this.parts.push(pngChunk('fdAT', fdat));
  }

  /** The clear index, or -1 when the palette has no room for it. */
  get clearIndex(): number {
    return this.clear;
  }

  end(): Buffer {
    if (this.written !== this.frames) throw new Error(`APNG of ${this.frames} frames got ${this.written}`);
    this.parts.push(pngChunk('IEND', new Uint8Array(0)));
    return Buffer.concat(this.parts);
  }
}

/** `rect` of `grid` (row length `gridW`) scaled by `scale`, cells equal in `prev` set to `clear` (if >= 0). */
function frameCells(
  grid: Uint8Array,
  prev: Uint8Array | undefined,
  gridW: number,
  rect: Region,
  scale: number,
  clear: number,
): Uint8Array {
  const outW = rect.w * scale;
  const out = new Uint8Array(outW * rect.h * scale);
  for (let ry = 0; ry < rect.h; ry++) {
    const src = (rect.y + ry) * gridW + rect.x;
    const row = ry * scale * outW;
    for (let rx = 0; rx < rect.w; rx++) {
      const c = grid[src + rx] as number;
      const v = prev && clear >= 0 && prev[src + rx] === c ? clear : c;
      if (scale === 1) out[row + rx] = v;
      else out.fill(v, row + rx * scale, row + (rx + 1) * scale);
    }
    // The other scale - 1 rows of this block repeat the first.
    for (let s = 1; s < scale; s++) out.copyWithin(row + s * outW, row, row + outW);
  }
  return out;
}

/**
 * The region is in the coordinates of the canvas at the last frame. A frame from before a resize
 * shows the canvas as it was then, where its pixels lie at the last frame (moved by the columns and
 * rows added on the left and top since); what was not canvas yet is transparent (the clear index;
 * colour 0 when the palette has no room for one), so the growth shows as the canvas widening.
 * Frames come from whole grids (replay.ts, through keyframes) while the canvas at the last frame is
 * at most 4096 a side, else from the region alone (region-replay.ts).
 */
export function buildTimelapse(reader: HistoryReader, palette: readonly number[], job: TimelapseJob): Uint8Array {
  const { region, scale } = job;
  const apng = new ApngWriter(region.w * scale, region.h * scale, palette, job.seqs.length, job.loop, job.delayMs);
  const sizes = reader.sizes();
  const last = job.seqs[job.seqs.length - 1] ?? 0;
  const outside = Math.max(apng.clearIndex, 0);
  const frames = frameSource(reader, sizes, region, last);
  // The region of the previous frame and of this one, swapped each frame: the whole working set.
  let prev: Uint8Array | undefined;
  let cur: Uint8Array = new Uint8Array(region.w * region.h);
  for (const seq of job.seqs) {
    // Frames are in seq order, so each is the previous one plus the rows between (or a later keyframe).
    const rows = frames(seq);
    const { width, height } = sizes.at(seq);
    const { left, top } = sizes.shift(seq, last);
    // The region's columns that were canvas at this seq.
    const [i0, i1] = columnsOnCanvas(region, left, width);
    const x0 = region.x + i0;
    const x1 = region.x + i1;
    for (let y = 0; y < region.h; y++) {
      const row = y * region.w;
      const gy = region.y + y - top;
      if (gy < 0 || gy >= height || x0 === x1) {
        cur.fill(outside, row, row + region.w);
        continue;
      }
      cur.fill(outside, row, row + x0 - region.x);
      rows.copyRow(cur, row + x0 - region.x, y, gy, x0, x1);
      cur.fill(outside, row + x1 - region.x, row + region.w);
    }
    // A frame with no change is one unchanged cell: APNG frames have at least one pixel.
    const rect = prev ? (changedRect(prev, cur, region.w, region.h) ?? { x: 0, y: 0, w: 1, h: 1 }) : undefined;
    const whole = { x: 0, y: 0, w: region.w, h: region.h };
    const r = rect ?? whole;
    apng.add(
      frameCells(cur, prev, region.w, r, scale, apng.clearIndex),
      {
        x: r.x * scale,
        y: r.y * scale,
        w: r.w * scale,
        h: r.h * scale,
      },
      prev !== undefined && apng.clearIndex >= 0,
    );
    const spare = prev ?? new Uint8Array(region.w * region.h);
    prev = cur;
    cur = spare;
  }
  return apng.end();
}

/** A frame's cells, one row of the region at a time. */
interface FrameRows {
  /**
   * Copies the region's row `y` (canvas row `gy` at the frame's seq), columns x0..x1-1 in the last
   * frame's coordinates (all canvas at that seq), into `out` at `at`.
   */
  copyRow(out: Uint8Array, at: number, y: number, gy: number, x0: number, x1: number): void;
}

/** The rows of each frame, asked for in seq order: from whole grids, or from the region alone. */
function frameSource(
  reader: HistoryReader,
  sizes: SizeHistory,
  region: Region,
  last: number,
): (seq: number) => FrameRows {
  const end = sizes.at(last);
  if (end.width > WHOLE_CANVAS_MAX_SIDE || end.height > WHOLE_CANVAS_MAX_SIDE) {
    const cursor = new RegionCursor(reader, region, last, sizes);
    const rows: FrameRows = {
      copyRow: (out, at, y, _gy, x0, x1) => {
        const src = y * region.w + (x0 - region.x);
        out.set(cursor.cells.subarray(src, src + (x1 - x0)), at);
      },
    };
    return (seq) => {
      cursor.advance(seq);
      return rows;
    };
  }
  let grid: Uint8Array = new Uint8Array(reader.width * reader.height);
  let at = 0;
  return (seq) => {
    grid = reader.advance(grid, at, seq, sizes);
    at = seq;
    const { width } = sizes.at(seq);
    const { left } = sizes.shift(seq, last);
    const g = grid;
    return {
      copyRow: (out, to, _y, gy, x0, x1) => {
        const src = gy * width + (x0 - left);
        out.set(g.subarray(src, src + (x1 - x0)), to);
      },
    };
  };
}
