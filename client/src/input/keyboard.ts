/**
 * Keyboard input for the whole page: pan, zoom, colour shortcuts and keyboard-only placing (the arrow
 * keys move a reticle while the canvas has focus, Enter or Space places). The layout is in key-map.ts
 * (pure, tested); this file only listens and forwards.
 */
import { type KeyAction, keyAction } from './key-map.ts';
import type { View } from '../view/view.ts';

export interface KeyHandlers {
  view(): View | null;
  /** The view moved: redraw. */
  changed(): void;
  pick(index: number): void;
  cycle(step: 1 | -1): void;
  moveAim(dx: number, dy: number): void;
  placeAtAim(): void;
  clearAim(): void;
  /** A reticle is shown (Escape on the canvas drops it first). */
  aiming(): boolean;
  /** Puts the colour in hand down (clicks show pixel info again). */
  deselect(): void;
  toggleTemplate(): void;
  toggleHistory(): void;
}

/** Keys pressed in a text field belong to the field. */
export function typingInto(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement ||
    (target instanceof HTMLElement && target.isContentEditable)
  );
}

export function attachKeyboard(canvas: HTMLCanvasElement, h: KeyHandlers): void {
  const run = (a: KeyAction, view: View): void => {
    switch (a.kind) {
      case 'pan':
        view.pan(a.dx, a.dy);
        return h.changed();
      case 'zoom':
        view.zoomAt({ x: view.viewport.w / 2, y: view.viewport.h / 2 }, a.factor);
        return h.changed();
      case 'fit':
        view.fit();
        return h.changed();
      case 'pick':
        return h.pick(a.index);
      case 'cycle':
        return h.cycle(a.step);
      case 'aim':
        return h.moveAim(a.dx, a.dy);
      case 'place':
        return h.placeAtAim();
      case 'template':
        return h.toggleTemplate();
      case 'history':
        return h.toggleHistory();
    }
  };
  window.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return; // leave browser shortcuts (Ctrl+/-) alone
    if (typingInto(e.target)) return; // a '-' typed into the template address is text, not zoom
    const view = h.view();
    if (!view) return;
    if (e.key === 'Escape') {
      // A panel that closed on this Escape took it (defaultPrevented); the reticle goes before the colour.
      if (e.defaultPrevented) return;
      if (document.activeElement === canvas && h.aiming()) return h.clearAim();
      return h.deselect();
    }
    const action = keyAction(e, document.activeElement === canvas);
    if (!action) return;
    e.preventDefault(); // Space would scroll, arrows would move the focus ring's page
    run(action, view);
  });
  // Tabbing onto the canvas shows the reticle at once, so it is clear what the arrows move.
  canvas.addEventListener('focus', () => {
    if (canvas.matches(':focus-visible')) h.moveAim(0, 0);
  });
}
