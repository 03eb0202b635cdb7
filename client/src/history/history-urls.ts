/**
 * The History view's requests, pure so they are unit tested: the address of the canvas at a seq (or of
 * a region of it, history-region.ts), the timelapse to download (frames and scale chosen within the
 * server's limits) and what to say when the server refuses (keyed on the stable `error` code, never on
 * `message`).
 */
import { type Rect, regionQuery } from './history-region.ts';

/**
 * The canvas right after placement `seq`, as the server's indexed PNG (immutable: cached); with
 * `region` (in the coordinates of the canvas at `seq`), only that rectangle of it.
 */
export function historyImageUrl(seq: number, region?: Rect): string {
  return `/api/history/image?seq=${seq}${region ? regionQuery(region) : ''}`;
}

/** Frames of the downloaded timelapse (the server's default) and ms per frame: 100 frames, 10 s. */
export const TIMELAPSE_FRAMES = 100;
export const TIMELAPSE_DELAY_MS = 100;
/** A small canvas is scaled up to about this many px a side, so the animation is big enough to watch. */
const TARGET_SIDE = 512;
/**
 * The server's limits (README "History", server/history/params.ts HISTORY_LIMITS): over them it
 * answers 413 `too_large`, so the plan stays within them instead.
 */
const MAX_TOTAL_PIXELS = 100_000_000;
const MAX_SIDE = 4096;
const MAX_SCALE = 16;

export interface TimelapsePlan {
  from: number;
  to: number;
  frames: number;
  scale: number;
  delay: number;
  /** Only this rectangle of the canvas (in the coordinates of the canvas at `to`), else the whole. */
  region?: Rect;
}

/**
 * The timelapse of seqs `from`..`to` of a width x height canvas: up to 100 frames (no more than there
 * are placements), scaled up to ~512 px a side, all within the server's limits. Null when there is
 * nothing to animate (fewer than two seqs) or the canvas is too large for even two frames.
 */
export function timelapsePlan(width: number, height: number, from: number, to: number): TimelapsePlan | null {
  if (!(to > from) || width < 1 || height < 1) return null;
  let scale = Math.max(1, Math.min(MAX_SCALE, Math.floor(TARGET_SIDE / Math.max(width, height))));
  while (scale > 1 && Math.max(width, height) * scale > MAX_SIDE) scale--;
  const fits = (s: number): number => Math.floor(MAX_TOTAL_PIXELS / (width * s * height * s));
  while (scale > 1 && fits(scale) < 2) scale--;
  const frames = Math.min(TIMELAPSE_FRAMES, to - from + 1, fits(scale));
  if (frames < 2 || Math.max(width, height) * scale > MAX_SIDE) return null;
  return { from, to, frames, scale, delay: TIMELAPSE_DELAY_MS };
}

/**
 * The timelapse of one rectangle of the canvas at `to` (a canvas over 4096 a side, whose whole
 * timelapse the server refuses: the view's region), planned for the rectangle's size.
 */
export function regionTimelapsePlan(region: Rect, from: number, to: number): TimelapsePlan | null {
  const plan = timelapsePlan(region.w, region.h, from, to);
  return plan && { ...plan, region };
}

export function timelapseUrl(p: TimelapsePlan): string {
  const base = `/api/history/timelapse?from=${p.from}&to=${p.to}&frames=${p.frames}&scale=${p.scale}&delay=${p.delay}`;
  return p.region ? base + regionQuery(p.region) : base;
}

export function timelapseFileName(p: TimelapsePlan): string {
  const r = p.region;
  return r ? `timelapse-${p.from}-${p.to}-at-${r.x}-${r.y}-${r.w}x${r.h}.png` : `timelapse-${p.from}-${p.to}.png`;
}

/** An error answer of the history endpoints: its status, JSON body (if any) and Retry-After (s). */
export interface HistoryRefusal {
  status: number;
  body: unknown;
  retryAfter: string | null;
}

/** What to tell the user about a refused history request. */
export function historyErrorText(r: HistoryRefusal, what: 'image' | 'timelapse'): string {
  const body = typeof r.body === 'object' && r.body !== null ? (r.body as Record<string, unknown>) : {};
  const code = typeof body['error'] === 'string' ? body['error'] : null;
  const message = typeof body['message'] === 'string' ? body['message'] : null;
  const seconds = Number(r.retryAfter);
  const later = Number.isFinite(seconds) && seconds > 0 ? `in ${Math.ceil(seconds)} s` : 'in a few seconds';
  switch (code) {
    case 'busy':
      return what === 'timelapse'
        ? `The server is busy building another timelapse: try again ${later}.`
        : `The server is busy: retrying ${later}.`;
    case 'unavailable':
      return 'History is unavailable right now (this server cannot reach the canvas writer): try again later.';
    case 'too_large':
      // The page asks for at most 4096 px a side (a larger canvas by the region in view), so this is
      // a server that draws less than that: a smaller area may still be drawn.
      return what === 'image'
        ? `The server refused a past canvas this large${message ? ` (${message})` : ''}: zoom in to see the history of a smaller area, or click a pixel to see its own history.`
        : `That timelapse is too large for the server: ${message ?? 'fewer frames needed'}.`;
    default:
      return `The server could not show history (${code ?? `HTTP ${r.status}`})${message ? `: ${message}` : '.'}`;
  }
}

/**
 * The canvas as it was at a moment (Unix ms); the answer's `X-History-Seq` says which seq that is.
 * With `region`, only that rectangle (in the coordinates of the canvas at that seq).
 */
export function historyImageAtUrl(at: number, region?: Rect): string {
  return `/api/history/image?at=${Math.floor(at)}${region ? regionQuery(region) : ''}`;
}

/**
 * How far a key moves the history slider over seq 0..max: the arrows a hundredth of the history (one
 * placement with Shift), Page Up / Page Down a tenth; null for keys the slider handles itself (Home,
 * End) or ignores. Over 13,000 placements an arrow moved by one, which made the slider useless by key.
 */
export function sliderStep(key: string, shift: boolean, max: number): number | null {
  const small = shift ? 1 : Math.max(1, Math.round(max / 100));
  const large = Math.max(1, Math.round(max / 10));
  switch (key) {
    case 'ArrowRight':
    case 'ArrowUp':
      return small;
    case 'ArrowLeft':
    case 'ArrowDown':
      return -small;
    case 'PageUp':
      return large;
    case 'PageDown':
      return -large;
    default:
      return null;
  }
}

/** A time step (the −1 h … +1 h buttons) from `from`, never past `now` (the server refuses the future). */
export function stepTime(from: number, stepMs: number, now: number): number {
  return Math.max(0, Math.min(now, from + stepMs));
}

/** A `datetime-local` input's value for Unix ms `at`, in the page's time zone, to the second. */
export function localInputValue(at: number): string {
  const d = new Date(at);
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}` +
    `T${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
  );
}

/** Unix ms from a `datetime-local` value (local time), or null when empty or malformed. */
export function parseLocalInput(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return null;
  const ms = new Date(value).getTime(); // no zone: read as local time
  return Number.isFinite(ms) ? ms : null;
}

/** The label over the canvas: the moment shown when known, and always its seq. */
export function historyLabel(seq: number, at: number | null, format: (ms: number) => string): string {
  return at === null ? `History: seq ${seq}` : `History: ${format(at)} · seq ${seq}`;
}
