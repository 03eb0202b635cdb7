/**
 * The view transform: where the board sits on the screen. Pure (no DOM), so pan/zoom maths is unit
 * tested in Node. A board pixel (bx, by) is drawn at screen point (bx * scale + ox, by * scale + oy),
 * in CSS pixels relative to the viewport element.
 */

/**
 * Below this zoom (CSS px per board pixel) a click cannot hit the pixel it aims at (a 1000 x 1000
 * canvas fits a laptop screen at about 0.6), so a click zooms in there instead of placing.
 */
export const PLACE_MIN_SCALE = 3;
/** The zoom a click below PLACE_MIN_SCALE zooms to. */
export const PLACE_ZOOM_SCALE = 10;

export interface Point {
  x: number;
  y: number;
}

/** Largest zoom: one board pixel covers this many CSS pixels. */
export const MAX_SCALE = 64;
/** Smallest zoom relative to "whole board fits": a bit smaller so the edges can be seen. */
const MIN_FIT_FRACTION = 0.5;
/** The board may be dragged out of view only until this many CSS pixels of it remain visible. */
const KEEP_VISIBLE = 48;
/** Free space left around the board by `fit`. */
const FIT_MARGIN = 0.94;

export class View {
  scale = 1;
  ox = 0;
  oy = 0;
  private viewportW: number;
  private viewportH: number;

  constructor(
    readonly boardW: number,
    readonly boardH: number,
    viewportW: number,
    viewportH: number,
  ) {
    this.viewportW = Math.max(1, viewportW);
    this.viewportH = Math.max(1, viewportH);
    this.fit();
  }

  get viewport(): { w: number; h: number } {
    return { w: this.viewportW, h: this.viewportH };
  }

  /** Scale at which the whole board fits the viewport. */
  fitScale(): number {
    return Math.min(this.viewportW / this.boardW, this.viewportH / this.boardH) * FIT_MARGIN;
  }

  minScale(): number {
    return Math.min(this.fitScale() * MIN_FIT_FRACTION, 1);
  }

  /** Shows the whole board, centred. */
  fit(): void {
    this.scale = this.fitScale();
    this.ox = (this.viewportW - this.boardW * this.scale) / 2;
    this.oy = (this.viewportH - this.boardH * this.scale) / 2;
  }

  /** Puts the centre of board pixel (x, y) at the viewport's centre, at `scale` (held to the zoom range). */
  centreOn(x: number, y: number, scale = this.scale): void {
    this.scale = Math.min(MAX_SCALE, Math.max(this.minScale(), scale));
    this.ox = this.viewportW / 2 - (x + 0.5) * this.scale;
    this.oy = this.viewportH / 2 - (y + 0.5) * this.scale;
    this.clampOffset();
  }

  /** The board pixel at the viewport's centre (it may lie outside the board when panned to an edge). */
  centrePixel(): Point {
    const b = this.screenToBoard({ x: this.viewportW / 2, y: this.viewportH / 2 });
    return { x: Math.floor(b.x), y: Math.floor(b.y) };
  }

  /** Viewport resized (rotation, window resize): keep the board point at the centre where it was. */
  resize(w: number, h: number): void {
    const centre = this.screenToBoard({ x: this.viewportW / 2, y: this.viewportH / 2 });
    this.viewportW = Math.max(1, w);
    this.viewportH = Math.max(1, h);
    this.ox = this.viewportW / 2 - centre.x * this.scale;
    this.oy = this.viewportH / 2 - centre.y * this.scale;
    this.setScale(this.scale, { x: this.viewportW / 2, y: this.viewportH / 2 });
  }

  /** Moves the board by (dx, dy) CSS pixels: a drag moves the content with the pointer. */
  pan(dx: number, dy: number): void {
    this.ox += dx;
    this.oy += dy;
    this.clampOffset();
  }

  /** Multiplies the zoom by `factor`, keeping the board point under `anchor` fixed on screen. */
  zoomAt(anchor: Point, factor: number): void {
    if (!Number.isFinite(factor) || factor <= 0) return;
    this.setScale(this.scale * factor, anchor);
  }

  private setScale(scale: number, anchor: Point): void {
    const next = Math.min(MAX_SCALE, Math.max(this.minScale(), scale));
    // The anchor's board coordinate stays put: solve anchor = b * next + o for the new offset.
    this.ox = anchor.x - ((anchor.x - this.ox) * next) / this.scale;
    this.oy = anchor.y - ((anchor.y - this.oy) * next) / this.scale;
    this.scale = next;
    this.clampOffset();
  }

  screenToBoard(p: Point): Point {
    return { x: (p.x - this.ox) / this.scale, y: (p.y - this.oy) / this.scale };
  }

  boardToScreen(p: Point): Point {
    return { x: p.x * this.scale + this.ox, y: p.y * this.scale + this.oy };
  }

  /** The board pixel under a screen point, or null outside the board. */
  pixelAt(p: Point): Point | null {
    const b = this.screenToBoard(p);
    const x = Math.floor(b.x);
    const y = Math.floor(b.y);
    return x >= 0 && y >= 0 && x < this.boardW && y < this.boardH ? { x, y } : null;
  }

  /** Screen point at the centre of a board pixel. */
  pixelCentre(x: number, y: number): Point {
    return this.boardToScreen({ x: x + 0.5, y: y + 0.5 });
  }

  /** Never lose the board: at least KEEP_VISIBLE pixels of it stay inside the viewport. */
  private clampOffset(): void {
    const w = this.boardW * this.scale;
    const h = this.boardH * this.scale;
    const keepX = Math.min(KEEP_VISIBLE, w);
    const keepY = Math.min(KEEP_VISIBLE, h);
    this.ox = Math.min(this.viewportW - keepX, Math.max(keepX - w, this.ox));
    this.oy = Math.min(this.viewportH - keepY, Math.max(keepY - h, this.oy));
  }
}
