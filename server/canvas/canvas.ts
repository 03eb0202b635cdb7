/**
 * The authoritative grid: one palette index and the seq of its last placement per pixel, held in
 * CHUNK x CHUNK chunks (canvas/chunk.ts), so memory follows the pixels placed, not the declared size
 * (16,384 x 16,384 would be 1.3 GB at 5 bytes a pixel). A chunk's first SPARSE_MAX pixels live in one
 * hash table shared by all chunks (sparse-pixels.ts, 9 bytes a slot); past that the chunk is dense
 * (20 KB). A pixel never placed reads colour 0 and seq 0 without allocating. Plus the global sequence
 * number of the last applied placement. Only the placement committer mutates it, after a commit.
 *
 * Sparse pixels are keyed by (y << 16) | x, not by y * width + x, and the stored form of a chunk is
 * relative to the chunk: growing the canvas right or down re-lays only the per-chunk arrays (chunk
 * index cy * across + cx), never the pixels. Sides stay below 65,536 (the delta records' uint16 too).
 */
import type { ResizeRequest } from './canvas-size.ts';
import * as chunk from './chunk.ts';
import { DenseChunk, readChunk, SparseImages } from './chunk.ts';
import * as sparsePixels from './sparse-pixels.ts';
import { SparsePixels } from './sparse-pixels.ts';

/** Largest side for whole-canvas images (`/image`, the `png` stream, full deltas, history images). */
export const WHOLE_CANVAS_MAX_SIDE = 4096;

/** A chunk's position (in chunks) and its stored bytes: the unit of a snapshot. */
export interface ChunkImage {
  cx: number;
  cy: number;
  bytes: Buffer;
}

const EMPTY = Buffer.alloc(0);
// Module-local copies of chunk.ts's constants: read on every pixel access, and an imported binding
// is a getter call once tsx compiles the modules (40% of a snapshot's time, measured with --cpu-prof).
const CHUNK = chunk.CHUNK;
const CHUNK_SHIFT = chunk.CHUNK_SHIFT;
const CHUNK_CELLS = chunk.CHUNK_CELLS;
const SPARSE_MAX = chunk.SPARSE_MAX;
const SHARDS = sparsePixels.SHARDS;

export class Canvas {
  /** The size and the arrays change only in `resize`. */
  width: number;
  height: number;
  readonly paletteSize: number;
  /** Sequence number of the last applied placement. */
  seq: number;
  /** Chunks across and down; chunk index `cy * across + cx`. */
  private across: number;
  private down: number;
  /** Per chunk: its dense form, once it has one. */
  private dense: (DenseChunk | undefined)[];
  /** Per chunk without a dense form: its pixels in `sparse`. */
  private sparseCount: Uint16Array;
  private sparse = new SparsePixels();
  /** Per chunk: changed since the last `takeUnsaved` (1), listed in `unsaved` (the snapshot's work). */
  private unsavedFlags: Uint8Array;
  private unsaved: number[] = [];
  /**
   * Cells changed since the last `takeChanges`. A cell is listed when a placement finds its seq at or
   * below `takenAt` (the seq of that call): it was not listed since, so no bitmap is needed.
   */
  private changed: number[] = [];
  private takenAt: number;
  private tracking: boolean;
  private allChanged = false;

  /** `track`: list changed cells for `takeChanges` (a standby's copy, which never ticks, does not). */
  constructor(width: number, height: number, paletteSize: number, seq = 0, track = true) {
    this.width = width;
    this.height = height;
    this.paletteSize = paletteSize;
    this.seq = seq;
    this.takenAt = seq;
    this.tracking = track;
    this.across = Math.ceil(width / CHUNK);
    this.down = Math.ceil(height / CHUNK);
    const chunks = this.across * this.down;
    this.dense = new Array<DenseChunk | undefined>(chunks).fill(undefined);
    this.sparseCount = new Uint16Array(chunks);
    this.unsavedFlags = new Uint8Array(chunks);
  }

  /** Whether `/image`, the `png` stream and whole-canvas deltas exist at this size (else tiles only). */
  get wholeImages(): boolean {
    return this.width <= WHOLE_CANVAS_MAX_SIDE && this.height <= WHOLE_CANVAS_MAX_SIDE;
  }

