/**
 * BENCHMARK ONLY (`--bench-image-mode`): the slow ways to serve GET /image that the project's origin
 * story measured, kept so `npm run bench` can reproduce its table side by side with the real server.
 * - `db`:   every request reads the canvas from SQLite (snapshot + replay) and encodes it;
 * - `grid`: every request encodes the in-memory grid (cached pixel data, no cached PNG);
 * - `cached` (the default, and the only mode for production): the tick's cached bytes.
 * The slow modes encode synchronously on the event loop, as a naive handler would.
 */
import type { Canvas } from '../canvas/canvas.ts';
import type { PngEncoder } from '../canvas/png-encoder.ts';
import type { Store } from '../store/store.ts';
import type { Frame } from '../tick/ticker.ts';

export type BenchImageMode = 'cached' | 'grid' | 'db';

export function imageSource(
  mode: BenchImageMode,
  cached: () => Frame,
  canvas: Canvas,
  encoder: PngEncoder,
  store: Store,
): () => Frame {
  if (mode === 'cached') return cached;
  const encodeFrom = (grid: () => Uint8Array) => (): Frame => {
    const base = cached();
    return { ...base, png: encoder.encodeSync(grid()) };
  };
  if (mode === 'grid') return encodeFrom(() => canvas.grid);
  return encodeFrom(() => store.load(canvas.width, canvas.height, canvas.paletteSize).grid);
}
