/**
 * Heatmap: how often each pixel of a region was placed in a seq range, as an 8-bit indexed PNG on a
 * perceptual scale. Index 0 (black) is "never placed in the range"; counts 1..max map to indices
 * 1..255 of a viridis ramp on a log scale (r/place activity is heavy-tailed: a linear scale shows a
 * few hot spots and nothing else). Moderation rows (`mod:*`) are not counted: a wipe is not activity.
 */
import type Database from 'better-sqlite3';
import type { SizeHistory } from '../canvas/canvas-size.ts';
import { PngEncoder } from '../canvas/png-encoder.ts';
import type { Region } from './jobs.ts';

/**
 * Viridis (matplotlib's perceptually uniform map) as a degree-6 polynomial fit per channel (Matt
 * Zucker's fit; within 4 of matplotlib's 8-bit table at the ends); t in [0, 1] -> 0xRRGGBB.
 */
const VIRIDIS: ReadonlyArray<readonly [number, number, number]> = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832],
];

export function viridis(t: number): number {
  const channel = (k: 0 | 1 | 2) => {
    let v = 0;
    for (let i = VIRIDIS.length - 1; i >= 0; i--) v = v * t + (VIRIDIS[i] as readonly [number, number, number])[k];
    return Math.max(0, Math.min(255, Math.round(v * 255)));
  };
  return (channel(0) << 16) | (channel(1) << 8) | channel(2);
}

/** Black for "no placement", then 255 steps of viridis. */
export const HEATMAP_PALETTE: readonly number[] = [
  0x000000,
  ...Array.from({ length: 255 }, (_, i) => viridis(i / 254)),
];

/** The palette index of a count, given the largest count (documented in README, history endpoints). */
export function heatIndex(count: number, max: number): number {
  if (count <= 0) return 0;
  if (max <= 1) return 255;
  return 1 + Math.round((254 * Math.log(count)) / Math.log(max));
}

export interface Heatmap {
  png: Buffer;
  max: number;
  total: number;
}

/**
 * `region` is in the coordinates of the canvas at `to`: a row placed before a left/top growth counts
 * where its pixel is at `to` (moved by the columns and rows added since).
 */
export function buildHeatmap(
  db: Database.Database,
  from: number,
  to: number,
  region: Region,
  level: number,
  sizes: SizeHistory,
): Heatmap {
  const { x: rx, y: ry, w, h } = region;
  const counts = new Uint32Array(w * h);
  const select = db.prepare("SELECT x, y FROM placements WHERE seq > ? AND seq <= ? AND who NOT LIKE 'mod:%'").raw();
  let total = 0;
  // One run of rows per stretch between resizes, each with its shift to `to`'s coordinates.
  const bounds = [from, ...sizes.between(from, to).map((e) => e.seq), to];
  for (let b = 0; b + 1 < bounds.length; b++) {
    const lo = bounds[b] as number;
    const { left, top } = sizes.shift(lo, to);
    for (const [x, y] of select.iterate(lo, bounds[b + 1] as number) as Iterable<[number, number]>) {
      const cx = x + left - rx;
      const cy = y + top - ry;
      if (cx < 0 || cy < 0 || cx >= w || cy >= h) continue;
      const i = cy * w + cx;
      counts[i] = (counts[i] as number) + 1;
      total++;
    }
  }
  let max = 0;
  for (const c of counts) if (c > max) max = c;
  const grid = new Uint8Array(w * h);
  for (let i = 0; i < counts.length; i++) grid[i] = heatIndex(counts[i] as number, max);
  return { png: new PngEncoder(w, h, HEATMAP_PALETTE, level).encodeSync(grid), max, total };
}
