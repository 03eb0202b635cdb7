/**
 * The minimap: while zoomed in (part of the canvas off screen), a small copy of the whole canvas in a
 * corner with the part on screen outlined, so it is clear where the view is. Drawn after each main
 * frame from the same offscreen board canvas (no second copy of the pixels). The layout maths is pure
 * and unit tested.
 */
import type { View } from './view.ts';

/** Largest minimap side in CSS pixels; a phone gets a smaller one. */
const MAX_SIDE = 160;
const MAX_SIDE_NARROW = 110;

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

export class Minimap {
  private readonly ctx: CanvasRenderingContext2D;

  constructor(private readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('2D canvas is not available');
    this.ctx = ctx;
  }

  draw(board: HTMLCanvasElement | null, view: View | null): void {
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
    ctx.drawImage(board, 0, 0, w, h);
    const k = w / view.boardW;
    const r = layout.view;
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
    this.canvas.dataset['view'] = [r.x, r.y, r.w, r.h].map((v) => Math.round(v)).join(',');
  }
}
