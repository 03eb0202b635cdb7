/**
 * Pointer, wheel and keyboard input on the canvas element, turned into view changes and taps.
 * The gesture maths is in gestures.ts (pure, tested); this file only listens and forwards.
 */
import { Gestures, wheelZoomFactor, type GestureOp } from './gestures.ts';
import type { Point, View } from './view.ts';

export interface InputHandlers {
  /** The current view, or null before the first hello/snapshot. */
  view(): View | null;
  /** The view moved: redraw. */
  changed(): void;
  /** A click or tap at a point of the canvas element. */
  tap(p: Point): void;
  /** The pointer is over this point, or left the canvas. */
  hover(p: Point | null): void;
}

/** Keyboard pan step in CSS pixels, and zoom step per key press. */
const KEY_PAN = 60;
const KEY_ZOOM = 1.5;

/** Keys pressed in a text field belong to the field. */
export function typingInto(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement ||
    (target instanceof HTMLElement && target.isContentEditable)
  );
}

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
    if (tap) h.tap(tap);
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', (e) => {
    gestures.cancel(e.pointerId);
    canvas.classList.remove('dragging');
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

  window.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return; // leave browser shortcuts (Ctrl+/-) alone
    if (typingInto(e.target)) return; // a '-' typed into the template address is text, not zoom
    const view = h.view();
    if (!view) return;
    const centre = { x: view.viewport.w / 2, y: view.viewport.h / 2 };
    const ops: Record<string, GestureOp> = {
      ArrowLeft: { kind: 'pan', dx: KEY_PAN, dy: 0 },
      ArrowRight: { kind: 'pan', dx: -KEY_PAN, dy: 0 },
      ArrowUp: { kind: 'pan', dx: 0, dy: KEY_PAN },
      ArrowDown: { kind: 'pan', dx: 0, dy: -KEY_PAN },
      '+': { kind: 'zoom', anchor: centre, factor: KEY_ZOOM },
      '=': { kind: 'zoom', anchor: centre, factor: KEY_ZOOM },
      '-': { kind: 'zoom', anchor: centre, factor: 1 / KEY_ZOOM },
      _: { kind: 'zoom', anchor: centre, factor: 1 / KEY_ZOOM },
    };
    const op = ops[e.key];
    if (op) {
      e.preventDefault();
      apply([op]);
    } else if (e.key === '0') {
      view.fit();
      h.changed();
    }
  });
}