  inBounds(x: number, y: number): boolean {
    return x >= 0 && y >= 0 && x < this.width && y < this.height;
  }

  get(x: number, y: number): number {
    const ci = (y >> CHUNK_SHIFT) * this.across + (x >> CHUNK_SHIFT);
    const d = this.dense[ci];
    if (d) return d.colours[((y & (CHUNK - 1)) << CHUNK_SHIFT) | (x & (CHUNK - 1))] as number;
    return this.sparseCount[ci] === 0 ? 0 : this.sparse.colour(ci % SHARDS, (y << 16) | x);
  }

  /** The seq of the pixel's last placement (0: never): the head of its history list. */
  lastSeqAt(x: number, y: number): number {
    const ci = (y >> CHUNK_SHIFT) * this.across + (x >> CHUNK_SHIFT);
    const d = this.dense[ci];
    if (d) return d.seqs[((y & (CHUNK - 1)) << CHUNK_SHIFT) | (x & (CHUNK - 1))] as number;
    return this.sparseCount[ci] === 0 ? 0 : this.sparse.seq(ci % SHARDS, (y << 16) | x);
  }

  /** The colour of a cell (y * width + x). */
  colourOf(cell: number): number {
    const x = cell % this.width;
    return this.get(x, (cell - x) / this.width);
  }

  /** The seq of a cell's (y * width + x) last placement. */
  lastSeqOf(cell: number): number {
    const x = cell % this.width;
    return this.lastSeqAt(x, (cell - x) / this.width);
  }

  /** Applies an already-validated, already-committed placement. */
  apply(x: number, y: number, colour: number, seq: number): void {
    const before = this.write(x, y, colour, seq);
    this.seq = seq;
    if (this.tracking && before <= this.takenAt && !this.allChanged) this.changed.push(y * this.width + x);
  }

  /** Sets a pixel without counting it as a tick change or moving `seq` (bulk writes, startup). */
  setQuiet(x: number, y: number, colour: number, seq: number): void {
    this.write(x, y, colour, seq);
  }

  /**
   * Writes `count` colours of row `y` from column `x0`, every `step`-th, into `out` from `at`
   * (pixels never placed are 0): how tiles and PNG scanlines read the grid, a chunk's span at a time.
   */
  copyRow(x0: number, y: number, count: number, step: number, out: Uint8Array, at = 0): void {
    const rowBase = (y >> CHUNK_SHIFT) * this.across;
    let i = 0;
    while (i < count) {
      const x = x0 + i * step;
      const cx = x >> CHUNK_SHIFT;
      // Pixels of this run that lie in chunk cx.
      const n = Math.min(count - i, Math.floor(((cx + 1) * CHUNK - 1 - x) / step) + 1);
      const ci = rowBase + cx;
      const d = this.dense[ci];
      if (d) d.copyRow(x & (CHUNK - 1), y & (CHUNK - 1), n, step, out, at + i);
      else if (this.sparseCount[ci] === 0) out.fill(0, at + i, at + i + n);
      else {
        const shard = ci % SHARDS;
        const key = (y << 16) | x;
        for (let k = 0; k < n; k++) out[at + i + k] = this.sparse.colour(shard, key + k * step);
      }
      i += n;
    }
  }

  /** The whole grid as one array, row by row: for canvases with whole images, and tests. */
  toGrid(): Uint8Array {
    if (!this.wholeImages) throw new Error(`a ${this.width} x ${this.height} canvas has no whole grid`);
    const grid = new Uint8Array(this.width * this.height);
    for (let y = 0; y < this.height; y++) this.copyRow(0, y, this.width, 1, grid, y * this.width);
    return grid;
  }

  /**
   * Paints the grid in bulk (tests and benchmarks that fill a whole canvas at once), keeping each
   * pixel's seq, and counts every cell as changed: the next tick packs and sends it all.
   */
  paint(grid: Uint8Array): void {
    if (grid.length !== this.width * this.height) throw new Error('paint needs one colour per cell');
    for (let y = 0; y < this.height; y++)
      for (let x = 0; x < this.width; x++) {
        const colour = grid[y * this.width + x] as number;
        if (colour !== 0 || this.get(x, y) !== 0) this.write(x, y, colour, this.lastSeqAt(x, y));
      }
    this.touchAll();
  }

