/**
 * The canvas at any past seq: the latest keyframe at or before it plus a replay of the placements
 * after the keyframe, growing the grid at each resize on the way (canvas/canvas-size.ts: rows are in
 * the coordinates of their own time). Works on any better-sqlite3 connection to the store's file (the writer's, or a
 * history worker's read-only one). Moderation changes (`mod:rollback`, `mod:wipe`) are ordinary
 * placement rows, so replay covers them.
 */
import type Database from 'better-sqlite3';
import { deflate, inflateSync } from 'node:zlib';
import { growCells, SizeHistory } from '../canvas/canvas-size.ts';
import { KeyframeStore } from '../store/keyframe-store.ts';
import { SizeStore } from '../store/size-store.ts';

/**
 * Keyframe deflate level. Level 6 vs 1 on a 1000 x 1000 synthetic canvas: smaller keyframes for
 * about the same inflate time, and deflate runs in the thread pool, so the smaller size is free.
 */
const KEYFRAME_LEVEL = 6;

export function packKeyframe(grid: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    deflate(grid, { level: KEYFRAME_LEVEL }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

export function unpackKeyframe(blob: Uint8Array, cells: number): Uint8Array {
  const grid = inflateSync(blob);
  if (grid.length !== cells) throw new Error(`keyframe holds ${grid.length} cells, expected ${cells}`);
  // A plain Uint8Array view, like every other grid (a Buffer compares unequal in tests).
  return new Uint8Array(grid.buffer, grid.byteOffset, grid.length);
}

/**
 * Seqs replayed per query. Rows come back as one packed integer each, (cell * 256 + colour), through
 * pluck().all(): 0.39 us a row against 1.3 us for three raw columns through iterate() (200,000 rows
 * of the 10 M benchmark database); the slice bounds the array all() builds.
 */
const REPLAY_SLICE = 65_536;

export class HistoryReader {
  readonly keyframes: KeyframeStore;
  private readonly sizeStore: SizeStore;
  private readonly rows: Database.Statement<[number, number, number]>;
  private readonly maxSeqStmt: Database.Statement<[]>;
  private readonly atOf: Database.Statement<[number]>;
  private readonly atOrBefore: Database.Statement<[number]>;

  /** `width` x `height`: the canvas's first size; resizes since are read from `canvas_sizes`. */
  constructor(
    readonly db: Database.Database,
    readonly width: number,
    readonly height: number,
  ) {
    this.keyframes = new KeyframeStore(db);
    this.sizeStore = new SizeStore(db);
    this.rows = db
      .prepare('SELECT (y * ? + x) * 256 + color FROM placements WHERE seq > ? AND seq <= ? ORDER BY seq')
      .pluck();
    this.maxSeqStmt = db.prepare('SELECT COALESCE(MAX(seq), 0) FROM placements').pluck();
    this.atOf = db.prepare('SELECT at FROM placements WHERE seq >= ? ORDER BY seq LIMIT 1').pluck();
    this.atOrBefore = db.prepare('SELECT at FROM placements WHERE seq <= ? ORDER BY seq DESC LIMIT 1').pluck();
  }

  /**
   * The first size and every resize stored now (a handful of rows, read per call: a resize may
   * come at any time, and a worker's read-only connection sees it once committed).
   */
  sizes(): SizeHistory {
    return new SizeHistory({ width: this.width, height: this.height }, this.sizeStore.all());
  }

  /** The seq of the last stored placement (0: none). */
  maxSeq(): number {
    return this.maxSeqStmt.get() as number;
  }

  /** The time of the last placement at or before `seq` (0: none). */
  timeOf(seq: number): number {
    return (this.atOrBefore.get(seq) as number | undefined) ?? 0;
  }

  /**
   * Applies the placements and resizes with seq in (from, to] to `grid` (the canvas right after
   * `from`), in order; returns the grid holding the result (a new, larger one after a resize).
   */
  replay(grid: Uint8Array, from: number, to: number, sizes = this.sizes()): Uint8Array {
    let out = grid;
    let at = from;
    let { width, height } = sizes.at(from);
    for (const e of sizes.between(from, to)) {
      this.replayRows(out, width, at, e.seq - 1);
      out = growCells(out, width, height, e);
      ({ width, height } = e);
      at = e.seq;
    }
    this.replayRows(out, width, at, to);
    return out;
  }

  private replayRows(grid: Uint8Array, width: number, from: number, to: number): void {
    for (let lo = from; lo < to; lo += REPLAY_SLICE) {
      for (const v of this.rows.all(width, lo, Math.min(to, lo + REPLAY_SLICE)) as number[]) {
        const color = v & 255; // exact: 2^32 is a multiple of 256, so ToInt32 keeps the low byte
        grid[(v - color) / 256] = color;
      }
    }
  }

  /**
   * Moves `grid`, the canvas right after `at`, forward to `target`: through the latest keyframe at
   * or before `target` when that is past `at` (fewer rows to replay), else by replay alone. Returns
   * the grid holding the result (the keyframe's buffer when one was loaded, a larger one after a
   * resize); its size is `sizes().at(target)`.
   */
  advance(grid: Uint8Array, at: number, target: number, sizes = this.sizes()): Uint8Array {
    let out = grid;
    let from = at;
    if (this.keyframes.latestSeqAtOrBefore(target) > at) {
      const kf = this.keyframes.latestAtOrBefore(target);
      if (kf) {
        const { width, height } = sizes.at(kf.seq);
        out = unpackKeyframe(kf.grid, width * height);
        from = kf.seq;
      }
    }
    return this.replay(out, from, target, sizes);
  }

  /** The grid right after `seq` (seq 0: the blank canvas), of the size the canvas had then. */
  canvasAt(seq: number, sizes = this.sizes()): Uint8Array {
    return this.advance(new Uint8Array(this.width * this.height), 0, seq, sizes);
  }

  /**
   * The last seq whose placement time is <= `unixMs` (0 if none). `at` is assigned at commit and grows
   * with seq, so this is a binary search over the primary key (the table has no index on `at`).
   */
  seqAt(unixMs: number): number {
    let lo = 1;
    let hi = this.maxSeq() + 1;
    // Invariant: every seq < lo has at <= unixMs; every seq >= hi has at > unixMs.
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const at = this.atOf.get(mid) as number | undefined;
      if (at === undefined || at > unixMs) hi = mid;
      else lo = mid + 1;
    }
    return lo - 1;
  }
}
