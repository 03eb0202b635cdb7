/**
 * Choosing the pixel to place on: a click places where it lands; a tap on a touch screen, or the
 * arrow keys, move a reticle that the confirm button or Enter places at. Too far zoomed out to aim,
 * the first click or Enter zooms in instead. The placing itself is placing.ts's; the pure stepping
 * and scrolling are in aim.ts.
 */
import type { Board } from '../board/board.ts';
import { PLACE_MIN_SCALE, PLACE_ZOOM_SCALE, type Point, type View } from '../view/view.ts';

/**
 * A finger covers about 40 CSS px: below this zoom a tap cannot tell neighbouring pixels apart (at the
 * first usable zoom, 3 px per pixel, the reticle covered ~4 x 4 pixels). So a touch tap that aims
 * below it also zooms in about the finger, the aimed pixel staying under it, to one reticle per pixel.
 */
export const TOUCH_AIM_SCALE = 12;
import { type ConfirmButton, panToShow, stepAim } from './aim.ts';
import type { Placing } from './placing.ts';

export interface AimingDeps {
  board(): Board | null;
  view(): View | null;
  placing: Pick<Placing, 'selected' | 'selectedRgb' | 'placeAt' | 'inspect'>;
  /** Placing is possible now (the confirm button is disabled while it is not). */
  enabled(): boolean;
  /** ms left of the cooldown (the confirm button counts down and stays disabled meanwhile). */
  waitMs(): number;
  /** The view moved: draw again. */
  redraw(): void;
  showMessage(text: string, kind: 'error' | 'info'): void;
  /** Draws the reticle at a pixel, or none. */
  setReticle(pixel: Point | null): void;
  /** The cursor readout follows the reticle. */
  showCursor(pixel: Point): void;
  confirm: Pick<ConfirmButton, 'show' | 'onConfirm'>;
}

export class Aiming {
  /** Where the confirm button (touch) or Enter (keyboard) places; null when not aiming. */
  private aim: Point | null = null;

  constructor(private readonly d: AimingDeps) {
    d.confirm.onConfirm = () => {
      if (this.aim) d.placing.placeAt(this.aim);
    };
  }

  get reticle(): Point | null {
    return this.aim;
  }

  /**
   * A click or tap on the canvas at a screen point: place there, or (`aimFirst`, a touch screen with a
   * colour in hand) only move the reticle there for the confirm button.
   */
  tap(p: Point, aimFirst = false): void {
    const { board, view } = this.current();
    if (!board || !view) return;
    const pixel = view.pixelAt(p);
    if (!pixel) return;
    if (view.scale < PLACE_MIN_SCALE) {
      view.zoomAt(p, PLACE_ZOOM_SCALE / view.scale);
      this.d.redraw();
      return this.d.showMessage('Zoomed in so you can aim: now click or tap the exact pixel.', 'info');
    }
    if (aimFirst && this.d.placing.selected !== null) {
      if (view.scale < TOUCH_AIM_SCALE) {
        view.zoomAt(p, TOUCH_AIM_SCALE / view.scale);
        this.d.redraw();
      }
      return this.setAim(pixel);
    }
    this.d.placing.placeAt(pixel);
  }

  /** A right click or modifier click at a screen point: that pixel's info, whatever colour is in hand. */
  inspect(p: Point): void {
    const pixel = this.d.view()?.pixelAt(p);
    if (pixel) this.d.placing.inspect(pixel);
  }

  /** Puts the reticle on a pixel and brings it to the middle of the view, zoomed in to place. */
  aimAt(pixel: Point): void {
    const view = this.d.view();
    if (!view) return;
    view.centreOn(pixel.x, pixel.y, Math.max(view.scale, PLACE_ZOOM_SCALE));
    this.setAim(pixel);
    this.d.redraw();
  }

  /** Moves the keyboard reticle (it starts at the centre of the view), scrolling to keep it on screen. */
  move(dx: number, dy: number): void {
    const { board, view } = this.current();
    if (!board || !view) return;
    const from = this.aim ?? stepAim(view.centrePixel(), 0, 0, board);
    const to = this.aim ? stepAim(from, dx, dy, board) : from;
    const pan = panToShow(view, to);
    if (pan.dx !== 0 || pan.dy !== 0) view.pan(pan.dx, pan.dy);
    this.setAim(to);
    this.d.redraw();
  }

  /** Enter or Space: place at the reticle (zooming in first when too small to see what is aimed at). */
  placeAtAim(): void {
    const { board, view } = this.current();
    if (!board || !view) return;
    if (!this.aim) return this.move(0, 0);
    if (view.scale < PLACE_MIN_SCALE) {
      view.centreOn(this.aim.x, this.aim.y, PLACE_ZOOM_SCALE);
      this.d.redraw();
      return this.d.showMessage('Zoomed in so you can see the pixel: press Enter again to place.', 'info');
    }
    this.d.placing.placeAt(this.aim);
  }

  clear(): void {
    this.setAim(null);
  }

  /** The confirm button follows the reticle, the colour and whether placing is possible. */
  refresh(): void {
    this.d.confirm.show(this.aim, this.d.placing.selectedRgb, this.d.enabled(), Math.max(0, this.d.waitMs()));
  }

  private current(): { board: Board | null; view: View | null } {
    return { board: this.d.board(), view: this.d.view() };
  }

  private setAim(pixel: Point | null): void {
    this.aim = pixel;
    this.d.setReticle(pixel);
    if (pixel) this.d.showCursor(pixel);
    this.refresh();
  }
}
