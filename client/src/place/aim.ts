/**
 * Aiming before placing: on a touch screen a tap moves a reticle and only the confirm button places;
 * with the keyboard the arrow keys move the same reticle and Enter places. Pure helpers (stepping the
 * reticle, keeping it on screen) are exported for unit tests; the class drives the confirm button.
 */
import { colourName, cssColour } from '../ui/colours.ts';
import { formatWait } from './cooldown.ts';
import type { Point, View } from '../view/view.ts';

/** The reticle moved by (dx, dy), held on the board. */
export function stepAim(p: Point, dx: number, dy: number, board: { width: number; height: number }): Point {
  return {
    x: Math.min(board.width - 1, Math.max(0, p.x + dx)),
    y: Math.min(board.height - 1, Math.max(0, p.y + dy)),
  };
}

/** Distance (CSS px) from the viewport's edge inside which the view scrolls to follow the reticle. */
const EDGE = 48;

/** The pan (dx, dy) that brings pixel `p` at least EDGE px inside the viewport; (0, 0) when it is. */
export function panToShow(view: View, p: Point): { dx: number; dy: number } {
  const { w, h } = view.viewport;
  const a = view.boardToScreen(p);
  const s = view.scale;
  const margin = Math.min(EDGE, (w - s) / 2, (h - s) / 2);
  const along = (lo: number, size: number): number => {
    if (lo < margin) return margin - lo;
    if (lo + s > size - margin) return size - margin - (lo + s);
    return 0;
  };
  return { dx: along(a.x, w), dy: along(a.y, h) };
}

/** The confirm button's text: "Place at (x, y)", or during a cooldown "Place at (x, y) in 0:42". */
export function confirmText(pixel: Point, waitMs: number): string {
  const at = `Place at (${pixel.x}, ${pixel.y})`;
  return waitMs > 0 ? `${at} in ${formatWait(waitMs)}` : at;
}

export interface ConfirmElements {
  button: HTMLButtonElement;
  swatch: HTMLElement;
  text: HTMLElement;
}

export class ConfirmButton {
  onConfirm: () => void = () => {};

  constructor(private readonly el: ConfirmElements) {
    el.button.addEventListener('click', () => this.onConfirm());
  }

  /**
   * Shown while there is a reticle and a colour (RGB) to place there; disabled while placing is off,
   * and during a cooldown (`waitMs` > 0), when it counts down instead of inviting a refused tap.
   */
  show(pixel: Point | null, colour: number | null, enabled: boolean, waitMs = 0): void {
    const visible = pixel !== null && colour !== null;
    this.el.button.hidden = !visible;
    document.body.dataset['aiming'] = visible ? 'on' : 'off';
    if (!visible) return;
    this.el.button.disabled = !enabled || waitMs > 0;
    this.el.swatch.style.background = cssColour(colour);
    this.el.text.textContent = confirmText(pixel, enabled ? waitMs : 0);
    this.el.button.setAttribute('aria-label', `Place ${colourName(colour)} at (${pixel.x}, ${pixel.y})`);
  }
}
