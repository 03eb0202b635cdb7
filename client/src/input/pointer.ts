/**
 * Pointer and wheel input on the canvas element, turned into view changes and taps (keys: keyboard.ts).
 * The gesture maths is in gestures.ts (pure, tested); this file only listens and forwards.
 */
import { Gestures, wheelZoomFactor, type GestureOp } from './gestures.ts';
import type { Point, View } from '../view/view.ts';

export interface InputHandlers {
  /** The current view, or null before the first hello/snapshot. */
  view(): View | null;
  /** The view moved: redraw. */
  changed(): void;
  /** A click or tap at a point of the canvas element; `touch`: aim first, the confirm button places. */
  tap(p: Point, touch: boolean): void;
  /** A right click or a click with Shift, Alt, Ctrl or Meta: show the pixel's info, never place. */
  inspect(p: Point): void;
  /** The pointer is over this point, or left the canvas. */
  hover(p: Point | null): void;
}

/** A coarse pointer (a finger) is the primary input: aim with a reticle even for a mouse-like event. */
const coarse = matchMedia('(pointer: coarse)');

export function attachInput(canvas: HTMLCanvasElement, h: InputHandlers): void {
  const gestures = new Gestures();
  const local = (e: { clientX: number; clientY: number }): Point => {
    const r = canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  const apply = (ops: GestureOp[]): void => {
    const view = h.view();
    if (!view || ops.length === 0) return;
    for (const op of ops) {
      if (op.kind === 'pan') view.pan(op.dx, op.dy);
      else view.zoomAt(op.anchor, op.factor);
    }
    h.changed();
  };

  canvas.addEventListener('pointerdown', (e) => {
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    // Capture, so a drag that leaves the canvas (or the window) keeps panning and ends cleanly.
    canvas.setPointerCapture(e.pointerId);
    gestures.down(e.pointerId, local(e), e.pointerType !== 'mouse');
    canvas.classList.toggle('dragging', gestures.dragging);
  });
  canvas.addEventListener('pointermove', (e) => {
    const p = local(e);
    apply(gestures.move(e.pointerId, p));
    canvas.classList.toggle('dragging', gestures.dragging);
    if (e.pointerType === 'mouse') h.hover(p);
  });
  const end = (e: PointerEvent): void => {
    const tap = gestures.up(e.pointerId, local(e));
    canvas.classList.toggle('dragging', gestures.dragging);
    if (!tap) return;
    if (e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) h.inspect(tap);
    else h.tap(tap, e.pointerType === 'touch' || coarse.matches);
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', (e) => {
    gestures.cancel(e.pointerId);
    canvas.classList.remove('dragging');
  });
  canvas.addEventListener('contextmenu', (e) => {
    e.preventDefault(); // the right button shows pixel info, not the browser's menu
    if (e.pointerType !== 'touch') h.inspect(local(e)); // a long press on a phone is not a right click
  });
  canvas.addEventListener('pointerleave', (e) => {
    if (e.pointerType === 'mouse') h.hover(null);
  });
  canvas.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault(); // the page itself never scrolls or zooms; Ctrl+wheel is a trackpad pinch
      apply([{ kind: 'zoom', anchor: local(e), factor: wheelZoomFactor(e.deltaY, e.deltaMode) }]);
    },
    { passive: false },
  );
}
