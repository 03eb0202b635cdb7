/**
 * The time window slider: two thumbs over a span ending now (the last 15 minutes … the last 7 days),
 * mapped to Unix ms; the right thumb at its end means "up to now" (an open window). And the console's
 * time texts. Pure: the page's clock is passed in, so this is unit tested.
 */
import type { TimeWindow } from './queries.ts';

/** Spans offered, shortest first: a raid is usually the last minutes, a slow griefer the last days. */
export const SPANS: ReadonlyArray<{ label: string; ms: number }> = [
  { label: '15 min', ms: 15 * 60_000 },
  { label: '1 hour', ms: 3_600_000 },
  { label: '6 hours', ms: 6 * 3_600_000 },
  { label: '24 hours', ms: 86_400_000 },
  { label: '7 days', ms: 7 * 86_400_000 },
];

/** Positions of each thumb: fine enough for a second over 15 minutes (900), one slider step ~10 min over 7 days. */
export const SLIDER_STEPS = 1000;

/**
 * The window the thumbs at `from` and `to` (0..SLIDER_STEPS) choose over the span ending at `now`.
 * Thumbs on one spot still make a window one step long: the server refuses an empty one.
 */
export function windowFromSlider(spanMs: number, now: number, from: number, to: number): TimeWindow {
  const lo = Math.max(0, Math.min(from, to, SLIDER_STEPS - 1));
  const hi = Math.max(lo + 1, Math.min(SLIDER_STEPS, Math.max(from, to)));
  const start = now - spanMs;
  const at = (pos: number): number => Math.floor(start + (spanMs * pos) / SLIDER_STEPS);
  return { since: at(lo), until: hi >= SLIDER_STEPS ? null : at(hi) };
}

/** The thumb position that shows time `at` over the span ending at `now` (clamped to the slider). */
export function sliderAt(spanMs: number, now: number, at: number): number {
  const pos = Math.round(((at - (now - spanMs)) / spanMs) * SLIDER_STEPS);
  return Math.max(0, Math.min(SLIDER_STEPS, pos));
}

const two = (n: number): string => String(n).padStart(2, '0');

/** Local time of day to the second, with the date in front when it is not the day of `now`. */
export function clockText(at: number, now: number): string {
  const d = new Date(at);
  const n = new Date(now);
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  const sameDay = d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate();
  return sameDay ? time : `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${time}`;
}

/** How long ago, in the largest whole unit: "12 s ago", "3 min ago", "5 h ago", "2 d ago". */
export function agoText(at: number, now: number): string {
  const s = Math.max(0, Math.floor((now - at) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** The window as the label over the slider says it: "14:02:10 → now (15 min)". */
export function windowText(w: TimeWindow, now: number): string {
  const end = w.until ?? now;
  const minutes = Math.max(0, Math.round((end - w.since) / 60_000));
  const length = minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
  return `${clockText(w.since, now)} → ${w.until === null ? 'now' : clockText(w.until, now)} (${length})`;
}

/** A remaining time in seconds as "4 min 05 s" / "2 h 10 min", for lock and ban expiries. */
export function durationText(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${two(s % 60)} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${two(Math.floor((s % 3600) / 60))} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}