  /** Every cell counts as changed: the next tick packs and sends all of it. */
  touchAll(): void {
    if (this.tracking) this.allChanged = true;
  }

  /**
   * Grows the canvas to `to` (checked by canvas-size.ts `checkResize`) at seq `seq`: every pixel moves
   * by (left, top), the new cells are colour 0 and never placed. The chunk layout is rebuilt and every
   * pixel written again at its new place (a chunk's index and shard follow `across`, and a left/top
   * growth moves pixels across chunk borders; a dense chunk's pixels stay dense, in the one to four
   * chunks its rows land in), so every chunk holding pixels counts as unsaved: the
   * snapshot after a resize rewrites them all. Costs one pass over the pixels placed, or over the
   * chunks placed when `left` and `top` are multiples of 64 (dense chunks then move whole). The changed-cell list is dropped: its indices are of the old
   * size, and the tick after a resize sends the whole canvas anyway.
   */
  resize(to: ResizeRequest, seq: number): void {
    const { across: oldAcross, dense: oldDense, sparse: oldSparse, width: oldWidth, height: oldHeight } = this;
    const { left, top } = to;
    this.width = to.width;
    this.height = to.height;
    this.across = Math.ceil(to.width / CHUNK);
    this.down = Math.ceil(to.height / CHUNK);
    const chunks = this.across * this.down;
    this.dense = new Array<DenseChunk | undefined>(chunks).fill(undefined);
    this.sparseCount = new Uint16Array(chunks);
    this.sparse = new SparsePixels();
    this.unsavedFlags = new Uint8Array(chunks);
    this.unsaved = [];
    // Dense chunks row by row into dense chunks (a row of 64 spans at most two), by typed-array
    // copies: 2000 x 2000 of noise to 4096 x 4096 took 150-175 ms pixel by pixel, 36-47 ms so (main's
    // whole-grid copy: 41-54 ms in the same runs, perf/resize.ts). Sparse pixels one by one after.
    // A growth by whole chunks on the left and top (none, as r/place grew right and down, or a
    // multiple of 64) moves each dense chunk whole, no copy: a full 4096 x 4096 to 16,384 x 16,384
    // blocked the loop 527 ms copying rows, and ms so (perf/RESULTS.md "Resize"). Its cells past the
    // old right or bottom edge were never written: 0 and never placed, as the added cells must be.
    const chunkAligned = (left & (CHUNK - 1)) === 0 && (top & (CHUNK - 1)) === 0;
    oldDense.forEach((d, ci) => {
      if (!d) return;
      if (chunkAligned) {
        const to =
          (Math.floor(ci / oldAcross) + (top >> CHUNK_SHIFT)) * this.across + (ci % oldAcross) + (left >> CHUNK_SHIFT);
        this.dense[to] = d;
        this.markUnsaved(to);
        return;
      }
      const x0 = (ci % oldAcross) << CHUNK_SHIFT;
      const y0 = Math.floor(ci / oldAcross) << CHUNK_SHIFT;
      const xEnd = Math.min(x0 + CHUNK, oldWidth);
      const yEnd = Math.min(y0 + CHUNK, oldHeight);
      for (let sy = y0; sy < yEnd; sy++) {
        const ty = sy + top;
        let sx = x0;
        while (sx < xEnd) {
          const tx = sx + left;
          const n = Math.min(xEnd - sx, CHUNK - (tx & (CHUNK - 1)));
          const target = this.denseFor((ty >> CHUNK_SHIFT) * this.across + (tx >> CHUNK_SHIFT));
          const from = ((sy - y0) << CHUNK_SHIFT) | (sx - x0);
          const to = ((ty & (CHUNK - 1)) << CHUNK_SHIFT) | (tx & (CHUNK - 1));
          target.colours.set(d.colours.subarray(from, from + n), to);
          target.seqs.set(d.seqs.subarray(from, from + n), to);
          sx += n;
        }
      }
    });
    for (let shard = 0; shard < SHARDS; shard++)
      oldSparse.forEach(shard, (key, colour, pixelSeq) => {
        this.write((key & 0xffff) + left, (key >>> 16) + top, colour, pixelSeq);
      });
    this.changed = [];
    this.allChanged = false;
    this.seq = seq;
    this.takenAt = seq;
  }

