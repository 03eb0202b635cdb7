/**
 * Query parameters of the history endpoints, checked into jobs, and their documented limits. Pure:
 * the route passes a query reader and the current state, so this file tests without a server.
 */
import { MAX_CANVAS_SIDE } from '../canvas/canvas-size.ts';
import { WHOLE_CANVAS_MAX_SIDE } from '../canvas/canvas.ts';
import { HttpCode } from '../http/status.ts';
import type { Region } from './jobs.ts';
import type { TimelapseJob } from './timelapse.ts';

/** The limits README documents; over them a request answers 400 (bad value) or 413 (too much to build). */
export const HISTORY_LIMITS = {
  /** Frames of one timelapse (at least 2: one frame is not an animation). */
  maxFrames: 300,
  /**
   * Output pixels of one timelapse, all frames together: 100 frames of 1000 x 1000. Bounds the time
   * of a build (its frames are written one at a time, so memory is one frame's, timelapse.ts).
   */
  maxTotalPixels: 100_000_000,
  /**
   * Width or height of a timelapse frame after scaling, of a heatmap, and of a past canvas or a region
   * of one: whole grids up to 4096 a side (16 MB); a larger canvas is asked for by region.
   */
  maxSide: WHOLE_CANVAS_MAX_SIDE,
  maxScale: 16,
  minDelayMs: 10,
  /** APNG stores delays as a 16-bit numerator over 1000. */
  maxDelayMs: 10_000,
  maxLoop: 65_535,
  /** Placements one heatmap may count: a worker counts ~1.2 M a second (10 M: 7.9 s CPU), so ~17 s at most. */
  maxHeatmapPlacements: 20_000_000,
} as const;

/**
 * An end that reaches "now" (no `to`, or a `toAt` within the last second) is rounded down to the last
 * multiple of this many ms that is over a second old. Otherwise the end is the current seq, which
 * moves with every placement, so viewers a second apart never asked for the same build (measured
 * during placements: 5 concurrent default timelapses, 1 answered and 4 refused 429). A second of
 * margin makes the seq at that time final (a batch committing now may carry a time just before now).
 */
export const OPEN_END_STEP_MS = 10_000;

/** The time an open end is rounded down to at `now` (see OPEN_END_STEP_MS). */
export function openEndAt(now: number): number {
  return Math.floor((now - 1000) / OPEN_END_STEP_MS) * OPEN_END_STEP_MS;
}

export const DEFAULT_FRAMES = 100;
export const DEFAULT_DELAY_MS = 100;

/** Reads one query parameter (uWS `req.getQuery(name)`), undefined when absent. */
export type QueryReader = (name: string) => string | undefined;

export interface HistoryState {
  /** The last applied placement: history ends here. */
  currentSeq: number;
  /** The canvas's size now. */
  width: number;
  height: number;
  /** The size right after `seq` (the canvas grows: a timelapse or heatmap region is in `to`'s coordinates). */
  sizeAt?: (seq: number) => { width: number; height: number };
  now: number;
  seqAt: (unixMs: number) => number;
}

export type Parsed<T> =
  | {
      ok: true;
      value: T;
      /** The answer never changes (every point of it is in the past). */
      immutable: boolean;
      /**
       * Set when the answer moves (`immutable` false): the parameters that identify the request apart
       * from its moving end, canonical (sorted, only the parameters read), so every viewer of "the
       * timelapse up to now" with the same options has the same key whatever the second it asked.
       */
      moving?: string;
    }
  | { ok: false; code: typeof HttpCode.BAD_REQUEST | typeof HttpCode.TOO_LARGE; reason: string };

class ParamError extends Error {
  constructor(
    readonly code: typeof HttpCode.BAD_REQUEST | typeof HttpCode.TOO_LARGE,
    message: string,
  ) {
    super(message);
  }
}

const bad = (reason: string) => new ParamError(HttpCode.BAD_REQUEST, reason);

/**
 * A non-negative decimal integer, or undefined when absent. Not body.ts `queryInt`: that stops at 10
 * digits, and Unix milliseconds have 13.
 */
function uint(q: QueryReader, name: string): number | undefined {
  const text = q(name);
  if (text === undefined) return undefined;
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw bad(`${name} must be a non-negative integer, got "${text.slice(0, 40)}"`);
  }
  return Number(text);
}

function within(q: QueryReader, name: string, lo: number, hi: number, fallback: number): number {
  const v = uint(q, name) ?? fallback;
  if (v < lo || v > hi) throw bad(`${name} must be between ${lo} and ${hi}, got ${v}`);
  return v;
}

