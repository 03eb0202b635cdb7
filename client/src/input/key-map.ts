/**
 * What a key press means, pure so the whole keyboard layout is unit tested. With the canvas focused
 * the arrow keys move the placing cursor (Shift: ten pixels) and Enter or Space places there; anywhere
 * else on the page they pan. Colours: 1 to 9 and 0 pick the first ten, ] and [ step through all.
 */

export type KeyAction =
  | { kind: 'pan'; dx: number; dy: number }
  | { kind: 'zoom'; factor: number }
  | { kind: 'fit' }
  | { kind: 'pick'; index: number }
  | { kind: 'cycle'; step: 1 | -1 }
  | { kind: 'aim'; dx: number; dy: number }
  | { kind: 'place' }
  | { kind: 'template' }
  | { kind: 'history' };

export interface KeyInput {
  key: string;
  shiftKey: boolean;
}

/** Keyboard pan step in CSS pixels, and zoom step per key press. */
export const KEY_PAN = 60;
export const KEY_ZOOM = 1.5;
/** Cursor step with Shift held. */
const AIM_FAST = 10;

const ARROWS: Readonly<Record<string, readonly [number, number]>> = {
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
};

/** The palette index a digit key picks: 1..9 are the first nine colours, 0 the tenth (keyboard order). */
export function digitColour(key: string): number | null {
  if (!/^[0-9]$/.test(key)) return null;
  return key === '0' ? 9 : Number(key) - 1;
}

/** The shortcut shown on swatch `index`, if it has one. */
export function colourKey(index: number): string | null {
  return index < 9 ? String(index + 1) : index === 9 ? '0' : null;
}

export function keyAction(e: KeyInput, canvasFocused: boolean): KeyAction | null {
  const arrow = ARROWS[e.key];
  if (arrow) {
    const [x, y] = arrow;
    if (canvasFocused) {
      const step = e.shiftKey ? AIM_FAST : 1;
      return { kind: 'aim', dx: x * step, dy: y * step };
    }
    // Panning shows what is further in the arrow's direction: the board moves the other way.
    return { kind: 'pan', dx: -x * KEY_PAN || 0, dy: -y * KEY_PAN || 0 }; // || 0: no -0
  }
  if (canvasFocused && (e.key === 'Enter' || e.key === ' ')) return { kind: 'place' };
  const digit = digitColour(e.key);
  if (digit !== null) return { kind: 'pick', index: digit };
  switch (e.key) {
    case '+':
    case '=':
      return { kind: 'zoom', factor: KEY_ZOOM };
    case '-':
    case '_':
      return { kind: 'zoom', factor: 1 / KEY_ZOOM };
    case 'f':
    case 'F':
      return { kind: 'fit' };
    case ']':
      return { kind: 'cycle', step: 1 };
    case '[':
      return { kind: 'cycle', step: -1 };
    case 't':
    case 'T':
      return { kind: 'template' };
    case 'h':
    case 'H':
      return { kind: 'history' };
    default:
      return null;
  }
}

/** The colour after `selected` stepping by `step` through `size` colours (none selected: the first or last). */
export function cycleColour(selected: number | null, step: 1 | -1, size: number): number | null {
  if (size <= 0) return null;
  if (selected === null) return step === 1 ? 0 : size - 1;
  return (selected + step + size) % size;
}
