/**
 * Rectangle maths of the console: the rectangle a drag between two board pixels selects (both corners
 * included, held to the canvas), its place on screen, and the view that shows it. Pure, unit tested.
 */
import type { Rect } from './answers.ts';

export interface Point {
  x: number;
  y: number;
}

/** The part of `r` inside a width x height canvas, or null when nothing of it is. */
export function clampRect(r: Rect, width: number, height: number): Rect | null {
  const x0 = Math.max(0, Math.floor(r.x));
  const y0 = Math.max(0, Math.floor(r.y));
  const x1 = Math.min(width, Math.floor(r.x) + Math.floor(r.width));
  const y1 = Math.min(height, Math.floor(r.y) + Math.floor(r.height));
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : null;
}

/**
 * The rectangle between two board points (fractional, as the pointer gives them) with both corner
 * pixels included, whichever way the drag went; held to the canvas.
 */
export function rectBetween(a: Point, b: Point, width: number, height: number): Rect | null {
  const x0 = Math.floor(Math.min(a.x, b.x));
  const y0 = Math.floor(Math.min(a.y, b.y));
  const x1 = Math.floor(Math.max(a.x, b.x));
  const y1 = Math.floor(Math.max(a.y, b.y));
  return clampRect({ x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 }, width, height);
}

export function wholeCanvas(width: number, height: number): Rect {
  return { x: 0, y: 0, width, height };
}

export function sameRect(a: Rect | null, b: Rect | null): boolean {
  return (
    a === b || (a !== null && b !== null && a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height)
  );
}

export function rectText(r: Rect): string {
  return `${r.width} × ${r.height} at (${r.x}, ${r.y})`;
}

/** The rectangle on screen (CSS px) under a view transform: board (bx, by) is at (bx * scale + ox, …). */
export function rectOnScreen(r: Rect, v: { scale: number; ox: number; oy: number }): Rect {
  return { x: r.x * v.scale + v.ox, y: r.y * v.scale + v.oy, width: r.width * v.scale, height: r.height * v.scale };
}

/**
 * The zoom that shows `r` with room around it in a viewport (a hot area clicked in the watch panel):
 * the rectangle fills at most 60% of the viewport, and is never zoomed past `maxScale`.
 */
export function scaleToShow(r: Rect, viewport: { w: number; h: number }, maxScale: number): number {
  const fill = 0.6;
  return Math.min(maxScale, (viewport.w * fill) / r.width, (viewport.h * fill) / r.height);
}

export function rectCentre(r: Rect): Point {
  return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
}

/**
 * The rectangle typed into the x, y, w, h fields, held to the canvas; null when a field is not a
 * whole number or nothing of it is on the canvas.
 */
export function rectFromFields(
  fields: Record<'x' | 'y' | 'width' | 'height', string>,
  width: number,
  height: number,
): Rect | null {
  const n = (v: string): number | null => (/^\s*\d+\s*$/.test(v) ? Number(v) : null);
  const [x, y, w, h] = [n(fields.x), n(fields.y), n(fields.width), n(fields.height)];
  if (x === null || y === null || w === null || h === null || w < 1 || h < 1) return null;
  return clampRect({ x, y, width: w, height: h }, width, height);
}
