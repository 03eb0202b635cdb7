/**
 * What a template still wants: its image read as palette colours on the canvas grid, compared with the
 * board. The count of pixels left, the next wrong pixel, the colour wanted under the cursor, and the
 * dotted style (a dot of the wanted colour in the middle of each pixel: invisible where the pixel is
 * done, plain to see where it is not, unlike a 50% blend, where template black over white is ~#909090
 * beside the palette's #888888). Pure (no DOM), unit tested; templates.ts reads the image's pixels.
 */
import type { Point } from '../view/view.ts';
import { groupDigits } from '../ui/numbers.ts';

/** The template on the canvas grid: `want` holds a palette index per pixel, -1 where transparent. */
export interface TemplateGrid {
  /** Top-left canvas pixel and size in canvas pixels. */
  x: number;
  y: number;
  w: number;
  h: number;
  want: Int16Array;
}

/** Pixels with less alpha than this are holes in the template, wanting nothing. */
const OPAQUE = 128;

/** The palette index nearest to an RGB colour (squared distance; an exact match wins). */
export function nearestColour(r: number, g: number, b: number, palette: readonly number[]): number {
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const [i, rgb] of palette.entries()) {
    const dr = ((rgb >> 16) & 255) - r;
    const dg = ((rgb >> 8) & 255) - g;
    const db = (rgb & 255) - b;
    const d = dr * dr + dg * dg + db * db;
    if (d < bestDistance) {
      best = i;
      bestDistance = d;
      if (d === 0) break;
    }
  }
  return best;
}

/** RGBA pixels (w x h, already scaled to canvas pixels) as palette indices; -1 for transparent ones. */
export function paletteIndices(rgba: ArrayLike<number>, palette: readonly number[]): Int16Array {
  const n = Math.floor(rgba.length / 4);
  const out = new Int16Array(n);
  const cache = new Map<number, number>(); // templates use few colours: one search per colour
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    if ((rgba[o + 3] as number) < OPAQUE) {
      out[i] = -1;
      continue;
    }
    const rgb = ((rgba[o] as number) << 16) | ((rgba[o + 1] as number) << 8) | (rgba[o + 2] as number);
    let index = cache.get(rgb);
    if (index === undefined) {
      index = nearestColour(rgb >> 16, (rgb >> 8) & 255, rgb & 255, palette);
      cache.set(rgb, index);
    }
    out[i] = index;
  }
  return out;
}

/** The colour the template wants at canvas pixel (x, y), or null (outside it, or transparent there). */
export function wantAt(g: TemplateGrid, x: number, y: number): number | null {
  const tx = x - g.x;
  const ty = y - g.y;
  if (tx < 0 || ty < 0 || tx >= g.w || ty >= g.h) return null;
  const want = g.want[ty * g.w + tx] as number;
  return want < 0 ? null : want;
}

export interface BoardColours {
  width: number;
  height: number;
  /** The colours shown over a rectangle, rows of w (board/board.ts readShown). */
  readShown(x: number, y: number, w: number, h: number): Uint8Array;
}

/** How many of the template's pixels on the canvas differ from it (`left`), of how many (`total`). */
export function countLeft(g: TemplateGrid, board: BoardColours): { left: number; total: number } {
  let left = 0;
  let total = 0;
  const x0 = Math.max(0, g.x);
  const y0 = Math.max(0, g.y);
  const x1 = Math.min(board.width, g.x + g.w);
  const y1 = Math.min(board.height, g.y + g.h);
  if (x1 <= x0 || y1 <= y0) return { left, total };
  // One read of the area, then a loop over two typed arrays (a 1000 x 1000 template every 500 ms).
  const w = x1 - x0;
  const shown = board.readShown(x0, y0, w, y1 - y0);
  for (let y = y0; y < y1; y++) {
    const row = (y - g.y) * g.w - g.x;
    const srow = (y - y0) * w - x0;
    for (let x = x0; x < x1; x++) {
      const want = g.want[row + x] as number;
      if (want < 0) continue;
      total++;
      if (shown[srow + x] !== want) left++;
    }
  }
  return { left, total };
}

/**
 * The first wrong pixel after `after` in reading order (left to right, top to bottom), wrapping round
 * to the start; `after` itself comes last. Null when every pixel is done.
 */
export function nextWrong(g: TemplateGrid, board: BoardColours, after: Point | null): Point | null {
  const n = g.w * g.h;
  const x0 = Math.max(0, g.x);
  const y0 = Math.max(0, g.y);
  const x1 = Math.min(board.width, g.x + g.w);
  const y1 = Math.min(board.height, g.y + g.h);
  if (x1 <= x0 || y1 <= y0) return null;
  const w = x1 - x0;
  const shown = board.readShown(x0, y0, w, y1 - y0);
  const start = after && wantAt(g, after.x, after.y) !== null ? (after.y - g.y) * g.w + (after.x - g.x) + 1 : 0;
  for (let k = 0; k < n; k++) {
    const i = (start + k) % n;
    const want = g.want[i] as number;
    if (want < 0) continue;
    const x = g.x + (i % g.w);
    const y = g.y + Math.floor(i / g.w);
    if (x < x0 || y < y0 || x >= x1 || y >= y1) continue;
    if (shown[(y - y0) * w + (x - x0)] !== want) return { x, y };
  }
  return null;
}

/** Each canvas pixel of the dotted style is DOT_CELL x DOT_CELL image pixels, the dot its middle one. */
export const DOT_CELL = 3;

/**
 * The dotted style as RGBA, (w * DOT_CELL) x (h * DOT_CELL): the middle of each cell opaque in the
 * wanted colour, the rest transparent. Drawn over the canvas at full opacity without smoothing.
 */
export function dottedRgba(g: TemplateGrid, palette: readonly number[]): Uint8ClampedArray<ArrayBuffer> {
  const width = g.w * DOT_CELL;
  const out = new Uint8ClampedArray(width * g.h * DOT_CELL * 4);
  const mid = Math.floor(DOT_CELL / 2);
  for (let ty = 0; ty < g.h; ty++) {
    for (let tx = 0; tx < g.w; tx++) {
      const rgb = palette[g.want[ty * g.w + tx] as number];
      if (rgb === undefined) continue; // transparent (-1)
      const o = ((ty * DOT_CELL + mid) * width + tx * DOT_CELL + mid) * 4;
      out[o] = (rgb >> 16) & 255;
      out[o + 1] = (rgb >> 8) & 255;
      out[o + 2] = rgb & 255;
      out[o + 3] = 255;
    }
  }
  return out;
}

/** "37 of 96 pixels left", or that the template is done. */
export function progressText(p: { left: number; total: number }): string {
  if (p.total === 0) return 'The template is off the canvas.';
  if (p.left === 0) return `Done: all ${groupDigits(p.total)} pixels match.`;
  return `${groupDigits(p.left)} of ${groupDigits(p.total)} pixels left.`;
}
