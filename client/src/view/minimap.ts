/**
 * The minimap: while zoomed in (part of the canvas off screen), a small copy of the whole canvas in a
 * corner with the part on screen outlined, so it is clear where the view is. The small copy is made
 * from the offscreen board canvas at most once a second while the board changes, not every frame:
 * scaling a 4000 x 4000 board down each frame was most of a phone's frame while panning. The outline
 * never shrinks below a few pixels, so it shows on a big canvas too. The layout maths is pure and unit
 * tested.
 */
import type { View } from './view.ts';

/** Largest minimap side in CSS pixels; a phone gets a smaller one. */
const MAX_SIDE = 160;
const MAX_SIDE_NARROW = 110;
/** The small copy follows board changes at most this often. */
const REFRESH_MS = 1000;
/** Smallest side of the outline in CSS pixels: a 30-pixel view of a 4000-pixel canvas is under one. */
const MIN_OUTLINE = 8;

/** The outline rectangle (minimap pixels), grown about its centre to at least `min` a side. */
export function outlineRect(
  r: { x: number; y: number; w: number; h: number },
  k: number,
  min: number,
): { x: number; y: number; w: number; h: number } {
  const w = Math.max(min, r.w * k);
  const h = Math.max(min, r.h * k);
  return { x: (r.x + r.w / 2) * k - w / 2, y: (r.y + r.h / 2) * k - h / 2, w, h };
}

export interface MinimapLayout {
  /** Size of the minimap in CSS pixels. */
  w: number;
  h: number;
  /** The part of the canvas on screen, in canvas pixels, clamped to the canvas. */
  view: { x: number; y: number; w: number; h: number };
}

/** Null while the whole canvas is on screen (no minimap needed). */
export function minimapLayout(view: View, maxSide: number): MinimapLayout | null {
  const { w, h } = view.viewport;
  const from = view.screenToBoard({ x: 0, y: 0 });
  const to = view.screenToBoard({ x: w, y: h });
  const x0 = Math.max(0, from.x);
  const y0 = Math.max(0, from.y);
  const x1 = Math.min(view.boardW, to.x);
  const y1 = Math.min(view.boardH, to.y);
  // A hair of tolerance: at "fit" rounding must not flash the minimap on.
  const all = x0 <= 0.01 && y0 <= 0.01 && x1 >= view.boardW - 0.01 && y1 >= view.boardH - 0.01;
  if (all) return null;
  const k = maxSide / Math.max(view.boardW, view.boardH);
  return {
    w: Math.max(1, Math.round(view.boardW * k)),
    h: Math.max(1, Math.round(view.boardH * k)),
    view: { x: x0, y: y0, w: Math.max(0, x1 - x0), h: Math.max(0, y1 - y0) },
  };
}

/** The board's pixels, as the renderer keeps them (board-tiles.ts). */
export interface BoardPicture {
  /** Draws the whole board scaled to w x h at the origin. */
  drawScaled(ctx: CanvasRenderingContext2D, w: number, h: number): void;
}

export class Minimap {
  private readonly ctx: CanvasRenderingContext2D;
  private readonly thumb = document.createElement('canvas');
  private thumbOf: { board: BoardPicture; version: number; at: number } | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Asks for a frame (to show a refresh that was not due yet). */
  redraw: () => void = () => {};

  constructor(private readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('2D canvas is not available');
    this.ctx = ctx;
  }

  draw(board: BoardPicture | null, view: View | null, version = 0): void {
    const narrow = view !== null && view.viewport.w < 600;
    const layout = board && view ? minimapLayout(view, narrow ? MAX_SIDE_NARROW : MAX_SIDE) : null;
    this.canvas.hidden = layout === null;
    if (!layout || !board || !view) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(layout.w * dpr);
    const h = Math.round(layout.h * dpr);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.canvas.style.width = `${layout.w}px`;
      this.canvas.style.height = `${layout.h}px`;
    }
    const { ctx } = this;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.thumbnail(board, version, w, h), 0, 0, w, h);
    const k = w / view.boardW;
    const r = outlineRect(layout.view, k, MIN_OUTLINE * dpr);
    // Dark then light: the outline shows on any art.
    ctx.lineWidth = Math.max(1, dpr);
    ctx.strokeStyle = 'rgba(0,0,0,0.9)';
    ctx.strokeRect(r.x * k, r.y * k, r.w * k, r.h * k);
    ctx.strokeStyle = 'rgba(255,255,255,0.95)';
    ctx.strokeRect(
      r.x * k + ctx.lineWidth,
      r.y * k + ctx.lineWidth,
      r.w * k - 2 * ctx.lineWidth,
      r.h * k - 2 * ctx.lineWidth,
    );
    const v = layout.view;
    this.canvas.dataset['view'] = [v.x, v.y, v.w, v.h].map((n) => Math.round(n)).join(',');
  }

  /** The board scaled to w x h, made again when the board changed and the last copy is old enough. */
  private thumbnail(board: BoardPicture, version: number, w: number, h: number): HTMLCanvasElement {
    const now = performance.now();
    const t = this.thumbOf;
    const fresh = t !== null && t.board === board && this.thumb.width === w && this.thumb.height === h;
    if (fresh && t.version === version) return this.thumb;
    if (fresh && now - t.at < REFRESH_MS) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.redraw();
      }, REFRESH_MS);
      return this.thumb;
    }
    this.thumb.width = w;
    this.thumb.height = h;
    const ctx = this.thumb.getContext('2d');
    if (ctx) {
      ctx.imageSmoothingEnabled = false;
      board.drawScaled(ctx, w, h);
    }
    this.thumbOf = { board, version, at: now };
    return this.thumb;
  }
}
