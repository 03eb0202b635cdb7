/**
 * Chunks: the canvas (canvas.ts) is cut in CHUNK x CHUNK squares. A chunk is sparse (its placed
 * pixels live in the canvas's one hash table, sparse-pixels.ts, 9 bytes a slot) until it holds
 * SPARSE_MAX pixels, then dense: a `DenseChunk` of 5 bytes per pixel (20 KB). Here: the dense form,
 * and the stored form of both (what a snapshot keeps per chunk in the store). No I/O.
 */

/** Chunk side in pixels: a power of two, so a pixel's chunk and offset are shifts and masks. */
export const CHUNK_SHIFT = 6;
export const CHUNK = 1 << CHUNK_SHIFT;
export const CHUNK_CELLS = CHUNK * CHUNK;
/**
 * Past this many pixels a chunk turns dense: 512 pixels sparse are ~6.6 KB of hash slots at 70%
 * full, against 20 KB dense, and densifying (4,096 lookups) happens once per chunk.
 */
export const SPARSE_MAX = 512;
/** Stored form: dense is exactly this long (colours, then seqs little-endian); sparse is n x 7 bytes. */
const DENSE_BYTES = CHUNK_CELLS * 5;
const SPARSE_ENTRY_BYTES = 7;

export class DenseChunk {
  readonly colours = new Uint8Array(CHUNK_CELLS);
  readonly seqs = new Uint32Array(CHUNK_CELLS);

  /** Pixels placed at least once (seq not 0). */
  get placed(): number {
    let count = 0;
    for (const s of this.seqs) if (s !== 0) count++;
    return count;
  }

  /** Writes `count` colours of row `y` from `x0`, every `step`-th, into `out` from `at`. */
  copyRow(x0: number, y: number, count: number, step: number, out: Uint8Array, at: number): void {
    const base = (y << CHUNK_SHIFT) + x0;
    if (step === 1) out.set(this.colours.subarray(base, base + count), at);
    else for (let i = 0; i < count; i++) out[at + i] = this.colours[base + i * step] as number;
  }

  /** The stored form: colours, then seqs as uint32 little-endian. */
  bytes(): Buffer {
    const out = Buffer.allocUnsafe(DENSE_BYTES);
    out.set(this.colours, 0);
    for (let off = 0; off < CHUNK_CELLS; off++) out.writeUInt32LE(this.seqs[off] as number, CHUNK_CELLS + off * 4);
    return out;
  }
}

/** A sparse chunk's stored form being written: n entries of offset, colour, seq. */
export class SparseImage {
  readonly bytes: Buffer;
  private i = 0;

  constructor(private readonly n: number) {
    this.bytes = Buffer.allocUnsafe(n * SPARSE_ENTRY_BYTES);
  }

  /** Offsets (uint16 LE), then colours, then seqs (uint32 LE), in the order added. */
  add(off: number, colour: number, seq: number): void {
    const { bytes, n, i } = this;
    bytes.writeUInt16LE(off, i * 2);
    bytes[n * 2 + i] = colour;
    bytes.writeUInt32LE(seq, n * 3 + i * 4);
    this.i++;
  }
}

/** A stored chunk read back: dense, or the sparse entries (`each` calls `fn` per pixel). */
export type StoredChunk =
  | { dense: DenseChunk }
  | { dense?: undefined; n: number; each: (fn: (off: number, colour: number, seq: number) => void) => void };

/** Reads a chunk's stored form; throws on bytes that are neither form. */
export function readChunk(b: Uint8Array): StoredChunk {
  const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (b.length === DENSE_BYTES) {
    const dense = new DenseChunk();
    dense.colours.set(view.subarray(0, CHUNK_CELLS));
    for (let off = 0; off < CHUNK_CELLS; off++) dense.seqs[off] = view.readUInt32LE(CHUNK_CELLS + off * 4);
    return { dense };
  }
  const n = b.length / SPARSE_ENTRY_BYTES;
  if (!Number.isInteger(n) || n > SPARSE_MAX) throw new Error(`a stored chunk of ${b.length} bytes`);
  for (let i = 0; i < n; i++)
    if (view.readUInt16LE(i * 2) >= CHUNK_CELLS) throw new Error('a stored chunk with an offset past its end');
  return {
    n,
    each: (fn) => {
      for (let i = 0; i < n; i++)
        fn(view.readUInt16LE(i * 2), view[n * 2 + i] as number, view.readUInt32LE(n * 3 + i * 4));
    },
  };
}
