/**
 * Placement rules that need the canvas: bounds and palette. The codec has already checked types;
 * bans and cooldowns live with their state in placement/service.ts.
 */
import { ErrorCode } from '../../protocol/messages.ts';
import type { Canvas } from './canvas.ts';

export type RuleResult = { ok: true } | { ok: false; code: ErrorCode; message: string };

export function checkPlacement(canvas: Canvas, x: number, y: number, color: number): RuleResult {
  if (!canvas.inBounds(x, y)) {
    return {
      ok: false,
      code: ErrorCode.OUT_OF_BOUNDS,
      message: `(${x}, ${y}) is outside the ${canvas.width} x ${canvas.height} canvas`,
    };
  }
  if (color < 0 || color >= canvas.paletteSize) {
    return {
      ok: false,
      code: ErrorCode.BAD_COLOR,
      message: `colour ${color} is not in the palette (0..${canvas.paletteSize - 1})`,
    };
  }
  return { ok: true };
}