/**
 * A point of history by seq (`seqName`) or by Unix ms (`atName`), at most one of them. Results from a
 * time are fixed only once that time is past (later commits get later times), hence `fixed`.
 */
function point(
  q: QueryReader,
  s: HistoryState,
  seqName: string,
  atName: string,
  fallback: { seq: number; fixed: boolean } | undefined,
): { seq: number; fixed: boolean } {
  const seq = uint(q, seqName);
  const at = uint(q, atName);
  if (seq !== undefined && at !== undefined) throw bad(`give ${seqName} or ${atName}, not both`);
  if (seq !== undefined) {
    if (seq > s.currentSeq) throw bad(`${seqName}=${seq} is beyond the current seq ${s.currentSeq}`);
    return { seq, fixed: true };
  }
  if (at !== undefined) {
    if (at > s.now) throw bad(`${atName}=${at} is in the future (now ${s.now})`);
    // A second of margin: a batch committing now may carry a time just before `now`.
    return { seq: Math.min(s.seqAt(at), s.currentSeq), fixed: at < s.now - 1000 };
  }
  if (fallback === undefined) throw bad(`${seqName} or ${atName} is required`);
  return fallback;
}

/** The region parameters x, y, w, h: all four, or none (undefined). */
function regionParams(q: QueryReader): Region | undefined {
  const names = ['x', 'y', 'w', 'h'] as const;
  const given = names.filter((n) => q(n) !== undefined);
  if (given.length === 0) return undefined;
  if (given.length !== 4) throw bad('a region needs all of x, y, w, h');
  const [x, y, w, h] = names.map((n) => uint(q, n) as number) as [number, number, number, number];
  if (w < 1 || h < 1) throw bad(`region ${x},${y} ${w}x${h} is empty`);
  return { x, y, w, h };
}

/**
 * The whole canvas at `seq`, refused over 4096 a side (whole grids stop there: region-replay.ts):
 * `what` names the request in the refusal.
 */
function whole(s: HistoryState, seq: number, what: string): Region {
  const size = s.sizeAt?.(seq) ?? s;
  const max = HISTORY_LIMITS.maxSide;
  if (size.width > max || size.height > max) {
    throw new ParamError(
      HttpCode.TOO_LARGE,
      `the canvas at seq ${seq} is ${size.width} x ${size.height}, over ${max} a side: ${what} needs a region x, y, w, h of at most ${max} a side`,
    );
  }
  return { x: 0, y: 0, w: size.width, h: size.height };
}

/** `r`, refused over 4096 a side (the most one build reads or writes as a grid). */
function withinMaxSide(r: Region, what: string): Region {
  const max = HISTORY_LIMITS.maxSide;
  if (r.w > max || r.h > max)
    throw new ParamError(HttpCode.TOO_LARGE, `${what} of ${r.w} x ${r.h} is over ${max} a side`);
  return r;
}

/** A region of the canvas as it was at `seq`, inside it; the whole canvas when none is given. */
function region(q: QueryReader, s: HistoryState, seq: number, what: string): Region {
  const r = regionParams(q);
  if (!r) return whole(s, seq, what);
  const size = s.sizeAt?.(seq) ?? s;
  if (r.x + r.w > size.width || r.y + r.h > size.height) {
    throw bad(
      `region ${r.x},${r.y} ${r.w}x${r.h} is not inside the ${size.width} x ${size.height} canvas (at seq ${seq})`,
    );
  }
  return r;
}

function range(q: QueryReader, s: HistoryState): { from: number; to: number; fixed: boolean } {
  // No from: the start of history, which never moves; no to: now, which does.
  const from = point(q, s, 'from', 'fromAt', { seq: 0, fixed: true });
  let to = point(q, s, 'to', 'toAt', { seq: s.currentSeq, fixed: false });
  // An end that reaches now: the seq at the last closed step instead (OPEN_END_STEP_MS).
  if (!to.fixed) to = { seq: Math.min(s.seqAt(openEndAt(s.now)), s.currentSeq), fixed: false };
  if (from.seq > to.seq) throw bad(`from (seq ${from.seq}) is after to (seq ${to.seq})`);
  return { from: from.seq, to: to.seq, fixed: from.fixed && to.fixed };
}

/**
 * Runs a parser over a query reader that records what it read, for the moving key (Parsed.moving):
 * parameters nobody reads (a cache-buster) do not make a new key, nor does a `toAt` that was rounded.
 */
