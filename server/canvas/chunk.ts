/**
 * One CHUNK x CHUNK square of the canvas: each pixel's colour and the seq of its last placement.
 * A chunk starts sparse (only its placed pixels, 7 bytes each, sorted by offset) and turns dense
 * (5 bytes per pixel, 20 KB) once it holds SPARSE_MAX pixels. Why both: 1 M placements spread evenly
 * over 16,384 x 16,384 touch every 64 x 64 chunk with ~15 pixels each; dense chunks would hold the
 * whole 1.3 GB canvas, sparse ones ~7 MB of pixels (plus ~200 bytes of object per chunk).
 * No I/O; the stored form (`bytes`/`fromBytes`) is what the store keeps per chunk.
 */

/** Chunk side in pixels: a power of two, so a pixel's chunk and offset are shifts and masks. */
export const CHUNK_SHIFT = 6;
export const CHUNK = 1 << CHUNK_SHIFT;
const CELLS = CHUNK * CHUNK;
/**
 * Past this many pixels a chunk turns dense: 512 x 7 = 3.5 KB sparse against 20 KB dense, and a
 * sorted insert moves at most 512 entries (a binary search of 9 steps finds one).
 */
export const SPARSE_MAX = 512;
/** Stored form: dense is exactly this long (colours, then seqs little-endian); sparse is n x 7 bytes. */
const DENSE_BYTES = CELLS * 5;

export class Chunk {
  /** Dense form: colour and seq per offset (y * CHUNK + x). Undefined while sparse. */
  private colours: Uint8Array | undefined;
  private seqs: Uint32Array | undefined;
  /** Sparse form: `n` entries sorted by offset. */
  private offs: Uint16Array = new Uint16Array(4);
  private cols: Uint8Array = new Uint8Array(4);
  private sqs: Uint32Array = new Uint32Array(4);
  private n = 0;
  /** Changed since the store last wrote it (canvas.ts lists these for the next snapshot). */
  unsaved = false;

  /** Pixels placed at least once. */
  get placed(): number {
    if (!this.seqs) return this.n;
    let count = 0;
    for (const s of this.seqs) if (s !== 0) count++;
    return count;
  }

  get dense(): boolean {
    return this.colours !== undefined;
  }

  colour(off: number): number {
    if (this.colours) return this.colours[off] as number;
    const i = this.find(off);
    return i >= 0 ? (this.cols[i] as number) : 0;
  }

  seq(off: number): number {
    if (this.seqs) return this.seqs[off] as number;
    const i = this.find(off);
    return i >= 0 ? (this.sqs[i] as number) : 0;
  }

  /** Sets a pixel; returns the seq it had before (0: never placed). */
  set(off: number, colour: number, seq: number): number {
    if (this.colours && this.seqs) {
      const before = this.seqs[off] as number;
      this.colours[off] = colour;
      this.seqs[off] = seq;
      return before;
    }
    const i = this.find(off);
    if (i >= 0) {
      const before = this.sqs[i] as number;
      this.cols[i] = colour;
      this.sqs[i] = seq;
      return before;
    }
    if (this.n >= SPARSE_MAX) {
      this.densify();
      return this.set(off, colour, seq);
    }
    const at = -i - 1;
    if (this.n === this.offs.length) this.grow();
    this.offs.copyWithin(at + 1, at, this.n);
    this.cols.copyWithin(at + 1, at, this.n);
    this.sqs.copyWithin(at + 1, at, this.n);
    this.offs[at] = off;
    this.cols[at] = colour;
    this.sqs[at] = seq;
    this.n++;
    return 0;
  }

  /**
   * Writes `count` colours of row `y` from column `x0`, every `step`-th, into `out` from `at`.
   * `x0 + (count - 1) * step` must lie inside the chunk.
   */
  copyRow(x0: number, y: number, count: number, step: number, out: Uint8Array, at: number): void {
    const base = y << CHUNK_SHIFT;
    if (this.colours) {
      if (step === 1) out.set(this.colours.subarray(base + x0, base + x0 + count), at);
      else for (let i = 0; i < count; i++) out[at + i] = this.colours[base + x0 + i * step] as number;
      return;
    }
    out.fill(0, at, at + count);
    // The row's entries are contiguous in the sorted list: from the first offset >= base + x0.
    const first = this.find(base + x0);
    const end = base + x0 + (count - 1) * step;
    for (let i = first >= 0 ? first : -first - 1; i < this.n; i++) {
      const off = this.offs[i] as number;
      if (off > end) break;
      const dx = off - base - x0;
      if (dx % step === 0) out[at + dx / step] = this.cols[i] as number;
    }
  }

