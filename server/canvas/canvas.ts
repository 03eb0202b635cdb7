/**
 * The authoritative grid: one palette index and the seq of its last placement per pixel, held in
 * CHUNK x CHUNK chunks (canvas/chunk.ts) allocated on first write, so memory follows the area that
 * was placed on, not the declared size (16,384 x 16,384 would be 1.3 GB at 5 bytes a pixel). A pixel
 * never placed reads colour 0 and seq 0 without allocating. Plus the global sequence number of the
 * last applied placement. Only the placement committer mutates it, after a commit.
 */
import { CHUNK, CHUNK_SHIFT, Chunk } from './chunk.ts';

export { CHUNK };

/** Largest side for whole-canvas images (`/image`, the `png` stream, full deltas, history images). */
export const WHOLE_CANVAS_MAX_SIDE = 4096;

/** A chunk's position (in chunks) and its stored bytes: the unit of a snapshot. */
export interface ChunkImage {
  cx: number;
  cy: number;
  bytes: Buffer;
}

export class Canvas {
  readonly width: number;
  readonly height: number;
  readonly paletteSize: number;
  /** Sequence number of the last applied placement. */
  seq: number;
  /** Chunks across and down; `chunks[cy * across + cx]`, undefined until a pixel there is placed. */
  private readonly across: number;
  private readonly down: number;
  private readonly chunks: (Chunk | undefined)[];
  /** Chunks changed since the last `takeUnsaved` (the snapshot's work list). */
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
    this.chunks = new Array<Chunk | undefined>(this.across * this.down).fill(undefined);
  }

  /** Whether `/image`, the `png` stream and whole-canvas deltas exist at this size (else tiles only). */
  get wholeImages(): boolean {
    return this.width <= WHOLE_CANVAS_MAX_SIDE && this.height <= WHOLE_CANVAS_MAX_SIDE;
  }

  inBounds(x: number, y: number): boolean {
    return x >= 0 && y >= 0 && x < this.width && y < this.height;
  }

  get(x: number, y: number): number {
    const c = this.chunks[(y >> CHUNK_SHIFT) * this.across + (x >> CHUNK_SHIFT)];
    return c ? c.colour(((y & (CHUNK - 1)) << CHUNK_SHIFT) | (x & (CHUNK - 1))) : 0;
  }

  /** The seq of the pixel's last placement (0: never): the head of its history list. */
  lastSeqAt(x: number, y: number): number {
    const c = this.chunks[(y >> CHUNK_SHIFT) * this.across + (x >> CHUNK_SHIFT)];
    return c ? c.seq(((y & (CHUNK - 1)) << CHUNK_SHIFT) | (x & (CHUNK - 1))) : 0;
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
    const index = (y >> CHUNK_SHIFT) * this.across + (x >> CHUNK_SHIFT);
    let c = this.chunks[index];
    if (!c) {
      c = new Chunk();
      this.chunks[index] = c;
    }
    if (!c.unsaved) {
      c.unsaved = true;
      this.unsaved.push(index);
    }
    const before = c.set(((y & (CHUNK - 1)) << CHUNK_SHIFT) | (x & (CHUNK - 1)), colour, seq);
    this.seq = seq;
    if (this.tracking && before <= this.takenAt && !this.allChanged) this.changed.push(y * this.width + x);
  }

  /**
   * Writes `count` colours of row `y` from column `x0`, every `step`-th, into `out` from `at`
   * (pixels never placed are 0): how tiles and PNG scanlines read the grid, a chunk's span at a time.
   */
  copyRow(x0: number, y: number, count: number, step: number, out: Uint8Array, at = 0): void {
    const rowBase = (y >> CHUNK_SHIFT) * this.across;
    const inY = y & (CHUNK - 1);
    let i = 0;
    while (i < count) {
      const x = x0 + i * step;
      const cx = x >> CHUNK_SHIFT;
      // Pixels of this run that lie in chunk cx.
      const n = Math.min(count - i, Math.floor(((cx + 1) * CHUNK - 1 - x) / step) + 1);
      const c = this.chunks[rowBase + cx];
      if (c) c.copyRow(x & (CHUNK - 1), inY, n, step, out, at + i);
      else out.fill(0, at + i, at + i + n);
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
   * Paints the grid in bulk (tests and benchmarks that fill a whole canvas at once), at seq 0 per
   * pixel as if never placed, and counts every cell as changed: the next tick packs and sends it all.
   */
  paint(grid: Uint8Array): void {
    if (grid.length !== this.width * this.height) throw new Error('paint needs one colour per cell');
    for (let y = 0; y < this.height; y++)
      for (let x = 0; x < this.width; x++) {
        const colour = grid[y * this.width + x] as number;
        if (colour !== 0 || this.get(x, y) !== 0) this.setQuiet(x, y, colour, this.lastSeqAt(x, y));
      }
    this.touchAll();
  }

  /** Every cell counts as changed: the next tick packs and sends all of it. */
  touchAll(): void {
    if (this.tracking) this.allChanged = true;
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
    const out: ChunkImage[] = [];
    for (const index of this.unsaved) {
      const c = this.chunks[index] as Chunk;
      c.unsaved = false;
      out.push({ cx: index % this.across, cy: Math.floor(index / this.across), bytes: c.bytes() });
    }
    this.unsaved = [];
    return out;
  }

  /** Marks chunks as changed again: their snapshot failed. */
  unsavedAgain(images: readonly ChunkImage[]): void {
    for (const { cx, cy } of images) {
      const index = cy * this.across + cx;
      const c = this.chunks[index];
      if (c && !c.unsaved) {
        c.unsaved = true;
        this.unsaved.push(index);
      }
    }
  }

  /** Every allocated chunk counts as changed: the next snapshot writes them all. */
  unsaveAll(): void {
    this.chunks.forEach((c, index) => {
      if (c && !c.unsaved) {
        c.unsaved = true;
        this.unsaved.push(index);
      }
    });
  }

  /** Puts a stored chunk in place (startup), as saved. Throws on a chunk outside the canvas. */
  restoreChunk(cx: number, cy: number, bytes: Uint8Array): Chunk {
    if (cx < 0 || cy < 0 || cx >= this.across || cy >= this.down)
      throw new Error(`stored chunk (${cx}, ${cy}) lies outside a ${this.width} x ${this.height} canvas`);
    const c = Chunk.fromBytes(bytes);
    this.chunks[cy * this.across + cx] = c;
    return c;
  }

  /** Allocated chunks and the bytes they hold (for the metrics and the memory benchmark). */
  footprint(): { chunks: number; dense: number; placed: number } {
    let chunks = 0;
    let dense = 0;
    let placed = 0;
    for (const c of this.chunks) {
      if (!c) continue;
      chunks++;
      if (c.dense) dense++;
      placed += c.placed;
    }
    return { chunks, dense, placed };
  }

  /** Sets a pixel without counting it as a tick change or moving `seq` (bulk writes, startup). */
  setQuiet(x: number, y: number, colour: number, seq: number): void {
    const index = (y >> CHUNK_SHIFT) * this.across + (x >> CHUNK_SHIFT);
    let c = this.chunks[index];
    if (!c) {
      c = new Chunk();
      this.chunks[index] = c;
    }
    if (!c.unsaved) {
      c.unsaved = true;
      this.unsaved.push(index);
    }
    c.set(((y & (CHUNK - 1)) << CHUNK_SHIFT) | (x & (CHUNK - 1)), colour, seq);
  }

  /** Starts listing changed cells for `takeChanges`, from the current seq (after a load). */
  track(): void {
    this.tracking = true;
    this.takenAt = this.seq;
    this.changed = [];
  }
}
