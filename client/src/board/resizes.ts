/**
 * The canvas grows while it runs (the server's `resize` message, GET /api/canvas `resizes`): a pixel
 * at (x, y) before a resize is at (x + left, y + top) after it. What the page needs of that to show a
 * past canvas on today's board and to keep its view on the same art. Pure (no DOM), unit tested.
 */

/** One resize, as GET /api/canvas lists them (oldest first) and the `resize` message says. */
export interface CanvasResize {
  seq: number;
  width: number;
  height: number;
  left: number;
  top: number;
}

/** How far a pixel of the canvas right after `seq` has moved since: the columns and rows added on the left and top. */
export function shiftSince(resizes: readonly CanvasResize[], seq: number): { left: number; top: number } {
  let left = 0;
  let top = 0;
  for (const r of resizes) {
    if (r.seq <= seq) continue;
    left += r.left;
    top += r.top;
  }
  return { left, top };
}

/**
 * A past canvas (`w` x `h` palette indices) on a grid of the live board's size, moved by `shift`;
 * what was not canvas then is index 0, as the cells a resize adds start. Null when it does not fit
 * (the page's board is older or newer than the list it was given).
 */
export function onLiveGrid(
  indices: Uint8Array,
  w: number,
  h: number,
  live: { width: number; height: number },
  shift: { left: number; top: number },
): Uint8Array | null {
  if (shift.left + w > live.width || shift.top + h > live.height) return null;
  if (w === live.width && h === live.height) return indices;
  const out = new Uint8Array(live.width * live.height);
  for (let y = 0; y < h; y++) out.set(indices.subarray(y * w, (y + 1) * w), (y + shift.top) * live.width + shift.left);
  return out;
}

/** The parts of GET /api/canvas's `resizes` that are well formed (an older server has none). */
export function parseResizes(v: unknown): CanvasResize[] {
  if (!Array.isArray(v)) return [];
  const count = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;
  return v.filter(
    (r): r is CanvasResize =>
      typeof r === 'object' &&
      r !== null &&
      count((r as CanvasResize).seq) &&
      count((r as CanvasResize).width) &&
      count((r as CanvasResize).height) &&
      count((r as CanvasResize).left) &&
      count((r as CanvasResize).top),
  );
}
