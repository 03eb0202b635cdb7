/** The whole canvas as a client in tile mode reads it: every level-0 tile, assembled. */
import { decodeToIndices } from './fixture.ts';

/** Level-0 tiles are this many pixels a side (server/tiles/tile-layout.ts TILE_SIZE; README "Tiles"). */
const TILE = 256;

/**
 * GET /tiles/0/{tx}/{ty}.png for every tile of a `width` x `height` canvas from `http`, decoded to
 * palette indices and put together into one row-major grid. Throws on any answer but 200, or a tile
 * whose size is not the one its place on the canvas gives (tiles at the right and bottom are cropped).
 */
export async function level0Grid(
  http: string,
  width: number,
  height: number,
  palette: readonly number[],
): Promise<Uint8Array> {
  const grid = new Uint8Array(width * height);
  for (let ty = 0; ty * TILE < height; ty++)
    for (let tx = 0; tx * TILE < width; tx++) {
      const res = await fetch(`${http}/tiles/0/${tx}/${ty}.png`);
      if (res.status !== 200) throw new Error(`tile 0/${tx}/${ty}: ${res.status} ${await res.text()}`);
      const tile = decodeToIndices(new Uint8Array(await res.arrayBuffer()), palette);
      const w = Math.min(TILE, width - tx * TILE);
      const h = Math.min(TILE, height - ty * TILE);
      if (tile.width !== w || tile.height !== h)
        throw new Error(`tile 0/${tx}/${ty} is ${tile.width} x ${tile.height}, not ${w} x ${h}`);
      for (let y = 0; y < h; y++) grid.set(tile.grid.subarray(y * w, (y + 1) * w), (ty * TILE + y) * width + tx * TILE);
    }
  return grid;
}