function parse<T>(
  q: QueryReader,
  s: HistoryState,
  fn: (q: QueryReader) => { value: T; immutable: boolean },
): Parsed<T> {
  const read = new Map<string, string>();
  const recording: QueryReader = (name) => {
    const v = q(name);
    if (v !== undefined) read.set(name, v);
    return v;
  };
  try {
    const r = fn(recording);
    if (r.immutable) return { ok: true, ...r };
    // A toAt that did not fix the end was rounded to the open end: it is not part of the request's identity.
    const toAt = read.get('toAt');
    if (toAt !== undefined && !(Number(toAt) < s.now - 1000)) read.delete('toAt');
    const moving = [...read]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    return { ok: true, value: r.value, immutable: false, moving };
  } catch (err) {
    if (err instanceof ParamError) return { ok: false, code: err.code, reason: err.message };
    throw err;
  }
}

/**
 * `seq=N` or `at=UNIX_MS` (one is required), and optionally a region `x, y, w, h` of the canvas right
 * after that seq, at most 4096 a side. Unlike a timelapse's, it may reach past the canvas of that time
 * (those cells are colour 0, as a resize adds them): a client shows the past of what it looks at
 * today, and need not know how large the canvas was then. Without one, the whole canvas, which over
 * 4096 a side is refused.
 */
export function parseImage(query: QueryReader, s: HistoryState): Parsed<{ seq: number; region?: Region }> {
  return parse<{ seq: number; region?: Region }>(query, s, (q) => {
    const p = point(q, s, 'seq', 'at', undefined);
    const r = regionParams(q);
    if (!r) {
      whole(s, p.seq, 'a past canvas');
      return { value: { seq: p.seq }, immutable: p.fixed };
    }
    if (r.x >= MAX_CANVAS_SIDE || r.y >= MAX_CANVAS_SIDE) {
      throw bad(`region ${r.x},${r.y} starts past the largest canvas (${MAX_CANVAS_SIDE} a side)`);
    }
    return { value: { seq: p.seq, region: withinMaxSide(r, 'a region') }, immutable: p.fixed };
  });
}

/** Frame seqs: the first `from`, the last `to`, evenly spaced between. */
export function frameSeqs(from: number, to: number, frames: number): number[] {
  return Array.from({ length: frames }, (_, i) => Math.round(from + ((to - from) * i) / (frames - 1)));
}

export function parseTimelapse(query: QueryReader, s: HistoryState): Parsed<TimelapseJob> {
  return parse(query, s, (q) => {
    const L = HISTORY_LIMITS;
    const { from, to, fixed } = range(q, s);
    const frames = within(q, 'frames', 2, L.maxFrames, DEFAULT_FRAMES);
    const r = region(q, s, to, 'a timelapse');
    const scale = within(q, 'scale', 1, L.maxScale, 1);
    const delayMs = within(q, 'delay', L.minDelayMs, L.maxDelayMs, DEFAULT_DELAY_MS);
    const loop = within(q, 'loop', 0, L.maxLoop, 0);
    const outW = r.w * scale;
    const outH = r.h * scale;
    if (outW > L.maxSide || outH > L.maxSide) {
      throw new ParamError(HttpCode.TOO_LARGE, `frames of ${outW} x ${outH} exceed ${L.maxSide} px a side`);
    }
    if (frames * outW * outH > L.maxTotalPixels) {
      throw new ParamError(
        HttpCode.TOO_LARGE,
        `${frames} frames of ${outW} x ${outH} are ${frames * outW * outH} pixels, over ${L.maxTotalPixels}: fewer frames, a region or a smaller scale`,
      );
    }
    return { value: { seqs: frameSeqs(from, to, frames), region: r, scale, delayMs, loop }, immutable: fixed };
  });
}

export function parseHeatmap(
  query: QueryReader,
  s: HistoryState,
): Parsed<{ from: number; to: number; region: Region }> {
  return parse(query, s, (q) => {
    const { from, to, fixed } = range(q, s);
    const r = withinMaxSide(region(q, s, to, 'a heatmap'), 'a heatmap');
    if (to - from > HISTORY_LIMITS.maxHeatmapPlacements) {
      throw new ParamError(
        HttpCode.TOO_LARGE,
        `${to - from} placements, over ${HISTORY_LIMITS.maxHeatmapPlacements} for one heatmap: narrow from..to`,
      );
    }
    return { value: { from, to, region: r }, immutable: fixed };
  });
}
