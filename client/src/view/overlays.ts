/**
 * What the renderer draws over the board, in screen space (CSS pixels, after the devicePixelRatio
 * transform): the template image, grid lines, and pixel outlines (the hover square, and the reticle
 * that touch and keyboard aiming place on). Image smoothing stays off, so the template is as crisp as
 * the board at every zoom.
 */
import type { Point, View } from './view.ts';

export interface TemplateOverlay {
  image: CanvasImageSource;
  /** Top-left canvas pixel and size in canvas pixels. */
  x: number;
  y: number;
  w: number;
  h: number;
  opacity: number;
}

export function drawTemplate(ctx: CanvasRenderingContext2D, view: View, t: TemplateOverlay): void {
  if (t.opacity <= 0 || t.w <= 0 || t.h <= 0) return;
  const p = view.boardToScreen({ x: t.x, y: t.y });
  ctx.save();
  // Only over the canvas: a template hanging over an edge must not look placeable beyond it.
  ctx.beginPath();
  ctx.rect(view.ox, view.oy, view.boardW * view.scale, view.boardH * view.scale);
  ctx.clip();
  ctx.globalAlpha = t.opacity;
  ctx.imageSmoothingEnabled = false; // nearest neighbour: template pixels are squares like the board's
  ctx.drawImage(t.image, p.x, p.y, t.w * view.scale, t.h * view.scale);
  ctx.restore();
}

/** Zoom (CSS px per canvas pixel) from which grid lines are drawn: below it they would hide the art. */
export const GRID_MIN_SCALE = 8;

/**
 * Lines one device pixel wide between canvas pixels, only over the visible part of the board. Filled
 * rectangles on whole device pixels rather than stroked paths: a stroke straddles the boundary and,
 * antialiased, would tint both neighbouring pixels' edges.
 */
export function drawGrid(ctx: CanvasRenderingContext2D, view: View, colour: string, dpr: number): void {
  if (view.scale < GRID_MIN_SCALE) return;
  const { w, h } = view.viewport;
  const from = view.screenToBoard({ x: 0, y: 0 });
  const to = view.screenToBoard({ x: w, y: h });
  const x0 = Math.max(0, Math.ceil(from.x));
  const x1 = Math.min(view.boardW, Math.floor(to.x));
  const y0 = Math.max(0, Math.ceil(from.y));
  const y1 = Math.min(view.boardH, Math.floor(to.y));
  const top = Math.max(0, view.oy) * dpr;
  const bottom = Math.min(h, view.oy + view.boardH * view.scale) * dpr;
  const left = Math.max(0, view.ox) * dpr;
  const right = Math.min(w, view.ox + view.boardW * view.scale) * dpr;
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0); // device pixels
  ctx.fillStyle = colour;
  for (let x = x0; x <= x1; x++) ctx.fillRect(Math.floor((x * view.scale + view.ox) * dpr), top, 1, bottom - top);
  for (let y = y0; y <= y1; y++) ctx.fillRect(left, Math.floor((y * view.scale + view.oy) * dpr), right - left, 1);
  ctx.restore();
}

/** The hover square: a thin dark and light double line, once pixels are big enough to aim at. */
export function drawHover(ctx: CanvasRenderingContext2D, view: View, pixel: Point): void {
  if (view.scale < 4) return;
  const p = view.boardToScreen(pixel);
  ctx.lineWidth = Math.max(1, Math.min(3, view.scale / 10));
  ctx.strokeStyle = 'rgba(0,0,0,0.85)';
  ctx.strokeRect(p.x, p.y, view.scale, view.scale);
  ctx.strokeStyle = 'rgba(255,255,255,0.9)';
  const lw = ctx.lineWidth;
  ctx.strokeRect(p.x - lw, p.y - lw, view.scale + 2 * lw, view.scale + 2 * lw);
}

/**
 * The reticle: where a confirm (touch) or Enter (keyboard) will place. Bolder than the hover square and
 * never smaller than 12 CSS px, so it stays visible when zoomed out.
 */
export function drawReticle(ctx: CanvasRenderingContext2D, view: View, pixel: Point): void {
  const c = view.pixelCentre(pixel.x, pixel.y);
  const size = Math.max(12, view.scale);
  const x = c.x - size / 2;
  const y = c.y - size / 2;
  ctx.save();
  ctx.lineWidth = 3;
  ctx.strokeStyle = '#000';
  ctx.strokeRect(x - 2.5, y - 2.5, size + 5, size + 5);
  ctx.lineWidth = 2;
  ctx.strokeStyle = '#fff';
  ctx.strokeRect(x - 1, y - 1, size + 2, size + 2);
  ctx.restore();
}

/** A marked pixel (a project's grief): a red square around it, never smaller than 8 CSS px. */
export function drawMark(ctx: CanvasRenderingContext2D, view: View, pixel: Point): void {
  const p = view.boardToScreen(pixel);
  const size = Math.max(8, view.scale);
  const pad = (size - view.scale) / 2;
  ctx.lineWidth = 2;
  ctx.strokeStyle = 'rgba(230,20,20,0.95)';
  ctx.strokeRect(p.x - pad - 1, p.y - pad - 1, size + 2, size + 2);
}
