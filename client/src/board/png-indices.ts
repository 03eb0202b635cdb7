/**
 * Decodes the server's indexed PNG into palette indices (what the board keeps). The browser's own
 * DecompressionStream does the inflate (native code; every current browser: Chrome 80, Firefox 113,
 * Safari 16.4); the chunks, the unfiltering and the unpacking of 1/2/4/8-bit indices are done here.
 * This replaced upng-js, which brought pako's inflate and deflate along: 55 KB of the 199 KB page
 * bundle that a phone paid for before its first paint (perf/first-paint.ts). Going through RGBA (an
 * <img> and getImageData) and back would cost a colour lookup per pixel, and colour management may
 * change the colours.
 */

export interface DecodedIndices {
  width: number;
  height: number;
  /** The PNG's own palette (PLTE) as 0xRRGGBB. */
  palette: number[];
  indices: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** The largest canvas the server serves whole is 4096 a side; tiles are smaller. Beyond: not ours. */
const MAX_PIXELS = 16_384 * 16_384;

interface Header {
  width: number;
  height: number;
  depth: number;
  palette: number[];
  /** The IDAT chunks' data, in order (one zlib stream). */
  idat: Uint8Array[];
}

/** Reads the chunks the decoder needs; throws for anything that is not an indexed, non-interlaced PNG. */
function readChunks(png: Uint8Array): Header {
  if (png.length < 8 || SIGNATURE.some((b, i) => png[i] !== b)) throw new Error('not a valid PNG: no signature');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let header: Omit<Header, 'palette' | 'idat'> | null = null;
  let palette: number[] | null = null;
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 8 <= png.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const start = at + 8;
    const data = png.subarray(start, start + length);
    if (data.length !== length) throw new Error(`not a valid PNG: chunk ${type} is truncated`);
    at = start + length + 4; // then the CRC, not checked (the bytes came over TCP, and TLS or not, intact)
    if (type === 'IHDR') {
      if (length < 13) throw new Error('not a valid PNG: short IHDR');
      const depth = data[8] as number;
      const colourType = data[9] as number;
      if (colourType !== 3) throw new Error(`expected an indexed PNG (colour type 3), got colour type ${colourType}`);
      if (depth !== 1 && depth !== 2 && depth !== 4 && depth !== 8) throw new Error(`bad bit depth ${depth}`);
      if (data[12] !== 0) throw new Error('interlaced PNGs are not supported');
      header = { width: view.getUint32(start), height: view.getUint32(start + 4), depth };
    } else if (type === 'PLTE') {
      palette = [];
      for (let i = 0; i + 2 < data.length; i += 3)
        palette.push(((data[i] as number) << 16) | ((data[i + 1] as number) << 8) | (data[i + 2] as number));
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
  }
  if (!header) throw new Error('not a valid PNG: no IHDR');
  if (header.width === 0 || header.height === 0 || header.width * header.height > MAX_PIXELS)
    throw new Error(`bad PNG size ${header.width} x ${header.height}`);
  if (!palette) throw new Error('indexed PNG without a PLTE chunk');
  if (idat.length === 0) throw new Error('PNG without image data');
  return { ...header, palette, idat };
}

/** The zlib stream of the IDAT chunks, inflated by the browser (or Node's web streams, in tests). */
async function inflate(parts: Uint8Array[]): Promise<Uint8Array> {
  const stream = new Blob(parts as BlobPart[]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Undoes the per-row filters (PNG spec 9; one byte per pixel unit for indexed images) into rows without filter bytes. */
function unfilter(data: Uint8Array, rowBytes: number, height: number): Uint8Array {
  const out = new Uint8Array(rowBytes * height);
  for (let y = 0; y < height; y++) {
    const src = y * (rowBytes + 1) + 1;
    const row = y * rowBytes;
    const up = row - rowBytes; // the previous row in `out`; none on row 0
    const filter = data[src - 1];
    if (filter === 0) {
      out.set(data.subarray(src, src + rowBytes), row);
      continue;
    }
    for (let i = 0; i < rowBytes; i++) {
      const a = i > 0 ? (out[row + i - 1] as number) : 0;
      const b = y > 0 ? (out[up + i] as number) : 0;
      const raw = data[src + i] as number;
      if (filter === 1) out[row + i] = raw + a;
      else if (filter === 2) out[row + i] = raw + b;
      else if (filter === 3) out[row + i] = raw + ((a + b) >> 1);
      else if (filter === 4) {
        const c = i > 0 && y > 0 ? (out[up + i - 1] as number) : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        out[row + i] = raw + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      } else throw new Error(`bad PNG filter ${filter} on row ${y}`);
    }
  }
  return out;
}

/** Unpacks rows of 1/2/4/8-bit indices, one byte per pixel. */
function unpack(rows: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  if (depth === 8) return rows; // already one byte per pixel, row after row
  const rowBytes = Math.ceil((width * depth) / 8);
  const indices = new Uint8Array(width * height);
  // Byte by byte, each byte's pixels by shifting: a division and a modulo per pixel made this loop
  // a third of the main thread's decode of a 4000 x 4000 canvas (CDP profile, 4x CPU throttle).
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    let b = y * rowBytes;
    const out = y * width;
    for (let x = 0; x < width; b++) {
      const byte = rows[b] as number;
      // Leftmost pixel in the high bits (PNG packs big-endian within a byte).
      for (let shift = 8 - depth; shift >= 0 && x < width; shift -= depth) indices[out + x++] = (byte >> shift) & mask;
    }
  }
  return indices;
}

/** Decodes an indexed PNG; rejects with an Error for anything else. */
export async function decodeIndexedPng(png: Uint8Array): Promise<DecodedIndices> {
  const { width, height, depth, palette, idat } = readChunks(png);
  const rowBytes = Math.ceil((width * depth) / 8);
  let data: Uint8Array;
  try {
    data = await inflate(idat);
  } catch (err) {
    throw new Error(`not a valid PNG: ${String(err)}`);
  }
  if (data.length < (rowBytes + 1) * height) throw new Error('PNG image data is truncated');
  return { width, height, palette, indices: unpack(unfilter(data, rowBytes, height), width, height, depth) };
}

/**
 * Maps indices of `decoded.palette` onto `palette` (the hello palette). The server writes the hello
 * palette as PLTE, so this is the identity; the check keeps a mismatch from painting wrong colours.
 * Returns null when a used PNG colour is not in `palette`.
 */
export function remapToPalette(decoded: DecodedIndices, palette: readonly number[]): Uint8Array | null {
  const same = decoded.palette.length <= palette.length && decoded.palette.every((c, i) => palette[i] === c);
  if (same) return decoded.indices;
  const lookup = new Map(palette.map((c, i) => [c, i]));
  const table = decoded.palette.map((c) => lookup.get(c) ?? -1);
  const out = new Uint8Array(decoded.indices.length);
  for (let i = 0; i < out.length; i++) {
    const mapped = table[decoded.indices[i] as number];
    if (mapped === undefined || mapped < 0) return null;
    out[i] = mapped;
  }
  return out;
}

/** decodeIndexedPng, or null (with a console warning) for bytes that are not a PNG we can read. */
export async function tryDecodeIndexedPng(png: Uint8Array): Promise<DecodedIndices | null> {
  try {
    return await decodeIndexedPng(png);
  } catch (err) {
    console.warn('could not decode the canvas PNG', err);
    return null;
  }
}
