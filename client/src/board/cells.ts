/**
 * The board's palette indices, stored so that memory follows what was loaded, not the canvas's
 * declared size: a 16,384 x 16,384 canvas as one Uint8Array is 268 MB, while a phone shows a few of
 * its 256 x 256 tiles. Two layouts behind one interface:
 * - whole: one block of width x height, row by row (stride = width): a snapshot is taken over as it
 *   is, and the renderer's and overview's loops run over one typed array as they always did;
 * - chunked: blocks of `side` x `side` (the server's tile size, so one level-0 tile is one block),
 *   each allocated on its first write and freed when its tile is dropped.
 * Hot loops never call a method per pixel: they ask for a block and loop over its typed array
 * (`blockAt`, `stride`). Cells of a block never written read as -1 from `get` (unknown), 0 from `read`.
 * Pure (no DOM): unit tested against a plain grid.
 */
import { applyDeltaPixels, DELTA_RECORD_BYTES } from '../../../protocol/delta.ts';

/** Part of a block: board pixels [x0, x1) x [y0, y1), and where they sit in the block's array. */
export interface BlockPart {
  block: Uint8Array;
  /** Index in `block` of board pixel (x0, y0); a row further is `stride` more. */
  offset: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Index of the block (by * cols + bx). */
  index: number;
}

export class Cells {
  /** Block width and height in board pixels; the stride of every block's rows is `bw`. */
  readonly bw: number;
  readonly bh: number;
  readonly cols: number;
  readonly rows: number;
  private readonly blocks: Array<Uint8Array | undefined>;
  private allocated = 0;

