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

  /** The colour of the finest kept tile over (x, y), or -1 when none covers it. */
  at(x: number, y: number): number {
    for (let level = 1; level <= this.maxLevel; level++) {
      const span = this.tileSize * 2 ** level;
      const t = this.tiles.get(`${level}/${Math.floor(x / span)}/${Math.floor(y / span)}`);
      if (!t) continue;
      const px = (x % span) >> level;
      const py = (y % span) >> level;
      if (px < t.w && py < t.h) return t.indices[py * t.w + px] as number;
    }
    return -1;
  }
}
