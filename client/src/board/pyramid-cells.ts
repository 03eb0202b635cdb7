/**
 * The zoomed-out pyramid tiles a board holds (GET /tiles/{level}/...: each tile pixel one 2^level
 * block of the canvas), kept as their own small arrays instead of filling 2^level x 2^level blocks of
 * a full-size grid: memory follows the tiles on screen (at most KEEP of them, 64 KB each at 256 x 256),
 * not the canvas. They answer "what colour is about here" where no level-0 tile is loaded (the cursor
 * readout, pixel info, templates' counts while zoomed out). Pure (no DOM).
 */

/** A decoded pyramid tile: palette indices, w x h, row by row (edge tiles are cropped). */
export interface PyramidTile {
  level: number;
  tx: number;
  ty: number;
  w: number;
  h: number;
  indices: Uint8Array;
}

/**
 * Pyramid tiles kept besides the top: a desktop zoomed out shows at most about 5 x 4 tiles of one
 * level; a few levels' worth stay for zooming back and forth.
 */
export const KEEP_PYRAMID_TILES = 48;

export class PyramidCells {
  /** By `level/tx/ty`, oldest first (Map order), the top (maxLevel) never dropped. */
  private readonly tiles = new Map<string, PyramidTile>();

  constructor(
    /** Canvas pixels a level-0 tile spans (its side). */
    readonly tileSize: number,
    readonly maxLevel: number,
  ) {}

  get size(): number {
    return this.tiles.size;
  }

  /** Keeps a tile (replacing the one of the same place), dropping the oldest past KEEP_PYRAMID_TILES. */
  put(tile: PyramidTile): void {
    const key = `${tile.level}/${tile.tx}/${tile.ty}`;
    this.tiles.delete(key);
    this.tiles.set(key, tile);
    for (const [k, t] of this.tiles) {
      if (this.tiles.size <= KEEP_PYRAMID_TILES + 1) break;
      if (t.level !== this.maxLevel) this.tiles.delete(k);
    }
  }

  get(level: number, tx: number, ty: number): PyramidTile | undefined {
    return this.tiles.get(`${level}/${tx}/${ty}`);
  }

  /**
   * The finest kept tile over canvas pixel (x, y), or undefined. Tiles of every level are aligned to
   * level-0 tiles, so the answer is the same for every pixel of one level-0 tile.
   */
  finestOver(x: number, y: number): PyramidTile | undefined {
    for (let level = 1; level <= this.maxLevel; level++) {
      const span = this.tileSize * 2 ** level;
      const t = this.tiles.get(`${level}/${Math.floor(x / span)}/${Math.floor(y / span)}`);
      if (t) return t;
    }
    return undefined;
  }

  /** The colour of the finest kept tile over (x, y), or -1 when none covers it. */
  at(x: number, y: number): number {
    const t = this.finestOver(x, y);
    return t ? colourIn(t, this.tileSize, x, y) : -1;
  }

  /**
   * Fills out (rows of w, its first cell canvas pixel (x, y)) over [x0, x1) x [y0, y1), a part of one
   * level-0 tile, from the finest tile kept there; leaves it as it is where none is.
   */
  fill(out: Uint8Array, x: number, y: number, w: number, x0: number, y0: number, x1: number, y1: number): void {
    const t = this.finestOver(x0, y0);
    if (!t) return;
    const span = this.tileSize * 2 ** t.level;
    const bx = t.tx * span;
    const by = t.ty * span;
    for (let yy = y0; yy < y1; yy++) {
      const py = (yy - by) >> t.level;
      if (py >= t.h) break;
      const row = py * t.w;
      const o = (yy - y) * w - x;
      for (let xx = x0; xx < x1; xx++) {
        const px = (xx - bx) >> t.level;
        if (px >= t.w) break;
        out[o + xx] = t.indices[row + px] as number;
      }
    }
  }
}

function colourIn(t: PyramidTile, tileSize: number, x: number, y: number): number {
  const span = tileSize * 2 ** t.level;
  const px = (x - t.tx * span) >> t.level;
  const py = (y - t.ty * span) >> t.level;
  return px < t.w && py < t.h ? (t.indices[py * t.w + px] as number) : -1;
}
