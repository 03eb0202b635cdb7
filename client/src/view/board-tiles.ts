/**
 * A board's pixels (one board pixel = one canvas pixel) in canvases of at most TILE x TILE, instead of
 * one canvas of the board's size. The first write to a canvas allocates and clears its whole backing
 * store: for a 4000 x 4000 board that was one 0.2 s task under a 4x CPU throttle (64 MB; perf/RESULTS.md,
 * "loading a big canvas"), whatever part was written; a 1024 x 1024 tile costs a sixteenth of it, so
 * a snapshot can be copied in a tile or two per task.
 */

/** Side of a tile in board pixels. */
export const TILE = 1024;

interface Tile {
  x: number;
  y: number;
  w: number;
  h: number;
  ctx: CanvasRenderingContext2D;
}

/** The part of the board a frame draws (board pixels). */
export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
}

export class BoardTiles {
  private readonly tiles: Tile[] = [];

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    for (let y = 0; y < height; y += TILE) {
      for (let x = 0; x < width; x += TILE) {
        const canvas = document.createElement('canvas');
        canvas.width = Math.min(TILE, width - x);
        canvas.height = Math.min(TILE, height - y);
        const ctx = canvas.getContext('2d');
        if (!ctx) throw new Error('2D canvas is not available');
        this.tiles.push({ x, y, w: canvas.width, h: canvas.height, ctx });
      }
    }
  }

  get count(): number {
    return this.tiles.length;
  }

  /** Copies the whole of tile `i` from `image` (the board's pixels). */
  putTile(image: ImageData, i: number): void {
    const t = this.tiles[i];
    if (t) t.ctx.putImageData(image, -t.x, -t.y, t.x, t.y, t.w, t.h);
  }

  /** Copies the board pixels [x0, x1) x [y0, y1) from `image` into the tiles that hold them. */
  put(image: ImageData, x0: number, y0: number, x1: number, y1: number): void {
    for (const t of this.tiles) {
      const ax = Math.max(x0, t.x);
      const ay = Math.max(y0, t.y);
      const bx = Math.min(x1, t.x + t.w);
      const by = Math.min(y1, t.y + t.h);
      if (bx > ax && by > ay) t.ctx.putImageData(image, -t.x, -t.y, ax, ay, bx - ax, by - ay);
    }
  }

  /** Copies `image`, whose top-left pixel is board pixel (ix, iy), into the tiles it overlaps. */
  putAt(image: ImageData, ix: number, iy: number): void {
    for (const t of this.tiles) {
      const ax = Math.max(ix, t.x);
      const ay = Math.max(iy, t.y);
      const bx = Math.min(ix + image.width, t.x + t.w);
      const by = Math.min(iy + image.height, t.y + t.h);
      if (bx > ax && by > ay) t.ctx.putImageData(image, ix - t.x, iy - t.y, ax - ix, ay - iy, bx - ax, by - ay);
    }
  }

  /**
   * Draws the board pixels of `region` with board pixel (x, y) at (ox + x k, oy + y k) in the
   * context's units, `dpr` device pixels each. Tile edges are snapped to device pixels, so
   * neighbouring tiles meet without a seam (an image edge between device pixels is antialiased).
   */
  draw(ctx: CanvasRenderingContext2D, region: Region, ox: number, oy: number, k: number, dpr: number, ky = k): void {
    const snap = (v: number): number => Math.round(v * dpr) / dpr;
    for (const t of this.tiles) {
      const x0 = Math.max(region.x, t.x);
      const y0 = Math.max(region.y, t.y);
      const x1 = Math.min(region.x + region.w, t.x + t.w);
      const y1 = Math.min(region.y + region.h, t.y + t.h);
      if (x1 <= x0 || y1 <= y0) continue;
      const dx = snap(ox + x0 * k);
      const dy = snap(oy + y0 * ky);
      ctx.drawImage(
        t.ctx.canvas,
        x0 - t.x,
        y0 - t.y,
        x1 - x0,
        y1 - y0,
        dx,
        dy,
        snap(ox + x1 * k) - dx,
        snap(oy + y1 * ky) - dy,
      );
    }
  }

  /** Draws the whole board scaled to w x h device pixels at the origin (the minimap's copy). */
  drawScaled(ctx: CanvasRenderingContext2D, w: number, h: number): void {
    this.draw(ctx, { x: 0, y: 0, w: this.width, h: this.height }, 0, 0, w / this.width, 1, h / this.height);
  }
}
