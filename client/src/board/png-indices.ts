/**
 * Decodes the server's indexed PNG into palette indices (what the board keeps). upng-js does the
 * inflate and unfiltering; the unpacking of 1/2/4/8-bit indices is done here because going through
 * RGBA and back would cost a colour lookup per pixel and lose nothing but time.
 */
import UPNG from 'upng-js';

export interface DecodedIndices {
  width: number;
  height: number;
  /** The PNG's own palette (PLTE) as 0xRRGGBB. */
  palette: number[];
  indices: Uint8Array;
}

export function decodeIndexedPng(png: Uint8Array): DecodedIndices {
  // UPNG.decode wants an ArrayBuffer holding exactly the file; a view into a larger buffer is copied
  // (new Uint8Array(view) copies; Node's Buffer#slice would not).
  const exact = png.byteOffset === 0 && png.byteLength === png.buffer.byteLength;
  const buffer = (exact ? png : new Uint8Array(png)).buffer as ArrayBuffer;
  let img: UPNG.Image;
  try {
    img = UPNG.decode(buffer);
  } catch (err) {
    // upng-js throws strings; keep one error type for callers.
    throw new Error(`not a valid PNG: ${String(err)}`);
  }
  if (img.ctype !== 3) throw new Error(`expected an indexed PNG (colour type 3), got colour type ${img.ctype}`);
  const plte = (img.tabs as { PLTE?: ArrayLike<number> }).PLTE;
  if (!plte) throw new Error('indexed PNG without a PLTE chunk');
  const palette: number[] = [];
  for (let i = 0; i + 2 < plte.length; i += 3) {
    palette.push(((plte[i] as number) << 16) | ((plte[i + 1] as number) << 8) | (plte[i + 2] as number));
  }
  const { width, height, depth } = img;
  const data = new Uint8Array(img.data);
  const bytesPerRow = Math.ceil((width * depth) / 8);
  if (data.length < bytesPerRow * height) throw new Error('PNG image data is truncated');
  const indices = new Uint8Array(width * height);
  if (depth === 8) {
    for (let y = 0; y < height; y++) indices.set(data.subarray(y * bytesPerRow, y * bytesPerRow + width), y * width);
  } else {
    // Byte by byte, each byte's pixels by shifting: a division and a modulo per pixel made this loop
    // a third of the main thread's decode of a 4000 x 4000 canvas (CDP profile, 4x CPU throttle).
    const mask = (1 << depth) - 1;
    for (let y = 0; y < height; y++) {
      let b = y * bytesPerRow;
      const out = y * width;
      for (let x = 0; x < width; b++) {
        const byte = data[b] as number;
        // Leftmost pixel in the high bits (PNG packs big-endian within a byte).
        for (let shift = 8 - depth; shift >= 0 && x < width; shift -= depth)
          indices[out + x++] = (byte >> shift) & mask;
      }
    }
  }
  return { width, height, palette, indices };
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
export function tryDecodeIndexedPng(png: Uint8Array): DecodedIndices | null {
  try {
    return decodeIndexedPng(png);
  } catch (err) {
    console.warn('could not decode the canvas PNG', err);
    return null;
  }
}