  /** Cells changed since the previous call, each once (its colour is the grid's current one). */
  takeChanges(): number[] {
    let cells = this.changed;
    if (this.allChanged) {
      if (!this.wholeImages) throw new Error('touchAll on a canvas without whole images');
      cells = Array.from({ length: this.width * this.height }, (_, i) => i);
    }
    this.changed = [];
    this.allChanged = false;
    this.takenAt = this.seq;
    return cells;
  }

  /** The colours of `cells`, in their order. */
  coloursOf(cells: readonly number[]): Uint8Array {
    const out = new Uint8Array(cells.length);
    for (let i = 0; i < cells.length; i++) out[i] = this.colourOf(cells[i] as number);
    return out;
  }

  /**
   * The chunks changed since the last call, in their stored form, as of now (the snapshot's rows);
   * if storing them fails, `unsavedAgain` lists them for the next snapshot.
   */
  takeUnsaved(): ChunkImage[] {
    return this.chunkImages(this.takeUnsavedList());
  }

  /**
   * The indices of the chunks changed since the last call (no longer marked: a change from now on
   * marks them again). A sliced snapshot takes their images a slice at a time (`chunkImages`).
   */
  takeUnsavedList(): number[] {
    const list = this.unsaved;
    for (const ci of list) this.unsavedFlags[ci] = 0;
    this.unsaved = [];
    return list;
  }

  /** Pixels chunk `ci` stores: all of it when dense, else its placed ones (a snapshot slice's weight). */
  chunkPixels(ci: number): number {
    return this.dense[ci] ? CHUNK_CELLS : (this.sparseCount[ci] as number);
  }

  /** The shard holding chunk `ci`'s sparse pixels: slices grouped by it read each shard once. */
  shardOf(ci: number): number {
    return ci % SHARDS;
  }

  /**
   * Chunks `indices` in their stored form, as of now. A sparse chunk's pixels are gathered by one
   * pass over the hash shards holding such chunks (no index per chunk).
   */
  chunkImages(indices: readonly number[]): ChunkImage[] {
    const { across } = this;
    const out: ChunkImage[] = [];
    // Sparse chunks: their part of the shared buffer, by chunk index (-1: not wanted).
    const slot = new Int32Array(this.dense.length).fill(-1);
    const counts: number[] = [];
    const sparseAt: number[] = [];
    const shards = new Uint8Array(SHARDS);
    for (const ci of indices) {
      const d = this.dense[ci];
      out.push({ cx: ci % across, cy: Math.floor(ci / across), bytes: d ? d.bytes() : EMPTY });
      if (d) continue;
      slot[ci] = counts.length;
      counts.push(this.sparseCount[ci] as number);
      sparseAt.push(out.length - 1);
      shards[ci % SHARDS] = 1;
    }
    const images = new SparseImages(counts);
    shards.forEach((wanted, shard) => {
      if (wanted === 0) return;
      this.sparse.forEach(shard, (key, colour, seq) => {
        const x = key & 0xffff;
        const y = key >>> 16;
        const k = slot[(y >> CHUNK_SHIFT) * across + (x >> CHUNK_SHIFT)] as number;
        if (k >= 0) images.add(k, ((y & (CHUNK - 1)) << CHUNK_SHIFT) | (x & (CHUNK - 1)), colour, seq);
      });
    });
    sparseAt.forEach((i, k) => {
      (out[i] as ChunkImage).bytes = images.bytes(k);
    });
    return out;
  }

  /** Marks chunks as changed again: their snapshot failed. */
  unsavedAgain(images: readonly ChunkImage[]): void {
    for (const { cx, cy } of images) this.markUnsaved(cy * this.across + cx);
  }

  /** Marks chunks (by index, of this size) as changed again: a sliced snapshot stopped before them. */
  unsavedListAgain(indices: readonly number[]): void {
    for (const ci of indices) this.markUnsaved(ci);
  }

  /** Every chunk holding pixels counts as changed: the next snapshot writes them all. */
  unsaveAll(): void {
    for (let ci = 0; ci < this.dense.length; ci++)
      if (this.dense[ci] || this.sparseCount[ci] !== 0) this.markUnsaved(ci);
  }

