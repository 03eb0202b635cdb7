/**
 * Indexed-colour PNG encoder (colour type 3; bit depth 4 for <= 16 colours, else 8).
 * Scanline packing runs on the event loop (about a millisecond for 1000 x 1000; for the ticker only
 * the cells a tick changed, `encodeChanged`); deflate, the
 * expensive part, runs in libuv's thread pool through node:zlib so ticks never block the loop for it.
 * Written by hand rather than with UPNG.encode because UPNG deflates synchronously on the event loop
 * and converts from RGBA; upng-js stays the reference decoder in tests.
 */
import { crc32, deflate, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function pngBitDepth(paletteSize: number): 4 | 8 {
  return paletteSize <= 16 ? 4 : 8;
}

/** One PNG chunk: length, type, data, CRC-32 of type and data. */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Where the encoder reads pixels: a plain grid (Uint8Array, row by row) or the chunked canvas
 * (canvas.ts), which has no whole array to hand over.
 */
export interface GridReader {
  copyRow(x0: number, y: number, count: number, step: number, out: Uint8Array, at: number): void;
  colourOf(cell: number): number;
}

/** A plain grid as a GridReader. */
function arrayReader(grid: Uint8Array, width: number): GridReader {
  return {
    copyRow: (x0, y, count, step, out, at) => {
      const row = y * width + x0;
      for (let i = 0; i < count; i++) out[at + i] = grid[row + i * step] as number;
    },
    colourOf: (cell) => grid[cell] as number,
  };
}

function deflateAsync(raw: Uint8Array, level: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    deflate(raw, { level }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

export class PngEncoder {
  readonly bitDepth: 4 | 8;
  private readonly width: number;
  private readonly height: number;
  private readonly level: number;
  /** encodeChanged's scanlines, as of its last call. */
  private kept: Buffer | undefined;
  /** Signature + IHDR + PLTE: identical for every frame, built once. */
  private readonly head: Buffer;
  private static readonly tail = pngChunk('IEND', new Uint8Array(0));

  constructor(width: number, height: number, palette: readonly number[], level = 6) {
    this.width = width;
    this.height = height;
    this.level = level;
    this.bitDepth = pngBitDepth(palette.length);
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr[8] = this.bitDepth;
    ihdr[9] = 3; // colour type 3: indexed
    // bytes 10..12: compression 0, filter method 0, no interlace
    const plte = Buffer.alloc(palette.length * 3);
    palette.forEach((rgb, i) => {
      plte[i * 3] = (rgb >> 16) & 0xff;
      plte[i * 3 + 1] = (rgb >> 8) & 0xff;
      plte[i * 3 + 2] = rgb & 0xff;
    });
    this.head = Buffer.concat([SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('PLTE', plte)]);
  }

  /** Bytes per scanline, without the filter byte. */
  private rowBytes(): number {
    return this.bitDepth === 8 ? this.width : Math.ceil(this.width / 2);
  }

  /**
   * Packs the grid into filtered scanlines (filter type 0 on every row: palette images gain little
   * from filters, and None keeps packing a straight copy). Synchronous: the result is a consistent
   * copy of the grid at the moment of the call.
   */
  packScanlines(grid: Uint8Array | GridReader): Buffer {
    const { width, height } = this;
    const stride = this.rowBytes() + 1;
    const raw = Buffer.allocUnsafe(stride * height);
    const reader = grid instanceof Uint8Array ? undefined : grid;
    const row = reader ? new Uint8Array(width) : undefined;
    for (let y = 0; y < height; y++) {
      let o = y * stride;
      raw[o++] = 0;
      let src: Uint8Array;
      let i: number;
      if (reader && row) {
        reader.copyRow(0, y, width, 1, row, 0);
        src = row;
        i = 0;
      } else {
        src = grid as Uint8Array;
        i = y * width;
      }
      if (this.bitDepth === 8) {
        raw.set(src.subarray(i, i + width), o);
        continue;
      }
      const end = i + width;
      for (; i + 1 < end; i += 2) raw[o++] = ((src[i] as number) << 4) | (src[i + 1] as number);
      if (i < end) raw[o] = (src[i] as number) << 4; // odd width: low nibble is padding
    }
    return raw;
  }

  /**
   * The ticker's encode: the scanlines are kept between calls and only the cells changed since the
   * last call (`changed`, grid indices; undefined: all) are packed again, so the work on the event
   * loop follows the pixels a tick changed, not the canvas's area (a whole 4096 x 4096 grid at 4
   * bits is tens of ms). Deflate runs in the thread pool on the kept scanlines: the caller must not
   * call again before the returned promise settles (the ticker runs one tick at a time). `level`
   * overrides the configured one for this call (a new leader's first frame, tick/ticker.ts).
   */
  async encodeChanged(
    grid: Uint8Array | GridReader,
    changed: readonly number[] | undefined,
    level = this.level,
  ): Promise<Buffer> {
    // Past an eighth of the cells, packing every row is cheaper than cell by cell.
    const few = changed !== undefined && changed.length * 8 <= this.width * this.height;
    const reader = grid instanceof Uint8Array ? arrayReader(grid, this.width) : grid;
    const raw = this.kept && few ? this.repack(this.kept, reader, changed) : this.packScanlines(grid);
    this.kept = raw;
    return this.assemble(await deflateAsync(raw, level));
  }

  /** Writes `cells` of `grid` into packed scanlines `raw`. */
  private repack(raw: Buffer, grid: GridReader, cells: readonly number[]): Buffer {
    const { width } = this;
    const stride = this.rowBytes() + 1;
    for (const cell of cells) {
      const x = cell % width;
      const row = (cell - x) / width;
      const colour = grid.colourOf(cell);
      if (this.bitDepth === 8) {
        raw[row * stride + 1 + x] = colour;
        continue;
      }
      const o = row * stride + 1 + (x >> 1);
      const byte = raw[o] as number;
      raw[o] = x & 1 ? (byte & 0xf0) | colour : (byte & 0x0f) | (colour << 4);
    }
    return raw;
  }

  /** Encodes the grid: packs now (a snapshot), deflates in the thread pool. */
  async encode(grid: Uint8Array): Promise<Buffer> {
    return this.assemble(await deflateAsync(this.packScanlines(grid), this.level));
  }

  /** Blocking encode, all on the calling thread: only for the benchmark's slow /image modes. */
  encodeSync(grid: Uint8Array): Buffer {
    return this.assemble(deflateSync(this.packScanlines(grid), { level: this.level }));
  }

  private assemble(idat: Buffer): Buffer {
    return Buffer.concat([this.head, pngChunk('IDAT', idat), PngEncoder.tail]);
  }
}
