/**
 * The compressed image data of a PNG and what it would weigh at another zlib level: the "PNG bytes
 * <= 1.08x zlib level 9" budget compares a PNG with the same file whose IDAT is node:zlib
 * `deflateSync(scanlines, { level: 9 })` of the very same (inflated) scanlines.
 */
import { deflateSync, inflateSync } from 'node:zlib';

/** The concatenated data of every IDAT chunk (PngEncoder writes one). */
export function idatData(png: Uint8Array): Buffer {
  const b = Buffer.from(png.buffer, png.byteOffset, png.length);
  const parts: Buffer[] = [];
  for (let o = 8; o + 12 <= b.length; o += 12 + b.readUInt32BE(o)) {
    if (b.toString('latin1', o + 4, o + 8) === 'IDAT') parts.push(b.subarray(o + 8, o + 8 + b.readUInt32BE(o)));
  }
  if (parts.length === 0) throw new Error('PNG without an IDAT chunk');
  return Buffer.concat(parts);
}

/** Bytes of `png` with its image data deflated again at `level` (one IDAT chunk, same other chunks). */
export function bytesAtLevel(png: Uint8Array, level: number): number {
  const idat = idatData(png);
  const chunks = png.length - idat.length; // signature, headers, IEND and the IDAT chunks' framing
  return chunks + deflateSync(inflateSync(idat), { level }).length;
}
