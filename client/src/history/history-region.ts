/**
 * The History view on a canvas over 4096 a side: the server draws no past canvas of it whole (a
 * 16,384 x 16,384 grid is 268 MB), so the page asks for the part in view, by region. Which region
 * to ask for a view and a seq, and where its answer goes on today's board. Pure (no DOM), unit tested.
 *
 * Two sets of coordinates: today's (the live board's) and those of the canvas right after seq N; a
 * canvas that grew since on the left or top moved its pixels by `shift` (board/resizes.ts shiftSince):
 * today's (x, y) was at (x - left, y - top) at N.
 */

/** A rectangle of canvas pixels. */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A past canvas as the page shows it: palette indices of a rectangle of today's board. */
export interface PastCanvas {
  seq: number;
  /** Where the rectangle lies on today's board (the whole board: 0, 0, its width and height). */
  x: number;
  y: number;
  width: number;
  height: number;
  /** width x height palette indices, row by row. */
  indices: Uint8Array;
}

/**
 * The largest side of a past canvas the server draws (README "History"): over it, `413 too_large`.
 * A canvas up to this size is asked for whole, a larger one by region.
 */
export const PAST_MAX_SIDE = 4096;
/**
 * A region asked for starts and ends on multiples of this many pixels (today's): a pan of a few
 * pixels stays inside the region shown (no new request), and the same view asks the same region,
 * which the browser has cached (the answer is immutable per seq and region).
 */
const REGION_GRID = 64;

/** Past canvases of this board are asked for by region (it is over 4096 a side). */
export function asksByRegion(board: { width: number; height: number }): boolean {
  return Math.max(board.width, board.height) > PAST_MAX_SIDE;
}

/**
 * The region of today's board whose history the page shows for a view: the visible rectangle
 * (`visible`, already clamped to the board) widened to the region grid, at most 4096 a side around
 * (to the nearest grid step) the view's centre (`centre`, the board point in the middle of the screen; zoomed far out, what the
 * user looks at), held inside the board. Null when nothing of the board is in view.
 */
export function viewRegion(
  visible: Rect,
  board: { width: number; height: number },
  centre: { x: number; y: number } = { x: visible.x + visible.w / 2, y: visible.y + visible.h / 2 },
): Rect | null {
  if (visible.w <= 0 || visible.h <= 0) return null;
  const side = (from: number, length: number, middle: number, limit: number): [number, number] => {
    const a = Math.floor(from / REGION_GRID) * REGION_GRID;
    const b = Math.min(limit, Math.ceil((from + length) / REGION_GRID) * REGION_GRID);
    if (b - a <= PAST_MAX_SIDE) return [a, b - a];
    const grid = Math.round((middle - PAST_MAX_SIDE / 2) / REGION_GRID) * REGION_GRID;
    const start = Math.max(0, Math.min(limit - PAST_MAX_SIDE, grid));
    return [start, PAST_MAX_SIDE];
  };
  const [x, w] = side(visible.x, visible.w, centre.x, board.width);
  const [y, h] = side(visible.y, visible.h, centre.y, board.height);
  return { x, y, w, h };
}

/**
 * The region to ask for at seq N (the server's coordinates at N) for `today`'s rectangle: moved by
 * the shift since N, cut at 0 (what lies left of or above it was not canvas then). Null when none of
 * it was canvas then (nothing to ask: it is all index 0). The server answers index 0 where the region
 * reaches past the canvas as it was, so the past size is never needed.
 */
export function pastRegion(today: Rect, shift: { left: number; top: number }): Rect | null {
  const x = today.x - shift.left;
  const y = today.y - shift.top;
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const w = x + today.w - x0;
  const h = y + today.h - y0;
  return w > 0 && h > 0 ? { x: x0, y: y0, w, h } : null;
}

/**
 * The answer for `asked` (at seq N, `asked.w` x `asked.h` indices; null: nothing was asked) on
 * `today`'s rectangle: the cells `asked` does not cover were not canvas at N, so are index 0, as the
 * cells a resize adds start.
 */
export function onTodayRect(
  indices: Uint8Array | null,
  asked: Rect | null,
  today: Rect,
  shift: { left: number; top: number },
): Uint8Array {
  if (indices && asked && asked.w === today.w && asked.h === today.h) return indices;
  const out = new Uint8Array(today.w * today.h);
  if (!indices || !asked) return out;
  const dx = asked.x + shift.left - today.x;
  const dy = asked.y + shift.top - today.y;
  for (let y = 0; y < asked.h; y++) out.set(indices.subarray(y * asked.w, (y + 1) * asked.w), (y + dy) * today.w + dx);
  return out;
}

/** `inner` lies within `outer`. */
export function covers(outer: Rect, inner: Rect): boolean {
  return (
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.w <= outer.x + outer.w &&
    inner.y + inner.h <= outer.y + outer.h
  );
}

/** The query parameters of a region: `&x=X&y=Y&w=W&h=H`. */
export function regionQuery(r: Rect): string {
  return `&x=${r.x}&y=${r.y}&w=${r.w}&h=${r.h}`;
}
