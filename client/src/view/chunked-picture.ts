/**
 * The picture of a tile-mode board (board/cells.ts chunked): one 2D canvas per loaded level-0 tile,
 * made on its first write and dropped with the tile, and the pyramid tiles (board/pyramid-cells.ts)
 * as small canvases drawn scaled. No full-size ImageData: at 16,384 x 16,384 that was 1 GiB (4 bytes a
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
import type { Region } from './board-tiles.ts';

export class ChunkedPicture {
  /** Canvases of loaded level-0 tiles, by block index. */
  private readonly tiles = new Map<number, CanvasRenderingContext2D>();
  /** Canvases of the pyramid tiles the board keeps (dropped with them: weakly held). */
  private readonly pyramid = new WeakMap<PyramidTile, HTMLCanvasElement>();
  private scratch: ImageData | null = null;
  private scratchWords: Uint32Array | null = null;
  /** Bumped when the pyramid's top changes (the minimap's copy is made from it). */
  topVersion = 0;

  constructor(
    private readonly board: Board,
    private readonly lut: Uint32Array,
  ) {}

  /** Canvases of level-0 tiles alive (for tests and the memory benchmark). */
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
        if (!block && pending.length === 0) {
          this.tiles.get(index)?.clearRect(ax - ox, ay - oy, ex - ax, ey - ay);
          continue;
        }
        for (let y = ay; y < ey; y++) {
          const o = (y - oy) * side;
          if (block) for (let i = o + ax - ox, end = o + ex - ox; i < end; i++) words[i] = lut[block[i] as number] ?? 0;
          else words.fill(0, o + ax - ox, o + ex - ox);
        }
        for (const p of pending) words[(p.y - oy) * side + (p.x - ox)] = lut[p.c] ?? 0;
        this.tile(index, ox, oy).putImageData(image, 0, 0, ax - ox, ay - oy, ex - ax, ey - ay);
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

  /** A level-0 tile left memory: its canvas goes too. */
  drop(rect: Region): void {
    const side = this.side;
    this.tiles.delete(Math.floor(rect.y / side) * this.board.cells.cols + Math.floor(rect.x / side));
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

  private tile(index: number, ox: number, oy: number): CanvasRenderingContext2D {
    let ctx = this.tiles.get(index);
    if (!ctx) {
      const canvas = document.createElement('canvas');
      canvas.width = Math.min(this.side, this.board.width - ox);
      canvas.height = Math.min(this.side, this.board.height - oy);
      const made = canvas.getContext('2d');
      if (!made) throw new Error('2D canvas is not available');
      ctx = made;
      this.tiles.set(index, ctx);
    }
    return ctx;
  }

  /**
   * Draws the part of the board in `region` with board pixel (x, y) at (ox + x k, oy + y k) in the
   * context's units; `level` > 0: from that pyramid level, else from the level-0 tiles. Edges are
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
    if (pyramid && pyramid.maxLevel > 0) this.drawLevel(ctx, region, ox, oy, k, dpr, pyramid.maxLevel);
    if (level > 0) {
      if (pyramid && level < pyramid.maxLevel) this.drawLevel(ctx, region, ox, oy, k, dpr, level);
      return;
    }
    const side = this.side;
    const snap = (v: number): number => Math.round(v * dpr) / dpr;
    const cols = this.board.cells.cols;
    const rx1 = region.x + region.w;
    const ry1 = region.y + region.h;
    for (let by = Math.floor(region.y / side); by * side < ry1; by++) {
      for (let bx = Math.floor(region.x / side); bx * side < rx1; bx++) {
        const t = this.tiles.get(by * cols + bx);
        if (!t) continue;
        const x0 = Math.max(region.x, bx * side);
        const y0 = Math.max(region.y, by * side);
        const x1 = Math.min(rx1, bx * side + t.canvas.width);
        const y1 = Math.min(ry1, by * side + t.canvas.height);
        if (x1 <= x0 || y1 <= y0) continue;
        const dx = snap(ox + x0 * k);
        const dy = snap(oy + y0 * k);
        ctx.drawImage(
          t.canvas,
          x0 - bx * side,
          y0 - by * side,
          x1 - x0,
          y1 - y0,
          dx,
          dy,
          snap(ox + x1 * k) - dx,
          snap(oy + y1 * k) - dy,
        );
      }
    }
  }

  /** The pyramid tiles of `level` over `region`, each tile pixel a 2^level block. */
  private drawLevel(
    ctx: CanvasRenderingContext2D,
    region: Region,
    ox: number,
    oy: number,
    k: number,
    dpr: number,
    level: number,
  ): void {
    const pyramid = this.board.pyramid;
    if (!pyramid) return;
    const snap = (v: number): number => Math.round(v * dpr) / dpr;
    const span = pyramid.tileSize * 2 ** level;
    const step = 2 ** level;
    for (let ty = Math.floor(region.y / span); ty * span < region.y + region.h; ty++) {
      for (let tx = Math.floor(region.x / span); tx * span < region.x + region.w; tx++) {
        const tile = pyramid.get(level, tx, ty);
        const canvas = tile && this.pyramid.get(tile);
        if (!tile || !canvas) continue;
        const x0 = tx * span;
        const y0 = ty * span;
        const dx = snap(ox + x0 * k);
        const dy = snap(oy + y0 * k);
        ctx.drawImage(
          canvas,
          dx,
          dy,
          snap(ox + (x0 + tile.w * step) * k) - dx,
          snap(oy + (y0 + tile.h * step) * k) - dy,
        );
      }
    }
  }

  /** Draws the whole board scaled to w x h at the origin (the minimap's copy): from the pyramid's top. */
  drawScaled(ctx: CanvasRenderingContext2D, w: number, h: number): void {
    const { board } = this;
    const top = board.pyramid?.maxLevel ?? 0;
    const kx = w / board.width;
    const ky = h / board.height;
    const all = { x: 0, y: 0, w: board.width, h: board.height };
    if (top > 0 && board.pyramid?.get(top, 0, 0)) {
      const tile = board.pyramid.get(top, 0, 0);
      const canvas = tile && this.pyramid.get(tile);
      if (tile && canvas) ctx.drawImage(canvas, 0, 0, tile.w * 2 ** top * kx, tile.h * 2 ** top * ky);
      return;
    }
    // A canvas of one tile (no pyramid): its level-0 tile.
    ctx.save();
    ctx.scale(1, ky / kx);
    this.draw(ctx, all, 0, 0, kx, 1, 0);
    ctx.restore();
  }
}
