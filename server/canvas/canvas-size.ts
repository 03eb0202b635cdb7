/**
 * Growing the canvas: the checks a resize request must pass, the size events the history keeps, and
 * the one function that copies a grid into a larger one. No I/O.
 *
 * A resize takes a seq of its own, like a placement: the canvas at any seq before it has the old size
 * and its pixels at their old coordinates, the canvas from that seq on has the new size, with `left`
 * columns added on the left and `top` rows on top (a pixel at (x, y) moves to (x + left, y + top)).
 * Placements are stored in the coordinates of their own time: whoever replays them applies the size
 * events between them in seq order (store.ts load, history/replay.ts, the standby's log follower).
 */

/**
 * Most pixels a side: the flags' limit (--width, --height) and a resize's. Held in 64 x 64 chunks
 * (canvas.ts), memory follows the pixels placed; sides stay far below the delta records' 65,535. A
 * resize past 4096 a side (canvas.ts WHOLE_CANVAS_MAX_SIDE) ends the whole-canvas PNG, `/image`, the
 * whole-canvas streams and the history images at runtime: the canvas is tiles and region deltas from
 * that resize's tick on.
 */
export const MAX_CANVAS_SIDE = 16_384;

/** One size change in the history. */
export interface SizeEvent {
  /** The seq the resize took: placements after it use the new coordinates. */
  seq: number;
  width: number;
  height: number;
  /** Columns added on the left, rows added on top. */
  left: number;
  top: number;
}

/** What an operator asks for: the new size and where the new columns and rows go. */
export interface ResizeRequest {
  width: number;
  height: number;
  left: number;
  top: number;
}

export type ResizeCheck = { ok: true } | { ok: false; why: 'shrink' | 'too_large' | 'invalid'; message: string };

/**
 * The canvas only grows, on any side, up to MAX_CANVAS_SIDE: a shrink would drop placed pixels and
 * break every link into them. The added columns (`width - from.width`) are split between the left
 * (`left`) and the right (the rest), so `left` may not exceed them; rows likewise.
 */
export function checkResize(from: { width: number; height: number }, to: ResizeRequest, maxSide: number): ResizeCheck {
  const { width, height, left, top } = to;
  if (width > maxSide || height > maxSide)
    return {
      ok: false,
      why: 'too_large',
      message: `${width} x ${height} is over the largest canvas, ${maxSide} x ${maxSide}`,
    };
  if (width < from.width || height < from.height)
    return {
      ok: false,
      why: 'shrink',
      message: `the canvas is ${from.width} x ${from.height} and can only grow, not become ${width} x ${height}`,
    };
  if (width === from.width && height === from.height)
    return { ok: false, why: 'invalid', message: `the canvas is ${width} x ${height} already` };
  if (left < 0 || top < 0 || left > width - from.width || top > height - from.height)
    return {
      ok: false,
      why: 'invalid',
      message: `left must be 0..${width - from.width} and top 0..${height - from.height} (the columns and rows added)`,
    };
  return { ok: true };
}

/**
 * `grid` (width `fromWidth`) copied into a new array of `to`'s size at offset (left, top); the cells
 * added are 0 (the palette's first colour for the grid, never placed for the per-cell seqs).
 */
export function growCells<T extends Uint8Array | Uint32Array>(
  grid: T,
  fromWidth: number,
  fromHeight: number,
  to: { width: number; height: number; left: number; top: number },
): T {
  const out = new (grid.constructor as { new (n: number): T })(to.width * to.height);
  for (let y = 0; y < fromHeight; y++) {
    out.set(grid.subarray(y * fromWidth, (y + 1) * fromWidth), (y + to.top) * to.width + to.left);
  }
  return out;
}

/**
 * The size events of one canvas, oldest first, with its initial size: the size at any seq, and where
 * a pixel placed at a past seq is now.
 */
export class SizeHistory {
  constructor(
    readonly initial: { width: number; height: number },
    readonly events: readonly SizeEvent[],
  ) {}

  /** The size right after `seq` (the events at or before it applied). */
  at(seq: number): { width: number; height: number } {
    let size = this.initial;
    for (const e of this.events) if (e.seq <= seq) size = e;
    return { width: size.width, height: size.height };
  }

  /** The latest size. */
  get current(): { width: number; height: number } {
    return this.at(Number.MAX_SAFE_INTEGER);
  }

  /** The events after `from` up to `to`, in order. */
  between(from: number, to: number): SizeEvent[] {
    return this.events.filter((e) => e.seq > from && e.seq <= to);
  }

  /** How far a pixel of the canvas at `from` moved by `to`: the left and top added between. */
  shift(from: number, to: number): { left: number; top: number } {
    let left = 0;
    let top = 0;
    for (const e of this.between(from, to)) {
      left += e.left;
      top += e.top;
    }
    return { left, top };
  }
}
