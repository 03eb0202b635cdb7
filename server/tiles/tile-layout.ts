/**
 * Tile geometry, shared by every role: how the canvas is cut into `GET /tiles/{level}/{tx}/{ty}.png`,
 * how a tile's path is checked, and how a tile's palette indices are read from the grid. No I/O.
 *
 * - Level 0 cuts the canvas into TILE_SIZE x TILE_SIZE tiles at full resolution. Level k > 0 covers
 *   TILE_SIZE * 2^k canvas pixels a side per tile, each tile pixel standing for a 2^k x 2^k block.
 *   The top level is the first whose one tile covers the whole canvas.
 * - Tiles at the right and bottom edge are cropped, never padded: a tile is as wide as the canvas
 *   pixels it covers (ceil(pixels / 2^k) at level k), so no pixel of a tile lies outside the canvas.
 * - Downscale (level k > 0): each tile pixel is the colour of the top-left canvas pixel of its block
 *   (nearest-neighbour sampling). Chosen because it is deterministic (every process makes the same
 *   bytes), exact to the palette, and costs one read per tile pixel whatever the level: a mode of the
 *   block would read the whole region (the top tile of a 4096 x 4096 canvas is 16.7 M cells, ~30 ms
 *   on the event loop), which the tile path may not spend.
 */
import { ErrorCode } from '../../protocol/messages.ts';
import { HttpCode } from '../http/status.ts';

/** Tile side at level 0, in canvas pixels. A power of two: tile coordinates are shifts. */
export const TILE_SIZE = 256;
/** log2(TILE_SIZE): a cell's level-0 tile is (x >> TILE_SHIFT, y >> TILE_SHIFT). */
export const TILE_SHIFT = 8;

/** The tile's place in the pyramid. */
export interface TileRef {
  level: number;
  tx: number;
  ty: number;
}

/** Levels above this are refused before any arithmetic (2^31 would overflow the shifts). */
const MAX_LEVEL_ACCEPTED = 24;

export class TileLayout {
  readonly tileSize = TILE_SIZE;
  width = 0;
  height = 0;
  /** The highest level: its single tile covers the whole canvas. */
  maxLevel = 0;

  constructor(width: number, height: number) {
    this.resize(width, height);
  }

  /** The canvas grew (POST /api/admin/resize): the geometry of the new size from now on. */
  resize(width: number, height: number): void {
    let level = 0;
    while (TILE_SIZE * 2 ** level < Math.max(width, height)) level++;
    this.width = width;
    this.height = height;
    this.maxLevel = level;
  }

  /** Tiles across (x) and down (y) at `level`. */
  across(level: number): number {
    return Math.ceil(this.width / (TILE_SIZE * 2 ** level));
  }

  down(level: number): number {
    return Math.ceil(this.height / (TILE_SIZE * 2 ** level));
  }

  /** Index of a tile in its level's row-major list (the per-level version arrays use it). */
  index(t: TileRef): number {
    return t.ty * this.across(t.level) + t.tx;
  }

  contains(t: TileRef): boolean {
    return t.level <= this.maxLevel && t.tx < this.across(t.level) && t.ty < this.down(t.level);
  }

  /** Width and height of a tile in its own pixels (cropped at the canvas's right and bottom edge). */
  sizeOf(t: TileRef): { width: number; height: number } {
    const step = 2 ** t.level;
    const span = TILE_SIZE * step;
    return {
      width: Math.min(TILE_SIZE, Math.ceil((this.width - t.tx * span) / step)),
      height: Math.min(TILE_SIZE, Math.ceil((this.height - t.ty * span) / step)),
    };
  }

  /**
   * The tile's palette indices, row by row (a copy: a snapshot of the grid now). One read per tile
   * pixel, a chunk's run of a row at a time: a 256 x 256 tile is 65,536 reads, about 0.2 ms, at any
   * level.
   */
  sample(grid: RowReader, t: TileRef): { width: number; height: number; indices: Uint8Array } {
    const { width, height } = this.sizeOf(t);
    const step = 2 ** t.level;
    const x0 = t.tx * TILE_SIZE * step;
    const y0 = t.ty * TILE_SIZE * step;
    const indices = new Uint8Array(width * height);
    for (let j = 0; j < height; j++) grid.copyRow(x0, y0 + j * step, width, step, indices, j * width);
    return { width, height, indices };
  }
}

/** Reads a row of the grid (canvas/canvas.ts `copyRow`): `count` pixels from `x0`, every `step`-th. */
export interface RowReader {
  copyRow(x0: number, y: number, count: number, step: number, out: Uint8Array, at: number): void;
}

/** A tile path parsed, or why not: 400 `invalid_field` for a malformed number, 404 for no such tile. */
export type ParsedTile =
  | { ok: true; tile: TileRef }
  | { ok: false; code: typeof ErrorCode.INVALID_FIELD | typeof HttpCode.NOT_FOUND; message: string };

/** Plain decimal without a sign or leading zeros: each tile has exactly one URL (one cache entry). */
const DECIMAL = /^(?:0|[1-9]\d{0,8})$/;

/** Checks the three path segments of `/tiles/{level}/{tx}/{ty}.png` against `layout`. */
export function parseTilePath(layout: TileLayout, level: string, tx: string, file: string): ParsedTile {
  const ty = file.endsWith('.png') ? file.slice(0, -4) : undefined;
  if (ty === undefined)
    return { ok: false, code: HttpCode.NOT_FOUND, message: 'tiles are /tiles/{level}/{tx}/{ty}.png' };
  if (!DECIMAL.test(level) || !DECIMAL.test(tx) || !DECIMAL.test(ty)) {
    return {
      ok: false,
      code: ErrorCode.INVALID_FIELD,
      message: 'level, tx and ty must be non-negative integers without sign or leading zeros',
    };
  }
  const tile = { level: Number(level), tx: Number(tx), ty: Number(ty) };
  if (tile.level > MAX_LEVEL_ACCEPTED || !layout.contains(tile)) {
    return {
      ok: false,
      code: HttpCode.NOT_FOUND,
      message: `no tile ${tile.level}/${tile.tx}/${tile.ty}: levels 0..${layout.maxLevel}, level 0 is ${layout.across(0)} x ${layout.down(0)} tiles`,
    };
  }
  return { ok: true, tile };
}