  /** Calls `fn` for every placed pixel (offset, colour, seq), in offset order. */
  forEachPlaced(fn: (off: number, colour: number, seq: number) => void): void {
    if (this.colours && this.seqs) {
      for (let off = 0; off < CELLS; off++) {
        const s = this.seqs[off] as number;
        if (s !== 0) fn(off, this.colours[off] as number, s);
      }
      return;
    }
    for (let i = 0; i < this.n; i++) fn(this.offs[i] as number, this.cols[i] as number, this.sqs[i] as number);
  }

  /** The stored form: dense (colours, then seqs) or sparse (offsets, colours, seqs), little-endian. */
  bytes(): Buffer {
    if (this.colours && this.seqs) {
      const out = Buffer.allocUnsafe(DENSE_BYTES);
      out.set(this.colours, 0);
      for (let off = 0; off < CELLS; off++) out.writeUInt32LE(this.seqs[off] as number, CELLS + off * 4);
      return out;
    }
    const n = this.n;
    const out = Buffer.allocUnsafe(n * 7);
    for (let i = 0; i < n; i++) {
      out.writeUInt16LE(this.offs[i] as number, i * 2);
      out[n * 2 + i] = this.cols[i] as number;
      out.writeUInt32LE(this.sqs[i] as number, n * 3 + i * 4);
    }
    return out;
  }

  /** A chunk from its stored form; throws on bytes that are neither form. */
  static fromBytes(b: Uint8Array): Chunk {
    const c = new Chunk();
    const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    if (b.length === DENSE_BYTES) {
      c.colours = Uint8Array.from(view.subarray(0, CELLS));
      c.seqs = new Uint32Array(CELLS);
      for (let off = 0; off < CELLS; off++) c.seqs[off] = view.readUInt32LE(CELLS + off * 4);
      return c;
    }
    if (b.length % 7 !== 0 || b.length / 7 > SPARSE_MAX) throw new Error(`a stored chunk of ${b.length} bytes`);
    const n = b.length / 7;
    for (let i = 0; i < n; i++) {
      const off = view.readUInt16LE(i * 2);
      if (off >= CELLS || (i > 0 && off <= (c.offs[i - 1] as number))) throw new Error('a stored chunk out of order');
      if (c.n === c.offs.length) c.grow();
      c.offs[i] = off;
      c.cols[i] = view[n * 2 + i] as number;
      c.sqs[i] = view.readUInt32LE(n * 3 + i * 4);
      c.n++;
    }
    return c;
  }

  /** Index of `off` in the sparse list, or -(insertion point) - 1. */
  private find(off: number): number {
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.offs[mid] as number;
      if (v < off) lo = mid + 1;
      else if (v > off) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  private grow(): void {
    const size = Math.min(SPARSE_MAX, this.offs.length * 2);
    const offs = new Uint16Array(size);
    offs.set(this.offs);
    const cols = new Uint8Array(size);
    cols.set(this.cols);
    const sqs = new Uint32Array(size);
    sqs.set(this.sqs);
    this.offs = offs;
    this.cols = cols;
    this.sqs = sqs;
  }

  private densify(): void {
    const colours = new Uint8Array(CELLS);
    const seqs = new Uint32Array(CELLS);
    for (let i = 0; i < this.n; i++) {
      const off = this.offs[i] as number;
      colours[off] = this.cols[i] as number;
      seqs[off] = this.sqs[i] as number;
    }
    this.colours = colours;
    this.seqs = seqs;
    this.offs = new Uint16Array(0);
    this.cols = new Uint8Array(0);
    this.sqs = new Uint32Array(0);
    this.n = 0;
  }
}
