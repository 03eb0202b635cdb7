/**
 * The first-visit hint: how to place (pick a colour, then click; on a touch screen tap, then the Place
 * button), over the palette until dismissed; never shown again once dismissed (localStorage).
 */

const STORAGE_KEY = 'canvas.hint';

/** The hint's words for a touch screen or a mouse. Pure. */
export function hintText(touch: boolean): string {
  return touch
    ? 'New here? Pick a colour below, tap a pixel to aim, then press "Place". Pinch or drag to move around.'
    : 'New here? Pick a colour below, then click a pixel to place it. Drag to pan, wheel to zoom; with no colour picked, a click shows who placed a pixel.';
}

/** Shows the hint unless dismissed before; its button dismisses it for good. */
export function showFirstHint(
  el: { root: HTMLElement; text: HTMLElement; dismiss: HTMLButtonElement },
  touch: boolean,
): void {
  el.text.textContent = hintText(touch);
  el.root.hidden = seen();
  el.dismiss.addEventListener('click', () => {
    el.root.hidden = true;
    try {
      localStorage.setItem(STORAGE_KEY, 'seen');
    } catch {
      // storage disabled: dismissed for this page only
    }
  });
}

function seen(): boolean {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'seen';
  } catch {
    return false;
  }
}
