/**
 * The History view's past canvas as the renderer draws it: palette indices of a rectangle of today's
 * board (the whole board up to 4096 a side; on a larger one the region in view, history-region.ts)
 * on canvases (board-tiles.ts), drawn at their place on the board. Nothing outside the rectangle is
 * drawn: the page never shows live pixels as history.
 */
import type { PastCanvas } from '../history/history-region.ts';
import { BoardTiles, type Region, TILE } from './board-tiles.ts';
import type { BoardPicture } from './minimap.ts';

export class PastPicture implements BoardPicture {
  private readonly tiles: BoardTiles;
  /** The rectangle of today's board it covers. */
  readonly rect: Region;

  constructor(
    past: PastCanvas,
    lut: Uint32Array,
    private readonly board: { width: number; height: number },
  ) {
    const { x, y, width, height, indices } = past;
    this.rect = { x, y, w: width, h: height };
    this.tiles = new BoardTiles(width, height);
    // In bands of one tile's rows: the RGBA copy of a 4096 x 4096 region at once would be 64 MB
    // more, on a page whose whole JS memory stays under 150 MB on a 16,384 x 16,384 canvas.
    for (let y0 = 0; y0 < height; y0 += TILE) {
      const rows = Math.min(TILE, height - y0);
      const image = new ImageData(width, rows);
      const pixels = new Uint32Array(image.data.buffer);
      const band = indices.subarray(y0 * width, (y0 + rows) * width);
      for (let i = 0; i < band.length; i++) pixels[i] = lut[band[i] as number] ?? 0;
      this.tiles.putAt(image, 0, y0);
    }
  }

  /**
   * Draws the part of `region` (today's board pixels) it covers, board pixel (x, y) at
   * (ox + x k, oy + y k) in the context's units, `dpr` device pixels each.
   */
  draw(ctx: CanvasRenderingContext2D, region: Region, ox: number, oy: number, k: number, dpr: number): void {
    const { x, y, w, h } = this.rect;
    const x0 = Math.max(region.x, x);
    const y0 = Math.max(region.y, y);
    const x1 = Math.min(region.x + region.w, x + w);
    const y1 = Math.min(region.y + region.h, y + h);
    if (x1 <= x0 || y1 <= y0) return;
    this.tiles.draw(ctx, { x: x0 - x, y: y0 - y, w: x1 - x0, h: y1 - y0 }, ox + x * k, oy + y * k, k, dpr);
  }

  /** The minimap's copy: the board scaled to w x h, the rectangle at its place (the rest left empty). */
  drawScaled(ctx: CanvasRenderingContext2D, w: number, h: number): void {
    const kx = w / this.board.width;
    const ky = h / this.board.height;
    const { x, y, w: rw, h: rh } = this.rect;
    ctx.clearRect(0, 0, w, h);
    this.tiles.draw(ctx, { x: 0, y: 0, w: rw, h: rh }, x * kx, y * ky, kx, 1, ky);
  }
}
