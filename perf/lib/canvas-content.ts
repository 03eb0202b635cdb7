/**
 * Deterministic "realistic" canvas content for benchmarks: artworks (filled rectangles of 8..64 px a
 * side, solid, striped or checkered in one or two colours, drawn pixel by pixel the way people draw on
 * r/place) interleaved with single random placements (noise). The same seed gives the same placements,
 * so runs compare like with like.
 */
import { Rng } from '../../testkit/rng.ts';

/** Placements as parallel typed arrays (a million objects would distort the benchmarks' memory). */
export interface Placements {
  readonly count: number;
  readonly x: Uint16Array;
  readonly y: Uint16Array;
  readonly c: Uint8Array;
}

export interface ContentOptions {
  width: number;
  height: number;
  colours: number;
  count: number;
  /** Share of placements that are single random pixels instead of artwork pixels (0..1). */
  noise: number;
  seed: number;
}

/** Uniform numbers in [0, 1) from `seed` (testkit/rng.ts), the same sequence every run. */
export function seededRandom(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.float();
}

interface Artwork {
  x0: number;
  y0: number;
  w: number;
  h: number;
  /** Pixels of this artwork already drawn (row-major). */
  next: number;
  colour: (dx: number, dy: number) => number;
}

function newArtwork(rand: () => number, opts: ContentOptions): Artwork {
  const int = (n: number) => Math.floor(rand() * n);
  const w = Math.min(opts.width, 8 + int(57));
  const h = Math.min(opts.height, 8 + int(57));
  const a = int(opts.colours);
  const b = int(opts.colours);
  const style = rand();
  const colour =
    style < 0.6
      ? () => a
      : style < 0.8
        ? (_dx: number, dy: number) => ((dy >> 2) & 1 ? a : b) // 4 px stripes
        : (dx: number, dy: number) => (((dx >> 1) ^ (dy >> 1)) & 1 ? a : b); // 2 px checker
  return { x0: int(opts.width - w + 1), y0: int(opts.height - h + 1), w, h, next: 0, colour };
}

/** `count` placements: artworks drawn one after another, with `noise` of them random pixels. */
export function syntheticPlacements(opts: ContentOptions): Placements {
  const rand = seededRandom(opts.seed);
  const x = new Uint16Array(opts.count);
  const y = new Uint16Array(opts.count);
  const c = new Uint8Array(opts.count);
  let art = newArtwork(rand, opts);
  for (let i = 0; i < opts.count; i++) {
    if (rand() < opts.noise) {
      x[i] = Math.floor(rand() * opts.width);
      y[i] = Math.floor(rand() * opts.height);
      c[i] = Math.floor(rand() * opts.colours);
      continue;
    }
    if (art.next >= art.w * art.h) art = newArtwork(rand, opts);
    const dx = art.next % art.w;
    const dy = Math.floor(art.next / art.w);
    art.next++;
    x[i] = art.x0 + dx;
    y[i] = art.y0 + dy;
    c[i] = art.colour(dx, dy);
  }
  return { count: opts.count, x, y, c };
}

/**
 * The canvas of the encode benchmark: artworks covering the whole canvas about 1.2 times over (so
 * a few white gaps stay) with 5% of the placements random noise, like a late-event r/place canvas.
 */
export function realisticGrid(width: number, height: number, colours: number, seed = 2017): Uint8Array {
  const grid = new Uint8Array(width * height);
  const p = syntheticPlacements({
    width,
    height,
    colours,
    count: Math.round(width * height * 1.25),
    noise: 0.05,
    seed,
  });
  for (let i = 0; i < p.count; i++) grid[(p.y[i] as number) * width + (p.x[i] as number)] = p.c[i] as number;
  return grid;
}

export const CONTENT_DESCRIPTION =
  'artworks (8..64 px rectangles: 60% solid, 20% 4 px stripes, 20% 2 px checker, random colours) drawn ' +
  'pixel by pixel, interleaved with random single-pixel placements (noise); seeded PRNG, same content every run';
