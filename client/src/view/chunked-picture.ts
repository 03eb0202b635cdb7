/**
 * The picture of a tile-mode board (board/cells.ts chunked): 2D canvases of TILE x TILE board pixels
 * (4 x 4 level-0 tiles), each made when a tile in it is first written and dropped when its last tile
 * is, and the pyramid tiles (board/pyramid-cells.ts) as small canvases drawn scaled. A canvas per
 * 256 x 256 tile was 112 draws a frame with a 4000 x 4000 canvas at 0.6 device px per pixel on a
 * phone, 37 fps panning against 49 with 1024 x 1024 canvases (4x CPU throttle, perf/RESULTS.md). No full-size ImageData: at 16,384 x 16,384 that was 1 GiB (4 bytes a
 * pixel) and a canvas per 1024 x 1024 tile of the whole board up front (256 of them). Pixels are
 * converted through one reused tile-sized ImageData (256 KB at 256 x 256), read from the board's cells
 * each time, so nothing here holds a second copy of the cells.
 *
 * What a frame draws: the pyramid's top scaled over the whole canvas (what nothing else covers), then
 * zoomed out (level > 0) the tiles of that level on screen, or zoomed in the level-0 tiles loaded.
 */
import { DELTA_RECORD_BYTES } from '../../../protocol/delta.ts';
import type { Board } from '../board/board.ts';
import type { PyramidTile } from '../board/pyramid-cells.ts';
import { type Region, TILE } from './board-tiles.ts';

/** Where a frame draws: board pixel (x, y) at (ox + x k, oy + y k), `dpr` device pixels a unit. */
interface DrawAt {
  ctx: CanvasRenderingContext2D;
  ox: number;
  oy: number;
  k: number;
  dpr: number;
}

/**
 * Draws source pixels (sx, sy, sw, sh) of `image` over board pixels [x0, x1) x [y0, y1), the edges
 * snapped to device pixels (an edge between device pixels is antialiased into a seam).
 */
function blit(
  at: DrawAt,
  image: CanvasImageSource,
  sx: number,
  sy: number,
  sw: number,
  sh: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): void {
  const snap = (v: number): number => Math.round(v * at.dpr) / at.dpr;
  const dx = snap(at.ox + x0 * at.k);
  const dy = snap(at.oy + y0 * at.k);
  at.ctx.drawImage(image, sx, sy, sw, sh, dx, dy, snap(at.ox + x1 * at.k) - dx, snap(at.oy + y1 * at.k) - dy);
}

export class ChunkedPicture {
  /** Canvases of `span` x `span` board pixels holding loaded level-0 tiles, by sy * spanCols + sx. */
  private readonly tiles = new Map<number, CanvasRenderingContext2D>();
  /** Side of a canvas in board pixels: TILE, rounded to whole level-0 tiles. */
  private readonly span: number;
  private readonly spanCols: number;
  /** Canvases of the pyramid tiles the board keeps (dropped with them: weakly held). */
  private readonly pyramid = new WeakMap<PyramidTile, HTMLCanvasElement>();
  private scratch: ImageData | null = null;
  private scratchWords: Uint32Array | null = null;
  /** Bumped when the pyramid's top changes (the minimap's copy is made from it). */
  topVersion = 0;

  constructor(
    private readonly board: Board,
    private readonly lut: Uint32Array,
  ) {
    const side = board.cells.bw;
    this.span = side * Math.max(1, Math.round(TILE / side));
    this.spanCols = Math.ceil(board.width / this.span);
  }

  /** Canvases alive (for tests and the memory benchmark). */
  get tileCount(): number {
    return this.tiles.size;
  }

  private get side(): number {
    return this.board.cells.bw;
  }

  /**
   * Rewrites the pixels of `rect` from the board's cells (and its pending placements on top). A
   * tile whose cells are not loaded keeps only its pending pixels (the pyramid shows through).
   */
  paint(rect: Region): void {
    const { board, lut } = this;
    const { cells } = board;
    const side = this.side;
    const x1 = Math.min(board.width, rect.x + rect.w);
    const y1 = Math.min(board.height, rect.y + rect.h);
    if (!this.scratch) {
      this.scratch = new ImageData(side, side);
      this.scratchWords = new Uint32Array(this.scratch.data.buffer);
    }
    const image = this.scratch;
    const words = this.scratchWords as Uint32Array;
    for (let by = Math.floor(Math.max(0, rect.y) / side); by * side < y1; by++) {
      for (let bx = Math.floor(Math.max(0, rect.x) / side); bx * side < x1; bx++) {
        const index = by * cells.cols + bx;
        const ox = bx * side;
        const oy = by * side;
        const ax = Math.max(rect.x, ox);
        const ay = Math.max(rect.y, oy);
        const ex = Math.min(x1, ox + side);
        const ey = Math.min(y1, oy + side);
        const block = cells.blockAt(index, false);
        const pending = board.pendingPixels().filter((p) => p.x >= ax && p.x < ex && p.y >= ay && p.y < ey);
        const sx = Math.floor(ox / this.span);
        const sy = Math.floor(oy / this.span);
        // Where this tile sits in its canvas.
        const lx = ox - sx * this.span;
        const ly = oy - sy * this.span;
        if (!block && pending.length === 0) {
          this.tiles.get(sy * this.spanCols + sx)?.clearRect(lx + ax - ox, ly + ay - oy, ex - ax, ey - ay);
          continue;
        }
        for (let y = ay; y < ey; y++) {
          const o = (y - oy) * side;
          if (block) for (let i = o + ax - ox, end = o + ex - ox; i < end; i++) words[i] = lut[block[i] as number] ?? 0;
          else words.fill(0, o + ax - ox, o + ex - ox);
        }
        for (const p of pending) words[(p.y - oy) * side + (p.x - ox)] = lut[p.c] ?? 0;
        this.canvasAt(sx, sy).putImageData(image, lx, ly, ax - ox, ay - oy, ex - ax, ey - ay);
      }
    }
  }

