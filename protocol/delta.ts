/**
 * Byte layout of the `px` field of a `delta` message: `n` fixed-width records of 5 bytes,
 *   x: uint16 little-endian, y: uint16 little-endian, colour: uint8.
 * Fixed width keeps encode and apply a straight loop in every language; 16-bit coordinates cover the
 * 16,384 x 16,384 maximum canvas.
 */
export const DELTA_RECORD_BYTES = 5;

/** Packs changed cells (grid indices, y * width + x) with their colours (`colours[i]` is cell i's). */
export function packDeltaPixels(cells: ArrayLike<number>, colours: ArrayLike<number>, width: number): Uint8Array {
  const out = new Uint8Array(cells.length * DELTA_RECORD_BYTES);
  for (let i = 0, o = 0; i < cells.length; i++, o += DELTA_RECORD_BYTES) {
    const cell = cells[i] as number;
    const x = cell % width;
    const y = (cell - x) / width;
    out[o] = x & 0xff;
    out[o + 1] = x >> 8;
    out[o + 2] = y & 0xff;
    out[o + 3] = y >> 8;
    out[o + 4] = colours[i] as number;
  }
  return out;
}

/**
 * Applies packed records to a grid of palette indices. Returns false (and applies nothing) if the
 * payload is malformed for this canvas: a client should then resync rather than trust its board.
 */
export function applyDeltaPixels(px: Uint8Array, grid: Uint8Array, width: number, height: number): boolean {
  if (px.length % DELTA_RECORD_BYTES !== 0) return false;
  for (let o = 0; o < px.length; o += DELTA_RECORD_BYTES) {
    const x = (px[o] as number) | ((px[o + 1] as number) << 8);
    const y = (px[o + 2] as number) | ((px[o + 3] as number) << 8);
    if (x >= width || y >= height) return false;
  }
  for (let o = 0; o < px.length; o += DELTA_RECORD_BYTES) {
    const x = (px[o] as number) | ((px[o + 1] as number) << 8);
    const y = (px[o + 2] as number) | ((px[o + 3] as number) << 8);
    grid[y * width + x] = px[o + 4] as number;
  }
  return true;
}
