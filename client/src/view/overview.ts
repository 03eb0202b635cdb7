/**
 * The board zoomed out below one device pixel per canvas pixel (the whole of a big canvas on a phone),
 * and the part of the board a frame needs. Drawing a 4000 x 4000 board scaled down with nearest
 * neighbour drops lone pixels (one pixel in ten survives at a tenth); averaging blurs them into the
 * background. So each block of k x k canvas pixels shows its most contrasting colour: the colour
 * present in the block that is farthest from the block's most common one. A lone pixel on a plain
 * background stays visible; a plain area stays plain. Pure, unit tested; renderer.ts caches the result.
 */

/** Whole canvas pixels per overview pixel, a power of two, so the overview has at least `scale` detail. */
export function overviewLevel(scale: number): number {
  if (scale >= 1) return 1;
  return 2 ** Math.ceil(Math.log2(1 / scale) - 1e-9);
}

/**
 * Downscales a grid of palette indices by `k` (each output pixel a k x k block), writing RGBA words
 * from `lut` (palette index -> pixel word). Returns the output size and pixels.
 */
export function maxContrastDownscale(
  grid: Uint8Array,
  width: number,
  height: number,
  k: number,
  palette: readonly number[],
  lut: Uint32Array,
): { width: number; height: number; pixels: Uint32Array } {
  const ow = Math.ceil(width / k);
  const oh = Math.ceil(height / k);
  const out = new Uint32Array(ow * oh);
  maxContrastRows(grid, width, height, k, palette, lut, out, 0, oh);
  return { width: ow, height: oh, pixels: out };
}

/**
 * Rows `from` to `to` (exclusive) of maxContrastDownscale's output, written into `out` (the whole
 * output, ceil(width / k) words a row): a big board's overview is built a few rows per task, so
 * building it never freezes the page (renderer.ts).
 */
export function maxContrastRows(
  grid: Uint8Array,
  width: number,
  height: number,
  k: number,
  palette: readonly number[],
  lut: Uint32Array,
  out: Uint32Array,
  from: number,
  to: number,
): void {
  const ow = Math.ceil(width / k);
  const counts = new Int32Array(256);
  const present: number[] = [];
  for (let by = from; by < to; by++) {
    const y0 = by * k;
    const y1 = Math.min(height, y0 + k);
    for (let bx = 0; bx < ow; bx++) {
      const x0 = bx * k;
      const x1 = Math.min(width, x0 + k);
      // Most blocks are one colour: a tight compare loop settles them without counting (a 4000 x 4000
      // board: its longest frame when first zoomed out went from 1.47 s to 0.37 s under a 4x CPU
      // throttle, perf/RESULTS.md).
      const first = grid[y0 * width + x0] as number;
      let plain = true;
      for (let y = y0; y < y1 && plain; y++) {
        const row = y * width;
        for (let x = x0; x < x1; x++) {
          if (grid[row + x] !== first) {
            plain = false;
            break;
          }
        }
      }
      if (plain) {
        out[by * ow + bx] = lut[first] ?? 0;
        continue;
      }
      present.length = 0;
      for (let y = y0; y < y1; y++) {
        const row = y * width;
        for (let x = x0; x < x1; x++) {
          const c = grid[row + x] as number;
          if (counts[c] === 0) present.push(c);
          counts[c] = (counts[c] as number) + 1;
        }
      }
      let common = present[0] as number;
      for (const c of present) if ((counts[c] as number) > (counts[common] as number)) common = c;
      let pick = common;
      let far = 0;
      const m = palette[common] ?? 0;
      for (const c of present) {
        counts[c] = 0;
        const p = palette[c] ?? 0;
        const dr = ((p >> 16) & 255) - ((m >> 16) & 255);
        const dg = ((p >> 8) & 255) - ((m >> 8) & 255);
        const db = (p & 255) - (m & 255);
        const d = dr * dr + dg * dg + db * db;
        if (d > far) {
          far = d;
          pick = c;
        }
      }
      out[by * ow + bx] = lut[pick] ?? 0;
    }
  }
}

/** The canvas pixels a frame shows (whole pixels, clamped to the board); empty when none. */
export function visibleSource(view: {
  boardW: number;
  boardH: number;
  viewport: { w: number; h: number };
  screenToBoard(p: { x: number; y: number }): { x: number; y: number };
}): { x: number; y: number; w: number; h: number } {
  const from = view.screenToBoard({ x: 0, y: 0 });
  const to = view.screenToBoard({ x: view.viewport.w, y: view.viewport.h });
  const x0 = Math.max(0, Math.floor(from.x));
  const y0 = Math.max(0, Math.floor(from.y));
  const x1 = Math.min(view.boardW, Math.ceil(to.x));
  const y1 = Math.min(view.boardH, Math.ceil(to.y));
  return { x: x0, y: y0, w: Math.max(0, x1 - x0), h: Math.max(0, y1 - y0) };
}