  /** Rewrites the pixels a delta payload lists, one dirty rectangle per tile they fall in. */
  paintDelta(px: Uint8Array): void {
    const side = this.side;
    const boxes = new Map<number, { x0: number; y0: number; x1: number; y1: number }>();
    for (let o = 0; o + DELTA_RECORD_BYTES <= px.length; o += DELTA_RECORD_BYTES) {
      const x = (px[o] as number) | ((px[o + 1] as number) << 8);
      const y = (px[o + 2] as number) | ((px[o + 3] as number) << 8);
      if (!this.board.inBounds(x, y)) continue;
      const key = Math.floor(y / side) * this.board.cells.cols + Math.floor(x / side);
      const b = boxes.get(key);
      if (!b) boxes.set(key, { x0: x, y0: y, x1: x, y1: y });
      else {
        b.x0 = Math.min(b.x0, x);
        b.y0 = Math.min(b.y0, y);
        b.x1 = Math.max(b.x1, x);
        b.y1 = Math.max(b.y1, y);
      }
    }
    for (const b of boxes.values()) this.paint({ x: b.x0, y: b.y0, w: b.x1 - b.x0 + 1, h: b.y1 - b.y0 + 1 });
  }

  /** A level-0 tile left memory: its pixels go, and its canvas once no tile of it is loaded. */
  drop(rect: Region): void {
    const sx = Math.floor(rect.x / this.span);
    const sy = Math.floor(rect.y / this.span);
    const key = sy * this.spanCols + sx;
    const ctx = this.tiles.get(key);
    if (!ctx) return;
    ctx.clearRect(rect.x - sx * this.span, rect.y - sy * this.span, rect.w, rect.h);
    const { cells } = this.board;
    const per = this.span / cells.bw;
    for (let by = sy * per; by < Math.min(cells.rows, (sy + 1) * per); by++)
      for (let bx = sx * per; bx < Math.min(cells.cols, (sx + 1) * per); bx++)
        if (cells.blockAt(by * cells.cols + bx, false)) return;
    this.tiles.delete(key);
  }

  /** A pyramid tile arrived: its picture is made now (and dropped when the board drops the tile). */
  addPyramid(tile: PyramidTile): void {
    const canvas = document.createElement('canvas');
    canvas.width = tile.w;
    canvas.height = tile.h;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const image = ctx.createImageData(tile.w, tile.h);
    const words = new Uint32Array(image.data.buffer);
    for (let i = 0; i < tile.indices.length; i++) words[i] = this.lut[tile.indices[i] as number] ?? 0;
    ctx.putImageData(image, 0, 0);
    this.pyramid.set(tile, canvas);
    if (tile.level === this.board.pyramid?.maxLevel) this.topVersion++;
  }

  private canvasAt(sx: number, sy: number): CanvasRenderingContext2D {
    const key = sy * this.spanCols + sx;
    let ctx = this.tiles.get(key);
    if (!ctx) {
      const canvas = document.createElement('canvas');
      canvas.width = Math.min(this.span, this.board.width - sx * this.span);
      canvas.height = Math.min(this.span, this.board.height - sy * this.span);
      const made = canvas.getContext('2d');
      if (!made) throw new Error('2D canvas is not available');
      ctx = made;
      this.tiles.set(key, ctx);
    }
    return ctx;
  }

  /**
   * Draws the part of the board in `region` with board pixel (x, y) at (ox + x k, oy + y k) in the
   * context's units; `level` > 0: from that pyramid level, else from the level-0 tiles. What they do
   * not cover is drawn from the pyramid's top, and only that: drawing the top under the whole screen
   * as well cost a phone at 4x CPU throttle a fifth of its frame rate (perf/RESULTS.md). Edges are
   * snapped to device pixels so neighbouring tiles meet without a seam.
   */
  draw(
    ctx: CanvasRenderingContext2D,
    region: Region,
    ox: number,
    oy: number,
    k: number,
    dpr: number,
    level: number,
  ): void {
    const pyramid = this.board.pyramid;
    const top = pyramid && pyramid.maxLevel > 0 ? pyramid.maxLevel : null;
    const at = { ctx, ox, oy, k, dpr };
    if (level > 0 && top !== null && level >= top) return this.drawLevel(at, region, top, null);
    const missing: Region[] = [];
    if (level > 0) {
      this.drawLevel(at, region, level, missing);
      if (top !== null) for (const r of missing) this.drawLevel(at, r, top, null);
      return;
    }
    // The top under the level-0 tiles not loaded (transparent in their canvases), then the canvases.
    this.notLoaded(region, missing);
    if (top !== null) for (const r of missing) this.drawLevel(at, r, top, null);
    this.drawLevel0(at, region);
  }

