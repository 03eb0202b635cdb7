/**
 * A past canvas by region: the cells of one rectangle at any seq, without a grid of the whole canvas.
 * Whole-grid replay (replay.ts) holds the canvas: 16 MB at 4096 a side, 268 MB at 16,384, so a canvas
 * over 4096 a side has no whole past canvases and no keyframes past the resize that took it there
 * (keyframes.ts). A region is at most 4096 a side (params.ts), and its rows are picked out by SQLite:
 * the placements table has no index on x, y (store.ts says why), so a region scans the seq range,
 * ~60 ms per million rows however small the region (10 M rows: 0.6 s for 256 x 256, 0.9 s for
 * 4096 x 4096, on a history worker). A whole-grid keyframe at or before the seq, when there is one
 * (the canvas was at most 4096 a side then), starts the region instead of the blank canvas, so only
 * the rows after it are scanned.
 *
 * Coordinates: the region is in those of the canvas right after seq `frame` (a timelapse's last
 * frame, an image's own seq). Rows are stored in the coordinates of their own time (canvas-size.ts),
 * so each stretch between resizes is scanned with the region moved back by the columns and rows added
 * on the left and top since. Cells that were not canvas yet stay 0, as a resize adds them.
 */
import type Database from 'better-sqlite3';
import type { SizeHistory } from '../canvas/canvas-size.ts';
import type { Region } from './jobs.ts';
import { type HistoryReader, unpackKeyframe } from './replay.ts';

/**
 * Seqs per query: the rows of a slice that fall in the region come back as one array (one packed
 * number each), so a 4096 x 4096 region over 10 M rows never builds one of millions of numbers.
 */
const SLICE_SEQS = 1_000_000;

/** The region's cells at a seq, moved forward by `advance` (frames in seq order reuse the work). */
export class RegionCursor {
  /** Palette indices, `region.w` x `region.h`, row-major: the region right after `at`. */
  readonly cells: Uint8Array;
  private at = 0;
  private readonly rows: Database.Statement<[number, number, number, number, number, number, number, number, number]>;

  constructor(
    private readonly reader: HistoryReader,
    readonly region: Region,
    /** The seq whose canvas's coordinates `region` is in. */
    private readonly frame: number,
    private readonly sizes: SizeHistory,
  ) {
    this.cells = new Uint8Array(region.w * region.h);
    // One packed number per row, as replay.ts reads rows: (cell in the region) * 256 + colour.
    this.rows = reader.db
      .prepare(
        `SELECT ((y - ?) * ? + (x - ?)) * 256 + color FROM placements
         WHERE seq > ? AND seq <= ? AND x >= ? AND x < ? AND y >= ? AND y < ? ORDER BY seq`,
      )
      .pluck();
  }

  /** Moves the region forward to `target` (>= the seq it shows): a later keyframe, then the rows. */
  advance(target: number): void {
    if (target < this.at) throw new Error(`region cursor at ${this.at} cannot go back to ${target}`);
    if (this.reader.keyframes.latestSeqAtOrBefore(target) > this.at) this.fromKeyframe(target);
    const events = this.sizes.between(this.at, target);
    const bounds = [this.at, ...events.map((e) => e.seq), target];
    for (let b = 0; b + 1 < bounds.length; b++) this.scan(bounds[b] as number, bounds[b + 1] as number);
    this.at = target;
  }

  /** The region as the latest keyframe at or before `target` shows it (a whole grid of its time). */
  private fromKeyframe(target: number): void {
    const kf = this.reader.keyframes.latestAtOrBefore(target);
    if (!kf) return;
    const { width, height } = this.sizes.at(kf.seq);
    const grid = unpackKeyframe(kf.grid, width * height);
    const { left, top } = this.sizes.shift(kf.seq, this.frame);
    const { x, y, w, h } = this.region;
    this.cells.fill(0);
    const [i0, i1] = columnsOnCanvas(this.region, left, width);
    for (let j = 0; j < h; j++) {
      const gy = y + j - top;
      if (gy < 0 || gy >= height || i0 === i1) continue;
      const src = gy * width + (x + i0 - left);
      this.cells.set(grid.subarray(src, src + (i1 - i0)), j * w + i0);
    }
    this.at = kf.seq;
  }

  /** Applies the rows with seq in (lo, hi], all in the coordinates of the canvas right after `lo`. */
  private scan(lo: number, hi: number): void {
    const { left, top } = this.sizes.shift(lo, this.frame);
    const { w, h } = this.region;
    const x0 = this.region.x - left;
    const y0 = this.region.y - top;
    for (let from = lo; from < hi; from += SLICE_SEQS) {
      const to = Math.min(hi, from + SLICE_SEQS);
      for (const v of this.rows.all(y0, w, x0, from, to, x0, x0 + w, y0, y0 + h) as number[]) {
        const colour = v & 255; // exact: 2^32 is a multiple of 256, so ToInt32 keeps the low byte
        this.cells[(v - colour) / 256] = colour;
      }
    }
  }
}

/**
 * The columns i0..i1-1 of `region` (counted from its left edge) that lie on a canvas `width` wide
 * whose column 0 is at `left` in the region's coordinates: the part of a region that was canvas at
 * an earlier seq, `left` being the columns added on the left since.
 */
export function columnsOnCanvas(region: Region, left: number, width: number): [number, number] {
  const i0 = Math.min(Math.max(0, left - region.x), region.w);
  return [i0, Math.max(Math.min(region.w, left + width - region.x), i0)];
}

/** The cells of `region` (in the coordinates of the canvas right after `seq`) at `seq`. */
export function regionAt(reader: HistoryReader, seq: number, region: Region, sizes = reader.sizes()): Uint8Array {
  const cursor = new RegionCursor(reader, region, seq, sizes);
  cursor.advance(seq);
  return cursor.cells;
}
