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

/**
 * The stored forms of many sparse chunks being written at once (a snapshot): one buffer, each
 * chunk's part n entries of offsets (uint16 LE), then colours, then seqs (uint32 LE).
 */
export class SparseImages {
  private readonly buffer: Buffer;
  private readonly start: Uint32Array;
  private readonly count: Uint16Array;
  private readonly filled: Uint16Array;

  /** `counts[k]`: the pixels of the k-th chunk. */
  constructor(counts: readonly number[]) {
    this.start = new Uint32Array(counts.length);
    this.count = Uint16Array.from(counts);
    this.filled = new Uint16Array(counts.length);
    let total = 0;
    counts.forEach((n, k) => {
      this.start[k] = total;
      total += n * SPARSE_ENTRY_BYTES;
    });
    this.buffer = Buffer.allocUnsafe(total);
  }

  add(k: number, off: number, colour: number, seq: number): void {
    const b = this.buffer;
    const base = this.start[k] as number;
    const n = this.count[k] as number;
    const i = this.filled[k] as number;
    this.filled[k] = i + 1;
    const o = base + i * 2;
    b[o] = off & 0xff;
    b[o + 1] = off >>> 8;
    b[base + n * 2 + i] = colour;
    const q = base + n * 3 + i * 4;
    b[q] = seq & 0xff;
    b[q + 1] = (seq >>> 8) & 0xff;
    b[q + 2] = (seq >>> 16) & 0xff;
    b[q + 3] = seq >>> 24;
  }

  /** The k-th chunk's stored form (a view of the shared buffer). */
  bytes(k: number): Buffer {
    const base = this.start[k] as number;
    return this.buffer.subarray(base, base + (this.count[k] as number) * SPARSE_ENTRY_BYTES);
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