  /** The level-0 tiles over `region` whose cells are not loaded, as board rectangles. */
  private notLoaded(region: Region, missing: Region[]): void {
    const { cells, width, height } = this.board;
    const side = cells.bw;
    for (let by = Math.floor(region.y / side); by * side < region.y + region.h; by++) {
      for (let bx = Math.floor(region.x / side); bx * side < region.x + region.w; bx++) {
        if (cells.blockAt(by * cells.cols + bx, false)) continue;
        const x0 = bx * side;
        const y0 = by * side;
        missing.push({ x: x0, y: y0, w: Math.min(side, width - x0), h: Math.min(side, height - y0) });
      }
    }
  }

  /** The canvases of level-0 tiles over `region`, only their part over it. */
  private drawLevel0(at: DrawAt, region: Region): void {
    const { span } = this;
    const rx1 = region.x + region.w;
    const ry1 = region.y + region.h;
    for (let sy = Math.floor(region.y / span); sy * span < ry1; sy++) {
      for (let sx = Math.floor(region.x / span); sx * span < rx1; sx++) {
        const t = this.tiles.get(sy * this.spanCols + sx);
        if (!t) continue;
        const x0 = Math.max(region.x, sx * span);
        const y0 = Math.max(region.y, sy * span);
        const x1 = Math.min(rx1, sx * span + t.canvas.width);
        const y1 = Math.min(ry1, sy * span + t.canvas.height);
        if (x1 > x0 && y1 > y0) blit(at, t.canvas, x0 - sx * span, y0 - sy * span, x1 - x0, y1 - y0, x0, y0, x1, y1);
      }
    }
  }

  /**
   * The pyramid tiles of `level` over `region`, each tile pixel a 2^level block; with `missing`, the
   * board rectangles of tiles not kept go there, else only the part of each tile over `region` is
   * drawn (whole source pixels: a pyramid pixel spans 2^level board pixels). Each tile is drawn on
   * its own, its first pixel at its own origin: its pixels are at most one device pixel (tile-region.ts
   * pyramidLevel), so nearest neighbour drops some, and a tile's first row and column always show.
   */
  private drawLevel(at: DrawAt, region: Region, level: number, missing: Region[] | null): void {
    const pyramid = this.board.pyramid;
    if (!pyramid) return;
    const { width, height } = this.board;
    const span = pyramid.tileSize * 2 ** level;
    const step = 2 ** level;
    for (let ty = Math.floor(region.y / span); ty * span < region.y + region.h; ty++) {
      for (let tx = Math.floor(region.x / span); tx * span < region.x + region.w; tx++) {
        const x0 = tx * span;
        const y0 = ty * span;
        const tile = pyramid.get(level, tx, ty);
        const canvas = tile && this.pyramid.get(tile);
        if (!tile || !canvas) {
          missing?.push({ x: x0, y: y0, w: Math.min(span, width - x0), h: Math.min(span, height - y0) });
          continue;
        }
        // The tile's pixels over the region (all of them when `missing` is collected: the region is the view).
        const sx0 = missing ? 0 : Math.max(0, Math.floor((region.x - x0) / step));
        const sy0 = missing ? 0 : Math.max(0, Math.floor((region.y - y0) / step));
        const sx1 = missing ? tile.w : Math.min(tile.w, Math.ceil((region.x + region.w - x0) / step));
        const sy1 = missing ? tile.h : Math.min(tile.h, Math.ceil((region.y + region.h - y0) / step));
        if (sx1 <= sx0 || sy1 <= sy0) continue;
        blit(
          at,
          canvas,
          sx0,
          sy0,
          sx1 - sx0,
          sy1 - sy0,
          x0 + sx0 * step,
          y0 + sy0 * step,
          x0 + sx1 * step,
          y0 + sy1 * step,
        );
      }
    }
  }

  /** Draws the whole board scaled to w x h at the origin (the minimap's copy): from the pyramid's top. */
  drawScaled(ctx: CanvasRenderingContext2D, w: number, h: number): void {
    const { board } = this;
    const all = { x: 0, y: 0, w: board.width, h: board.height };
    ctx.save();
    ctx.scale(1, h / board.height / (w / board.width));
    // A canvas of one tile has no pyramid: its level-0 tile.
    this.draw(ctx, all, 0, 0, w / board.width, 1, board.pyramid?.maxLevel ?? 0);
    ctx.restore();
  }
}
