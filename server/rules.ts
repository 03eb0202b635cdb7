/**
 * Placement rules that need server state: bounds, palette, cooldown. The codec has already checked
 * types; these checks decide whether a well-formed placement is allowed.
 */
import { ErrorCode } from '../protocol/messages.ts';
import type { Canvas } from './canvas.ts';

export type RuleResult = { ok: true } | { ok: false; code: ErrorCode; message: string; wait?: number };

export function checkPlacement(canvas: Canvas, x: number, y: number, color: number): RuleResult {
  if (!canvas.inBounds(x, y)) {
    return { ok: false, code: ErrorCode.OUT_OF_BOUNDS, message: `(${x}, ${y}) is outside the ${canvas.width} x ${canvas.height} canvas` };
  }
  if (color < 0 || color >= canvas.paletteSize) {
    return { ok: false, code: ErrorCode.BAD_COLOR, message: `colour ${color} is not in the palette (0..${canvas.paletteSize - 1})` };
  }
  return { ok: true };
}

/** Per-connection cooldown. `nextAllowedAt` lives with the connection; 0 means "now". */
export function checkCooldown(nextAllowedAt: number, now: number): RuleResult {
  if (now >= nextAllowedAt) return { ok: true };
  const wait = nextAllowedAt - now;
  return { ok: false, code: ErrorCode.COOLDOWN, message: `cooldown: next placement allowed in ${wait} ms`, wait };
}
