import { growCells, type ResizeRequest } from './canvas-size.ts';

/**
 * The authoritative grid: one palette index per pixel in a Uint8Array, plus the global sequence
 * number of the last applied placement. Only the placement committer mutates it, after a commit.
 */
export class Canvas {
  /** The size and the arrays change only in `resize`. */
  width: number;
  height: number;
  readonly paletteSize: number;
  grid: Uint8Array;
  /** Per cell, the seq of its last placement (0: never): the head of the pixel's history list. */
  lastSeq: Uint32Array;
  /** Sequence number of the last applied placement. */
  seq: number;
  /** Cells changed since the last `takeChanges`: a bitmap to dedupe, a list to iterate. */
  private dirty: Uint8Array;
  private changed: number[] = [];

  constructor(width: number, height: number, paletteSize: number, grid?: Uint8Array, seq = 0, lastSeq?: Uint32Array) {
    if (grid && grid.length !== width * height) {
      throw new Error(`grid has ${grid.length} cells, expected ${width} x ${height}`);
    }
    this.width = width;
    this.height = height;
    this.paletteSize = paletteSize;
    this.grid = grid ?? new Uint8Array(width * height);
    this.lastSeq = lastSeq ?? new Uint32Array(width * height);
    this.seq = seq;
    this.dirty = new Uint8Array(width * height);
  }

  inBounds(x: number, y: number): boolean {
    return x >= 0 && y >= 0 && x < this.width && y < this.height;
  }

  get(x: number, y: number): number {
    return this.grid[y * this.width + x] ?? 0;
  }

  /** Applies an already-validated, already-committed placement. */
  apply(x: number, y: number, colour: number, seq: number): void {
    const cell = y * this.width + x;
    this.grid[cell] = colour;
    this.lastSeq[cell] = seq;
    this.seq = seq;
    if (this.dirty[cell] === 0) {
      this.dirty[cell] = 1;
      this.changed.push(cell);
    }
  }

  /**
   * The grid was written in bulk, not through `apply` (tests and benchmarks that paint a whole
   * canvas at once): every cell counts as changed, so the next tick packs and sends all of it (the
   * ticker keeps its PNG scanlines between ticks and repacks only changed cells).
   */
  touchAll(): void {
    for (let cell = 0; cell < this.grid.length; cell++) {
      if (this.dirty[cell] === 0) {
        this.dirty[cell] = 1;
        this.changed.push(cell);
      }
    }
  }

  /**
   * Grows the canvas to `to` (checked by canvas-size.ts `checkResize`) at seq `seq`: every cell moves
   * by (left, top), the new cells are colour 0 and never placed. The changed-cell list is dropped:
   * its indices are of the old size, and the tick after a resize sends the whole canvas anyway.
   */
  resize(to: ResizeRequest, seq: number): void {
    this.grid = growCells(this.grid, this.width, this.height, to);
    this.lastSeq = growCells(this.lastSeq, this.width, this.height, to);
    this.dirty = new Uint8Array(to.width * to.height);
    this.changed = [];
    this.width = to.width;
    this.height = to.height;
    this.seq = seq;
  }

  /** Cells changed since the previous call, each once (its colour is the grid's current one). */
  takeChanges(): number[] {
    const cells = this.changed;
    this.changed = [];
    for (const cell of cells) this.dirty[cell] = 0;
    return cells;
  }
}
