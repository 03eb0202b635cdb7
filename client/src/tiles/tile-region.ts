/**
 * Which tiles a view needs (README "Tiles"): the level-0 region to subscribe to and load, or, when
 * the view is zoomed out past what one region holds (16 x 16 tiles), the pyramid level to draw from.
 * Pure (no DOM): unit tested in Node.
 */
import { MAX_REGION_TILES, type TileRegion } from '../../../protocol/messages.ts';
import type { Cells } from '../board/cells.ts';

/** A rectangle of board pixels. */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The canvas as GET /api/canvas describes it. */
export interface TileLayout {
  width: number;
  height: number;
  tileSize: number;
  maxLevel: number;
}

/** Most tile columns (and rows) of one region: 16, as MAX_REGION_TILES is 16 x 16. */
export const MAX_REGION_SIDE = Math.sqrt(MAX_REGION_TILES);

/** Tile columns and rows of the canvas at `level` (edge tiles are cropped, README "Tiles"). */
export function tileCounts(layout: TileLayout, level: number): { cols: number; rows: number } {
  const span = layout.tileSize * 2 ** level;
  return { cols: Math.ceil(layout.width / span), rows: Math.ceil(layout.height / span) };
}

/** The tiles at `level` holding any pixel of `rect`, plus `margin` tiles around, clipped to the canvas. */
export function tilesCovering(layout: TileLayout, rect: Rect, level: number, margin: number): TileRegion {
  const span = layout.tileSize * 2 ** level;
  const { cols, rows } = tileCounts(layout, level);
  const tx0 = Math.max(0, Math.floor(rect.x / span) - margin);
  const ty0 = Math.max(0, Math.floor(rect.y / span) - margin);
  const tx1 = Math.min(cols, Math.ceil((rect.x + Math.max(1, rect.w)) / span) + margin);
  const ty1 = Math.min(rows, Math.ceil((rect.y + Math.max(1, rect.h)) / span) + margin);
  return {
    tx: Math.min(tx0, cols - 1),
    ty: Math.min(ty0, rows - 1),
    tw: Math.max(1, tx1 - tx0),
    th: Math.max(1, ty1 - ty0),
  };
}

/**
 * The region to subscribe to for a view: the visible level-0 tiles plus `margin`, cut to at most
 * 16 x 16 around the view's centre (the margin goes first). Zoomed out, the visible part may need
 * more; the pyramid shows the rest (pyramidLevel).
 */
export function regionFor(layout: TileLayout, view: Rect, margin: number): TileRegion {
  const r = tilesCovering(layout, view, 0, margin);
  const cut = (start: number, length: number, centre: number): [number, number] => {
    if (length <= MAX_REGION_SIDE) return [start, length];
    const first = Math.max(start, Math.min(start + length - MAX_REGION_SIDE, Math.floor(centre - MAX_REGION_SIDE / 2)));
    return [first, MAX_REGION_SIDE];
  };
  const [tx, tw] = cut(r.tx, r.tw, (view.x + view.w / 2) / layout.tileSize);
  const [ty, th] = cut(r.ty, r.th, (view.y + view.h / 2) / layout.tileSize);
  return { tx, ty, tw, th };
}

/**
 * The pyramid level a view is drawn from: 0 (level-0 tiles, live) while the visible tiles fit one
 * region and a canvas pixel covers at least half a device pixel; else the finest level whose pixels
 * are not smaller than a device pixel, at least 1 and at most maxLevel. `devicePerPixel`: device
 * pixels per canvas pixel (the view's scale times devicePixelRatio).
 */
export function pyramidLevel(layout: TileLayout, view: Rect, devicePerPixel: number): number {
  const visible = tilesCovering(layout, view, 0, 0);
  const fits = visible.tw <= MAX_REGION_SIDE && visible.th <= MAX_REGION_SIDE;
  if (fits && devicePerPixel >= 0.5) return 0;
  const level = Math.floor(Math.log2(1 / Math.max(devicePerPixel, 1e-9)));
  return Math.max(1, Math.min(layout.maxLevel, level));
}

export function sameRegion(a: TileRegion | null, b: TileRegion | null): boolean {
  return a !== null && b !== null && a.tx === b.tx && a.ty === b.ty && a.tw === b.tw && a.th === b.th;
}

export function inRegion(r: TileRegion | null, tx: number, ty: number): boolean {
  return r !== null && tx >= r.tx && ty >= r.ty && tx < r.tx + r.tw && ty < r.ty + r.th;
}

/** The tiles of a region, those nearest `centre` (in tiles) first: the visible ones load before the margin. */
export function regionTiles(r: TileRegion, centre: { x: number; y: number }): Array<{ tx: number; ty: number }> {
  const out: Array<{ tx: number; ty: number }> = [];
  for (let ty = r.ty; ty < r.ty + r.th; ty++) for (let tx = r.tx; tx < r.tx + r.tw; tx++) out.push({ tx, ty });
  const d = (t: { tx: number; ty: number }): number => (t.tx + 0.5 - centre.x) ** 2 + (t.ty + 0.5 - centre.y) ** 2;
  return out.sort((a, b) => d(a) - d(b));
}

/**
 * Writes a decoded level-0 tile (palette indices, `w` x `h`, row by row) into the board's cells, pixel
 * for pixel, cropped to the canvas. Returns the board rectangle it covers. Pyramid tiles are not
 * written into the cells: they are kept as their own small images (board/pyramid-cells.ts).
 */
export function blitTile(
  cells: Cells,
  layout: TileLayout,
  tx: number,
  ty: number,
  tile: { w: number; h: number; indices: Uint8Array },
): Rect {
  const x0 = tx * layout.tileSize;
  const y0 = ty * layout.tileSize;
  const w = Math.min(layout.width - x0, tile.w);
  const h = Math.min(layout.height - y0, tile.h);
  cells.write(x0, y0, w, h, tile.indices, tile.w);
  return { x: x0, y: y0, w, h };
}
