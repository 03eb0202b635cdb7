/**
 * Turns pointer events into view operations and taps. Pure (no DOM), so the "no jumps" rules are unit
 * tested: every operation is incremental (from each pointer's previous position), which is why zooming
 * with the wheel in the middle of a drag, or lifting one finger of a pinch, never moves the board by
 * more than the pointer moved.
 */
import type { Point } from '../view/view.ts';

export type GestureOp = { kind: 'pan'; dx: number; dy: number } | { kind: 'zoom'; anchor: Point; factor: number };

/** Movement (CSS px) up to which a press still counts as a tap; touch is less precise than a mouse. */
const TAP_SLOP_MOUSE = 5;
const TAP_SLOP_TOUCH = 12;

interface Tracked {
  x: number;
  y: number;
}

export class Gestures {
  private pointers = new Map<number, Tracked>();
  /** Where the current press started; null once the gesture can no longer be a tap. */
  private tapStart: (Point & { slop: number }) | null = null;

  get active(): boolean {
    return this.pointers.size > 0;
  }

  /** True while the current gesture moves the board (a drag or pinch, not a pending tap). */
  get dragging(): boolean {
    return this.pointers.size > 0 && this.tapStart === null;
  }

  down(id: number, p: Point, touch: boolean): void {
    this.pointers.set(id, { x: p.x, y: p.y });
    // A second finger makes this a pinch: whatever happens next is not a tap.
    this.tapStart = this.pointers.size === 1 ? { x: p.x, y: p.y, slop: touch ? TAP_SLOP_TOUCH : TAP_SLOP_MOUSE } : null;
  }

  move(id: number, p: Point): GestureOp[] {
    const prev = this.pointers.get(id);
    if (!prev) return []; // hover without a press
    if (this.tapStart && Math.hypot(p.x - this.tapStart.x, p.y - this.tapStart.y) > this.tapStart.slop) {
      this.tapStart = null;
    }
    if (this.pointers.size === 1) {
      this.pointers.set(id, { x: p.x, y: p.y });
      // Until the press leaves the tap slop, the board stays still so a tap places where it landed.
      return this.tapStart ? [] : [{ kind: 'pan', dx: p.x - prev.x, dy: p.y - prev.y }];
    }
    // Pinch: use the first two pointers; midpoint motion pans, distance ratio zooms about the midpoint.
    const [a, b] = [...this.pointers.entries()];
    if (!a || !b) return [];
    const otherId = a[0] === id ? b[0] : a[0];
    const other = this.pointers.get(otherId);
    this.pointers.set(id, { x: p.x, y: p.y });
    if (!other || (id !== a[0] && id !== b[0])) return [];
    const before = { mid: midpoint(prev, other), dist: Math.hypot(prev.x - other.x, prev.y - other.y) };
    const after = { mid: midpoint(p, other), dist: Math.hypot(p.x - other.x, p.y - other.y) };
    const ops: GestureOp[] = [{ kind: 'pan', dx: after.mid.x - before.mid.x, dy: after.mid.y - before.mid.y }];
    if (before.dist > 0 && after.dist > 0)
      ops.push({ kind: 'zoom', anchor: after.mid, factor: after.dist / before.dist });
    return ops;
  }

  /** Releases a pointer; returns the tap position when the press was a tap. */
  up(id: number, p: Point): Point | null {
    const wasTracked = this.pointers.delete(id);
    const tap = wasTracked && this.pointers.size === 0 && this.tapStart !== null ? { x: p.x, y: p.y } : null;
    if (this.pointers.size === 0) this.tapStart = null;
    return tap;
  }

  /** pointercancel (the browser took over the gesture): forget the pointer, never tap. */
  cancel(id: number): void {
    this.pointers.delete(id);
    this.tapStart = null;
  }
}

function midpoint(a: Point, b: Point): Point {
  return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
}

/** Wheel delta to zoom factor; lines and pages are converted to pixels first. */
export function wheelZoomFactor(deltaY: number, deltaMode: number): number {
  const px = deltaMode === 1 ? deltaY * 16 : deltaMode === 2 ? deltaY * 400 : deltaY;
  // exp keeps zoom-in and zoom-out symmetric; clamp so one huge trackpad event cannot jump 100x.
  return Math.exp(-Math.max(-300, Math.min(300, px)) * 0.002);
}
