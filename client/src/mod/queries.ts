/**
 * The addresses and bodies the console sends, built from what the moderator chose (a rectangle, a time
 * window, identities). Pure, so the contract with the admin API is unit tested in one place. Nothing
 * here ever carries the admin token: it goes in the Authorization header only (admin-api.ts).
 */
import type { Rect } from './answers.ts';

/** A time window in Unix ms; `until` null is "up to now" (open, so it keeps following new placements). */
export interface TimeWindow {
  since: number;
  until: number | null;
}

/** Placements per page: enough to see a raid's pattern, few enough to read. */
export const PAGE_SIZE = 50;

export function placementsPath(rect: Rect, window: TimeWindow, before: number | null, limit = PAGE_SIZE): string {
  const q = new URLSearchParams({
    x: String(rect.x),
    y: String(rect.y),
    width: String(rect.width),
    height: String(rect.height),
    since: String(Math.floor(window.since)),
  });
  if (window.until !== null) q.set('until', String(Math.floor(window.until)));
  q.set('limit', String(limit));
  if (before !== null) q.set('before', String(before));
  return `/api/admin/placements?${q}`;
}

/**
 * The history heatmap of the window (public, no token): `fromAt`/`toAt` are the history API's names.
 * An open window still sends `toAt`, two seconds back: without it (or within the last second) the
 * server serves its shared "up to now" build, rounded down to 10 s and up to 30 s old, which misses
 * the raid the moderator is looking at. The console asks only when the window changes, not per poll.
 */
export function heatmapPath(window: TimeWindow, now: number): string {
  const until = window.until ?? now - HEATMAP_LAG_MS;
  const q = new URLSearchParams({ fromAt: String(Math.floor(window.since)), toAt: String(Math.floor(until)) });
  return `/api/history/heatmap?${q}`;
}

/** How far behind now an open window's heatmap ends (the server refuses a `toAt` in its future). */
export const HEATMAP_LAG_MS = 2000;

export interface RollbackBody {
  x: number;
  y: number;
  width: number;
  height: number;
  since: number;
  until?: number;
  ids?: string[];
}

/** The body of a rollback and of its preview (the same, so the preview shows what will be done). */
export function rollbackBody(rect: Rect, window: TimeWindow, ids: readonly string[]): RollbackBody {
  return {
    x: rect.x,
    y: rect.y,
    width: rect.width,
    height: rect.height,
    since: Math.floor(window.since),
    ...(window.until === null ? {} : { until: Math.floor(window.until) }),
    ...(ids.length > 0 ? { ids: [...ids] } : {}),
  };
}

/** The server previews at most this many pixels a side (it answers 413 beyond). */
export const PREVIEW_MAX_SIDE = 1024;

export function previewFits(rect: Rect): boolean {
  return rect.width <= PREVIEW_MAX_SIDE && rect.height <= PREVIEW_MAX_SIDE;
}

/** Ban expiries offered, longest last; null seconds is "until lifted" (no `seconds` in the body). */
export const EXPIRIES: ReadonlyArray<{ label: string; seconds: number | null }> = [
  { label: '1 hour', seconds: 3_600 },
  { label: '24 hours', seconds: 86_400 },
  { label: '7 days', seconds: 604_800 },
  { label: '30 days', seconds: 2_592_000 },
  { label: 'until lifted', seconds: null },
];

export type BanTarget = { id: string } | { prefix: string };

export function banBody(target: BanTarget, reason: string, seconds: number | null): Record<string, unknown> {
  return { ...target, reason: reason.trim(), ...(seconds === null ? {} : { seconds }) };
}

/** What the ban form's one field holds: a 16-hex identity id, else a network (the server checks the CIDR). */
export function banTarget(text: string): BanTarget | null {
  const t = text.trim();
  if (t === '') return null;
  return /^[0-9a-f]{16}$/i.test(t) ? { id: t.toLowerCase() } : { prefix: t };
}
