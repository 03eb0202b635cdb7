/**
 * Draws the board into the on-screen <canvas>. The board lives in offscreen canvases (one board pixel
 * = one canvas pixel, in 1024 x 1024 tiles: board-tiles.ts); each frame scales the part on screen
 * with image smoothing off, so pixels stay crisp squares at every zoom. Only changed board pixels are
 * rewritten (putImageData with a dirty rectangle); a snapshot rewrites every tile, one per task. Over the
 * board: the template, grid lines at high zoom, the hover square and the reticle (overlays.ts). The
 * History view swaps in a past canvas (showPast, past-picture.ts: the whole board, or on a canvas over
 * 4096 a side the region in view) while the live board keeps updating behind it.
 * A tile-mode board (its cells in blocks, board/cells.ts) is drawn by chunked-picture.ts instead:
 * canvases only for the tiles loaded, and the pyramid's tiles when zoomed out, never a full-size image.
 */
import { DELTA_RECORD_BYTES } from '../../../protocol/delta.ts';
import type { Board } from '../board/board.ts';
import type { PyramidTile } from '../board/pyramid-cells.ts';
import { pyramidLevel } from '../tiles/tile-region.ts';
import type { PastCanvas } from '../history/history-region.ts';
import { ChunkedPicture } from './chunked-picture.ts';
import { PastPicture } from './past-picture.ts';
import { drawGrid, drawHover, drawMark, drawReticle, drawTemplate, type TemplateOverlay } from './overlays.ts';
import { maxContrastRows, overviewLevel, visibleSource } from './overview.ts';
import { BoardTiles, type Region, TILE } from './board-tiles.ts';
import type { BoardPicture } from './minimap.ts';
import { pixelWords } from './pixel-words.ts';
import type { Point, View } from './view.ts';

/**
 * The zoomed-out overview of the board (overview.ts) is rebuilt at most this often while the board
 * changes: a 4000 x 4000 rebuild reads 16 M pixels (~80 ms on a phone), fine once a second, not per
 * frame or per tick.
 */
const OVERVIEW_MS = 1000;
/**
 * Tiles (board-tiles.ts) copied from a snapshot per task (uploadTiles): with their first-write cost,
 * a 1024 x 1024 tile is 20-30 ms under a 4x CPU throttle (64 ms for the 4000 x 4000 board in one go).
 */
const UPLOAD_TILES = 1;
/** Longest task of an overview build: the build takes a few frames, and panning stays smooth meanwhile. */
const OVERVIEW_SLICE_MS = 30;

/** Colours that follow the page's theme (style.css, prefers-color-scheme): read from CSS variables. */
interface Theme {
  background: string;
  grid: string;
}

function readTheme(el: HTMLElement): Theme {
  const css = getComputedStyle(el);
  const v = (name: string, fallback: string): string => css.getPropertyValue(name).trim() || fallback;
  return { background: v('--stage-bg', '#1d1f24'), grid: v('--grid-line', 'rgba(128,128,128,0.45)') };
}

export class Renderer {
  private readonly ctx: CanvasRenderingContext2D;
  /** The board's pixels on canvases (board-tiles.ts), copied from `image`. */
  private tiles: BoardTiles | null = null;
  /** A tile-mode board's picture (instead of `tiles` and `image`). */
  private chunked: ChunkedPicture | null = null;
  private image: ImageData | null = null;
  private pixels: Uint32Array | null = null;
  /** The tiles hold a whole snapshot (uploadTiles has finished once for this board). */
  private uploaded = false;
  private uploadTimer: ReturnType<typeof setTimeout> | undefined;
  /** Palette index -> RGBA as one 32-bit word in the platform's byte order. */
  private lut = new Uint32Array(0);
  private hover: Point | null = null;
  private reticle: Point | null = null;
  private template: TemplateOverlay | null = null;
  private marks: readonly Point[] = [];
  /**
   * A past canvas (the History view) drawn instead of the live board, which keeps updating behind it;
   * where it covers only part of the board, the rest is the stage's background, never the live board.
   */
  private past: PastPicture | null = null;
  private frameRequested = false;
  private view: View | null = null;
  private theme: Theme;
  /**
   * Called after each frame with the board's pixels, the view and the board's version (bumped by every
   * change), so the minimap follows the main view and refreshes its own copy only when needed.
   */
  afterDraw: (board: BoardPicture | null, view: View | null, version: number) => void = () => {};
  private board: Board | null = null;
  /** Bumped whenever a board pixel is rewritten. */
  private version = 0;
  private overview: { level: number; version: number; builtAt: number; canvas: HTMLCanvasElement } | null = null;
  private overviewTimer: ReturnType<typeof setTimeout> | undefined;
  /** The overview build in progress (buildOverview), if any. */
  private overviewBuild: {
    board: Board;
    level: number;
    version: number;
    timer: ReturnType<typeof setTimeout> | undefined;
  } | null = null;