  /**
   * Puts a stored chunk in place (startup), as saved; returns the largest colour in it. Throws on a
   * chunk outside the canvas or bytes that are no chunk.
   */
  restoreChunk(cx: number, cy: number, bytes: Uint8Array): number {
    if (cx < 0 || cy < 0 || cx >= this.across || cy >= this.down)
      throw new Error(`stored chunk (${cx}, ${cy}) lies outside a ${this.width} x ${this.height} canvas`);
    const ci = cy * this.across + cx;
    const stored = readChunk(bytes);
    if (stored.dense) {
      this.dense[ci] = stored.dense;
      return Math.max(0, ...stored.dense.colours);
    }
    let max = 0;
    const shard = ci % SHARDS;
    stored.each((off, colour, seq) => {
      const cell = (((cy << CHUNK_SHIFT) + (off >> CHUNK_SHIFT)) << 16) | ((cx << CHUNK_SHIFT) + (off & (CHUNK - 1)));
      if (this.sparse.set(shard, cell, colour, seq) < 0) this.sparseCount[ci] = (this.sparseCount[ci] as number) + 1;
      if (colour > max) max = colour;
    });
    return max;
  }

  /** Chunks holding pixels, how many are dense, pixels placed, and the sparse table's bytes. */
  footprint(): { chunks: number; dense: number; placed: number; sparseBytes: number } {
    let chunks = 0;
    let dense = 0;
    let placed = 0;
    this.dense.forEach((d, ci) => {
      if (d) {
        dense++;
        placed += d.placed;
      }
      if (d || this.sparseCount[ci] !== 0) chunks++;
    });
    return { chunks, dense, placed: placed + this.sparse.size, sparseBytes: this.sparse.bytes };
  }

  /** Starts listing changed cells for `takeChanges`, from the current seq (after a load). */
  track(): void {
    this.tracking = true;
    this.takenAt = this.seq;
    this.changed = [];
  }

  /** Sets a pixel in its chunk (sparse, turning dense past SPARSE_MAX); returns the seq it had (0: none). */
  private write(x: number, y: number, colour: number, seq: number): number {
    const ci = (y >> CHUNK_SHIFT) * this.across + (x >> CHUNK_SHIFT);
    this.markUnsaved(ci);
    const d = this.dense[ci];
    if (d) {
      const off = ((y & (CHUNK - 1)) << CHUNK_SHIFT) | (x & (CHUNK - 1));
      const before = d.seqs[off] as number;
      d.colours[off] = colour;
      d.seqs[off] = seq;
      return before;
    }
    const before = this.sparse.set(ci % SHARDS, (y << 16) | x, colour, seq);
    if (before >= 0) return before;
    const count = (this.sparseCount[ci] as number) + 1;
    this.sparseCount[ci] = count;
    if (count > SPARSE_MAX) this.densify(ci);
    return 0;
  }

  /** Chunk `ci` in its dense form (made dense if it is not), marked unsaved: bulk writes (resize). */
  private denseFor(ci: number): DenseChunk {
    this.markUnsaved(ci);
    const d = this.dense[ci];
    if (d) return d;
    if (this.sparseCount[ci] !== 0) this.densify(ci);
    else this.dense[ci] = new DenseChunk();
    return this.dense[ci] as DenseChunk;
  }

  /** Moves a chunk's pixels out of the sparse table into a dense chunk. */
  private densify(ci: number): void {
    const d = new DenseChunk();
    const shard = ci % SHARDS;
    const x0 = (ci % this.across) << CHUNK_SHIFT;
    const y0 = Math.floor(ci / this.across) << CHUNK_SHIFT;
    for (let off = 0; off < CHUNK_CELLS; off++) {
      const x = x0 + (off & (CHUNK - 1));
      const y = y0 + (off >> CHUNK_SHIFT);
      if (x >= this.width || y >= this.height) continue;
      this.sparse.take(shard, (y << 16) | x, (colour, seq) => {
        d.colours[off] = colour;
        d.seqs[off] = seq;
      });
    }
    this.sparseCount[ci] = 0;
    this.dense[ci] = d;
  }

  private markUnsaved(ci: number): void {
    if (this.unsavedFlags[ci] === 1) return;
    this.unsavedFlags[ci] = 1;
    this.unsaved.push(ci);
  }
}