  private constructor(
    readonly width: number,
    readonly height: number,
    side: number | null,
    grid?: Uint8Array,
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0)
      throw new Error(`bad board size ${width} x ${height}`);
    this.bw = side ?? width;
    this.bh = side ?? height;
    this.cols = Math.ceil(width / this.bw);
    this.rows = Math.ceil(height / this.bh);
    this.blocks = new Array(this.cols * this.rows).fill(undefined);
    if (side === null) {
      const g = grid ?? new Uint8Array(width * height);
      if (g.length !== width * height) throw new Error(`grid has ${g.length} cells, expected ${width * height}`);
      this.blocks[0] = g;
      this.allocated = 1;
    }
  }

  /** One array of width x height (allocated now unless `grid` is given, then taken as it is). */
  static whole(width: number, height: number, grid?: Uint8Array): Cells {
    return new Cells(width, height, null, grid);
  }

  /** Blocks of side x side, none allocated yet. */
  static chunked(width: number, height: number, side: number): Cells {
    if (!Number.isInteger(side) || side <= 0) throw new Error(`bad block side ${side}`);
    return new Cells(width, height, side);
  }

  /** The whole grid (row by row, width x height) of a whole board; null for a chunked one. */
  get single(): Uint8Array | null {
    return this.cols * this.rows === 1 && this.bw === this.width && this.bh === this.height
      ? (this.blocks[0] ?? null)
      : null;
  }

  get chunked(): boolean {
    return this.single === null;
  }

  /** Blocks allocated (memory in use: allocatedBlocks x bw x bh bytes). */
  get allocatedBlocks(): number {
    return this.allocated;
  }

  /** Takes a whole snapshot (width x height, row by row): as it is when `owned`, else copied. */
  replace(indices: Uint8Array, owned: boolean): void {
    if (indices.length !== this.width * this.height) throw new Error('snapshot size does not match the board');
    const single = this.single;
    if (single && !owned) {
      single.set(indices);
      return;
    }
    if (single) {
      this.blocks[0] = indices;
      return;
    }
    this.write(0, 0, this.width, this.height, indices, this.width);
  }

  /** The colour index at (x, y), or -1 when its block was never written (or was freed). */
  get(x: number, y: number): number {
    const bx = Math.floor(x / this.bw);
    const by = Math.floor(y / this.bh);
    const block = this.blocks[by * this.cols + bx];
    return block ? (block[(y - by * this.bh) * this.bw + (x - bx * this.bw)] as number) : -1;
  }

  /** Whether the block holding (x, y) holds data. */
  loaded(x: number, y: number): boolean {
    return this.blocks[Math.floor(y / this.bh) * this.cols + Math.floor(x / this.bw)] !== undefined;
  }

  /** The block of index i (by * cols + bx), allocated (zeroed) when `create` and missing. */
  blockAt(i: number, create: boolean): Uint8Array | undefined {
    let block = this.blocks[i];
    if (!block && create && i >= 0 && i < this.blocks.length) {
      block = new Uint8Array(this.bw * this.bh);
      this.blocks[i] = block;
      this.allocated++;
    }
    return block;
  }

  /** Drops the block holding (x, y): its cells read as unknown until written again. */
  free(x: number, y: number): void {
    const i = Math.floor(y / this.bh) * this.cols + Math.floor(x / this.bw);
    if (this.blocks[i] && this.cols * this.rows > 1) {
      this.blocks[i] = undefined;
      this.allocated--;
    }
  }

  /**
   * Calls fn for each block part of rect [x, x + w) x [y, y + h) (clipped to the board), in row-major
   * block order; `create`: allocate missing blocks, else skip them.
   */
  forEachPart(x: number, y: number, w: number, h: number, create: boolean, fn: (p: BlockPart) => void): void {
    const ax = Math.max(0, x);
    const ay = Math.max(0, y);
    const ex = Math.min(this.width, x + w);
    const ey = Math.min(this.height, y + h);
    if (ex <= ax || ey <= ay) return;
    const { bw, bh } = this;
    for (let by = Math.floor(ay / bh); by * bh < ey; by++) {
      for (let bx = Math.floor(ax / bw); bx * bw < ex; bx++) {
        const index = by * this.cols + bx;
        const block = this.blockAt(index, create);
        if (!block) continue;
        const x0 = Math.max(ax, bx * bw);
        const y0 = Math.max(ay, by * bh);
        const offset = (y0 - by * bh) * bw + (x0 - bx * bw);
        fn({ block, offset, x0, y0, x1: Math.min(ex, (bx + 1) * bw), y1: Math.min(ey, (by + 1) * bh), index });
      }
    }
  }

  /** Writes src (rows of `stride`, its first cell at board (x, y)) into [x, x + w) x [y, y + h). */
  write(x: number, y: number, w: number, h: number, src: Uint8Array, stride = w): void {
    this.forEachPart(x, y, w, h, true, (p) => {
      const n = p.x1 - p.x0;
      for (let row = p.y0, o = p.offset; row < p.y1; row++, o += this.bw) {
        const s = (row - y) * stride + (p.x0 - x);
        p.block.set(src.subarray(s, s + n), o);
      }
    });
  }

  /** Reads [x, x + w) x [y, y + h) into out (rows of w); cells of missing blocks read as 0. */
  read(x: number, y: number, w: number, h: number, out = new Uint8Array(w * h)): Uint8Array {
    out.fill(0);
    this.forEachPart(x, y, w, h, false, (p) => {
      for (let row = p.y0, o = p.offset; row < p.y1; row++, o += this.bw) {
        const d = (row - y) * w + (p.x0 - x);
        out.set(p.block.subarray(o, o + (p.x1 - p.x0)), d);
      }
    });
    return out;
  }

  /**
   * Applies a delta payload (protocol/delta.ts): false, with nothing changed, when it does not fit
   * the board. `create`: allocate the blocks it writes to; else pixels of missing blocks are skipped
   * (tile mode: a tile not loaded is shown from the pyramid, and loads whole later).
   */
  applyDelta(px: Uint8Array, create: boolean): boolean {
    const single = this.single;
    if (single) return applyDeltaPixels(px, single, this.width, this.height);
    if (px.length % DELTA_RECORD_BYTES !== 0) return false;
    for (let o = 0; o < px.length; o += DELTA_RECORD_BYTES) {
      const x = (px[o] as number) | ((px[o + 1] as number) << 8);
      const y = (px[o + 2] as number) | ((px[o + 3] as number) << 8);
      if (x >= this.width || y >= this.height) return false;
    }
    for (let o = 0; o < px.length; o += DELTA_RECORD_BYTES) {
      const x = (px[o] as number) | ((px[o + 1] as number) << 8);
      const y = (px[o + 2] as number) | ((px[o + 3] as number) << 8);
      const bx = Math.floor(x / this.bw);
      const by = Math.floor(y / this.bh);
      const block = this.blockAt(by * this.cols + bx, create);
      if (block) block[(y - by * this.bh) * this.bw + (x - bx * this.bw)] = px[o + 4] as number;
    }
    return true;
  }
}