  constructor(private readonly display: HTMLCanvasElement) {
    const ctx = display.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('2D canvas is not available');
    this.ctx = ctx;
    this.theme = readTheme(display);
    // Light and dark follow the system, also when it switches while the page is open.
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
      this.theme = readTheme(display);
      this.requestDraw();
    });
  }

  /**
   * (Re)creates the offscreen board for a new canvas size or palette. Nothing of it is drawn until its
   * first snapshot (paintAll): painting the unknown board blank, and building its overview, were two
   * more long tasks on a phone loading a 4000 x 4000 canvas (0.6 s and 0.24 s at a 4x CPU throttle).
   */
  setBoard(board: Board, view: View): void {
    this.view = view;
    this.board = board;
    this.overview = null;
    clearTimeout(this.overviewBuild?.timer);
    this.overviewBuild = null;
    this.past = null; // a past canvas of the previous board would not fit this one
    this.lut = pixelWords(board.palette);
    this.chunked = board.cells.chunked ? new ChunkedPicture(board, this.lut) : null;
    this.tiles = this.chunked ? null : new BoardTiles(board.width, board.height);
    this.image = null;
    this.pixels = null;
    this.uploaded = false;
    clearTimeout(this.uploadTimer);
    this.uploadTimer = undefined;
    this.requestDraw();
  }

  /**
   * Rewrites every board pixel (after a snapshot). `snapshot`: the grid already as pixel words (the
   * decoder worker made them), taken over as the board's pixels instead of converting 16 M indices
   * here.
   */
  paintAll(board: Board, snapshot?: Uint32Array<ArrayBuffer>): void {
    const { lut } = this;
    const grid = board.cells.single;
    if (board !== this.board || !grid) return;
    let image: ImageData;
    let pixels: Uint32Array;
    if (snapshot?.length === board.width * board.height) {
      image = new ImageData(
        new Uint8ClampedArray(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength),
        board.width,
      );
      pixels = snapshot;
    } else {
      image = this.image ?? new ImageData(board.width, board.height);
      pixels = this.pixels ?? new Uint32Array(image.data.buffer);
      for (let i = 0; i < grid.length; i++) pixels[i] = lut[grid[i] as number] ?? 0;
    }
    this.image = image;
    this.pixels = pixels;
    for (const p of board.pendingPixels()) pixels[p.y * board.width + p.x] = lut[p.c] ?? 0;
    this.version++;
    this.uploadTiles(board, image, 0);
  }

  /**
   * Copies the board's pixels into its tiles from tile `from` on, UPLOAD_TILES per task. Pixels
   * painted meanwhile (paintDelta, paintPixel) go into `image` first, so the copy stays right.
   */
  private uploadTiles(board: Board, image: ImageData, from: number): void {
    clearTimeout(this.uploadTimer);
    this.uploadTimer = undefined;
    const tiles = this.tiles;
    if (!tiles || board !== this.board || image !== this.image) return; // a newer board or snapshot took over
    const to = Math.min(tiles.count, from + UPLOAD_TILES);
    for (let i = from; i < to; i++) tiles.putTile(image, i);
    if (to < tiles.count) {
      this.uploadTimer = setTimeout(() => this.uploadTiles(board, image, to), 0);
      return;
    }
    this.uploaded = true;
    this.version++;
    this.requestDraw();
  }

  /**
   * Rewrites the board pixels of `rect` (a tile arrived, tiles/tile-sync.ts). The board's pixels are
   * made on the first call; what no tile has written yet stays transparent (the backing shows).
   */
  paintRect(board: Board, rect: Region): void {
    if (this.chunked && board === this.board) {
      this.chunked.paint(rect);
      return this.changed();
    }
    if (rect.w * rect.h <= TILE * TILE) return this.paintPart(board, rect);
    // A pyramid tile can cover the whole canvas (16 M cells at 4096 x 4096): one TILE x TILE part per
    // task, as uploadTiles does for a snapshot. Each part reads the grid when it runs.
    const parts: Region[] = [];
    for (let y = rect.y; y < rect.y + rect.h; y += TILE)
      for (let x = rect.x; x < rect.x + rect.w; x += TILE)
        parts.push({ x, y, w: Math.min(TILE, rect.x + rect.w - x), h: Math.min(TILE, rect.y + rect.h - y) });
    const next = (): void => {
      const part = parts.shift();
      if (!part || board !== this.board) return;
      this.paintPart(board, part);
      if (parts.length > 0) setTimeout(next, 0);
    };
    next();
  }

  private paintPart(board: Board, rect: Region): void {
    const { tiles, lut } = this;
    const grid = board.cells.single;
    if (board !== this.board || !tiles || !grid) return;
    const image = this.image ?? new ImageData(board.width, board.height);
    const pixels = this.pixels ?? new Uint32Array(image.data.buffer);
    this.image = image;
    this.pixels = pixels;
    const x1 = Math.min(board.width, rect.x + rect.w);
    const y1 = Math.min(board.height, rect.y + rect.h);
    for (let y = Math.max(0, rect.y); y < y1; y++) {
      for (let i = y * board.width + Math.max(0, rect.x), end = y * board.width + x1; i < end; i++)
        pixels[i] = lut[grid[i] as number] ?? 0;
    }
    for (const p of board.pendingPixels()) {
      if (p.x >= rect.x && p.x < x1 && p.y >= rect.y && p.y < y1) pixels[p.y * board.width + p.x] = lut[p.c] ?? 0;
    }
    tiles.put(image, rect.x, rect.y, x1, y1);
    this.uploaded = true;
    this.version++;
    this.requestDraw();
  }

  /** A level-0 tile left memory (tiles/tile-sync.ts): its picture goes too. */
  dropRect(board: Board, rect: Region): void {
    if (board === this.board) this.chunked?.drop(rect);
    this.requestDraw();
  }

  /** A pyramid tile arrived (tile mode): drawn when zoomed out, its top under everything and in the minimap. */
  paintPyramid(board: Board, tile: PyramidTile): void {
    if (board !== this.board || !this.chunked) return;
    this.chunked.addPyramid(tile);
    this.changed();
  }

  private changed(): void {
    this.uploaded = true;
    this.version++;
    this.requestDraw();
  }

  /** Rewrites one board pixel with what the board shows there now. */
  paintPixel(board: Board, x: number, y: number): void {
    if (this.chunked && board === this.board) {
      if (board.inBounds(x, y)) this.chunked.paint({ x, y, w: 1, h: 1 });
      return this.changed();
    }
    const { pixels, image, tiles } = this;
    if (!pixels || !image || !tiles || !board.inBounds(x, y)) return;
    pixels[y * board.width + x] = this.lut[board.colourAt(x, y)] ?? 0;
    tiles.put(image, x, y, x + 1, y + 1);
    this.version++;
    this.requestDraw();
  }

  /**
   * Rewrites the pixels listed in a delta payload (already applied to the board), uploading only
   * their bounding box: a tick usually touches a few hundred pixels, not the whole canvas.
   */
  paintDelta(board: Board, px: Uint8Array): void {
    if (this.chunked && board === this.board) {
      this.chunked.paintDelta(px);
      return this.changed();
    }
    const { pixels, image, tiles } = this;
    if (!pixels || !image || !tiles || px.length < DELTA_RECORD_BYTES) return;
    let x0 = board.width;
    let y0 = board.height;
    let x1 = -1;
    let y1 = -1;
    for (let o = 0; o + DELTA_RECORD_BYTES <= px.length; o += DELTA_RECORD_BYTES) {
      const x = (px[o] as number) | ((px[o + 1] as number) << 8);
      const y = (px[o + 2] as number) | ((px[o + 3] as number) << 8);
      if (!board.inBounds(x, y)) continue;
      pixels[y * board.width + x] = this.lut[board.colourAt(x, y)] ?? 0;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
    if (x1 < 0) return;
    tiles.put(image, x0, y0, x1 + 1, y1 + 1);
    this.version++;
    this.requestDraw();
  }

  /**
   * Shows a past canvas (palette indices of a rectangle of the board: all of it, or the region in view
   * on a canvas over 4096 a side) instead of the board; null: live again.
   */
  showPast(past: PastCanvas | null): void {
    const board = this.board;
    this.past =
      past && board && past.indices.length === past.width * past.height ? new PastPicture(past, this.lut, board) : null;
    this.requestDraw();
  }

  setHover(pixel: Point | null): void {
    if (pixel?.x === this.hover?.x && pixel?.y === this.hover?.y) return;
    this.hover = pixel;
    this.requestDraw();
  }

  /** Where the next confirm or Enter places (touch and keyboard aiming), or null. */
  setReticle(pixel: Point | null): void {
    if (pixel?.x === this.reticle?.x && pixel?.y === this.reticle?.y) return;
    this.reticle = pixel;
    this.requestDraw();
  }

  /** Pixels to mark (the open project's griefs); `data-marks` on the canvas says how many. */
  setMarks(marks: readonly Point[]): void {
    this.marks = marks;
    this.display.dataset['marks'] = String(marks.length);
    this.requestDraw();
  }

  setTemplate(template: TemplateOverlay | null): void {
    this.template = template;
    this.requestDraw();
  }

  /** Coalesces any number of changes into one draw per animation frame. */
  requestDraw(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.draw();
    });
  }

  private draw(): void {
    const { ctx, display, view } = this;
    // A board whose first snapshot has not arrived has nothing to show yet (setBoard).
    const { past } = this;
    const chunked = past ? null : this.chunked;
    const boardTiles = past ? null : this.uploaded ? this.tiles : null;
    const dpr = window.devicePixelRatio || 1;
    const cssW = display.clientWidth;
    const cssH = display.clientHeight;
    // Backing store in device pixels, so a zoomed board pixel maps to whole device pixels on HiDPI.
    const w = Math.max(1, Math.round(cssW * dpr));
    const h = Math.max(1, Math.round(cssH * dpr));
    if (display.width !== w || display.height !== h) {
      display.width = w;
      display.height = h;
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = this.theme.background;
    ctx.fillRect(0, 0, w, h);
    if (view && (past || boardTiles || (chunked && this.uploaded))) {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.imageSmoothingEnabled = false; // crisp pixels: nearest neighbour, never bilinear blur
      const bw = view.boardW * view.scale;
      const bh = view.boardH * view.scale;
      // The shadowed backing only where it can show: a zoomed-in 4000 px board is a rectangle of
      // 32,000 px a side, and blurring its shadow cost a phone most of each frame. A past region
      // has it under the region only: the rest of the board is not known at that seq.
      const sheet = past?.rect ?? { x: 0, y: 0, w: view.boardW, h: view.boardH };
      const x0 = Math.max(view.ox + sheet.x * view.scale, -24);
      const y0 = Math.max(view.oy + sheet.y * view.scale, -24);
      const x1 = Math.min(view.ox + (sheet.x + sheet.w) * view.scale, cssW + 24);
      const y1 = Math.min(view.oy + (sheet.y + sheet.h) * view.scale, cssH + 24);
      ctx.shadowColor = 'rgba(0,0,0,0.5)';
      ctx.shadowBlur = 12;
      ctx.fillStyle = '#fff';
      if (x1 > x0 && y1 > y0) ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
      ctx.shadowBlur = 0;
      const overview = past || chunked ? null : this.overviewFor(overviewLevel(view.scale * dpr));
      if (past) {
        past.draw(ctx, visibleSource(view), view.ox, view.oy, view.scale, dpr);
      } else if (chunked && this.board?.pyramid) {
        // Tile mode: the level tile sync loads for this view (the pyramid's, zoomed out).
        const { width, height } = this.board;
        const { tileSize, maxLevel } = this.board.pyramid;
        const level = pyramidLevel({ width, height, tileSize, maxLevel }, visibleSource(view), view.scale * dpr);
        chunked.draw(ctx, visibleSource(view), view.ox, view.oy, view.scale, dpr, level);
      } else if (overview) {
        ctx.drawImage(overview, view.ox, view.oy, bw, bh);
      } else {
        // Only the canvas pixels on screen: scaling the whole board each frame is what made a big
        // canvas slow to pan (perf/RESULTS.md, "Browser client: panning a big canvas").
        boardTiles?.draw(ctx, visibleSource(view), view.ox, view.oy, view.scale, dpr);
      }
      if (this.template) drawTemplate(ctx, view, this.template);
      drawGrid(ctx, view, this.theme.grid, dpr);
      for (const m of this.marks) drawMark(ctx, view, m);
      if (this.hover) drawHover(ctx, view, this.hover);
      if (this.reticle) drawReticle(ctx, view, this.reticle);
    }
    // The minimap's copy is the pyramid's top: remade when it changed (a canvas of one tile has none).
    if (chunked)
      this.afterDraw(
        this.uploaded ? chunked : null,
        view,
        this.board?.pyramid?.maxLevel ? chunked.topVersion : this.version,
      );
    else this.afterDraw(past ?? boardTiles, view, past ? -1 : this.version);
  }

  /**
   * Below one device pixel per canvas pixel: the board downscaled `level` times, each pixel its
   * block's most contrasting colour (overview.ts), so lone pixels stay visible. Built a few rows per
   * task (buildOverview); null (draw the board) until the first build for a level is done, and at
   * level 1. Rebuilt for board changes at most every OVERVIEW_MS.
   */
  private overviewFor(level: number): HTMLCanvasElement | null {
    const board = this.board;
    if (level <= 1 || !board?.cells.single) return null;
    const now = performance.now();
    const o = this.overview?.level === level ? this.overview : null;
    if (o && o.version === this.version) return o.canvas;
    if (o && now - o.builtAt < OVERVIEW_MS) {
      // Changed too soon after the last build: show that one, and build again when it is due.
      if (this.overviewTimer === undefined) {
        this.overviewTimer = setTimeout(
          () => {
            this.overviewTimer = undefined;
            this.requestDraw();
          },
          OVERVIEW_MS - (now - o.builtAt),
        );
      }
      return o.canvas;
    }
    if (this.overviewBuild?.level !== level || this.overviewBuild.board !== board) this.buildOverview(board, level);
    // Nothing at this level yet: the board itself, scaled down (nearest neighbour), until the build is done.
    return o?.canvas ?? null;
  }

  /**
   * Builds the overview at `level` in slices of at most OVERVIEW_SLICE_MS, one task each, replacing
   * any build in progress. maxContrastDownscale over a 4000 x 4000 board in one go was a 0.4-1 s task
   * under a 4x CPU throttle (perf/RESULTS.md, "loading a big canvas"). Pixels that change meanwhile
   * leave the result a little stale; the version taken at the start makes the next frame ask again.
   */
  private buildOverview(board: Board, level: number): void {
    clearTimeout(this.overviewBuild?.timer);
    const width = Math.ceil(board.width / level);
    const height = Math.ceil(board.height / level);
    const out = new Uint32Array(width * height);
    const grid = board.cells.single;
    if (!grid) return;
    const build = {
      board,
      level,
      version: this.version,
      timer: undefined as ReturnType<typeof setTimeout> | undefined,
    };
    this.overviewBuild = build;
    let row = 0;
    const slice = (): void => {
      if (this.overviewBuild !== build) return;
      const until = performance.now() + OVERVIEW_SLICE_MS;
      while (row < height && performance.now() < until) {
        maxContrastRows(grid, board.width, board.height, level, board.palette, this.lut, out, row, row + 1);
        row++;
      }
      if (row < height) {
        build.timer = setTimeout(slice, 0);
        return;
      }
      this.overviewBuild = null;
      const canvas = pixelsCanvas(width, height, out);
      this.overview = { level, version: build.version, builtAt: performance.now(), canvas };
      this.requestDraw();
    };
    build.timer = setTimeout(slice, 0);
  }
}

/** A canvas showing these pixel words. */
function pixelsCanvas(width: number, height: number, pixels: Uint32Array): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (ctx) {
    const image = ctx.createImageData(width, height);
    new Uint32Array(image.data.buffer).set(pixels);
    ctx.putImageData(image, 0, 0);
  }
  return canvas;
}
