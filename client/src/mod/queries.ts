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
 * `region`: of that rectangle only (a canvas over 4096 a side has no whole heatmap: heatmapRegion).
 */
export function heatmapPath(window: TimeWindow, now: number, region: Rect | null = null): string {
  const until = window.until ?? now - HEATMAP_LAG_MS;
  const q = new URLSearchParams({ fromAt: String(Math.floor(window.since)), toAt: String(Math.floor(until)) });
  if (region) {
    q.set('x', String(region.x));
    q.set('y', String(region.y));
    q.set('w', String(region.width));
    q.set('h', String(region.height));
  }
  return `/api/history/heatmap?${q}`;
}

/** The server's largest heatmap a side (README "History"): a larger canvas's is asked for by region. */
export const HEATMAP_MAX_SIDE = 4096;

/** Whether a heatmap of this canvas is of the selection only (over 4096 a side), not of the whole. */
export function heatmapBySelection(board: { width: number; height: number }): boolean {
  return board.width > HEATMAP_MAX_SIDE || board.height > HEATMAP_MAX_SIDE;
}

/**
 * What heatmap to ask for: the whole canvas (`region` null) up to 4096 a side; over that, the selected
 * rectangle when there is one within 4096 a side, else why there is none (`why`).
 */
export function heatmapRegion(
  board: { width: number; height: number },
  selection: Rect | null,
): { region: Rect | null } | { why: string } {
  if (!heatmapBySelection(board)) return { region: null };
  if (!selection)
    return { why: `select a rectangle of at most ${HEATMAP_MAX_SIDE} × ${HEATMAP_MAX_SIDE} for its heatmap` };
  if (selection.width > HEATMAP_MAX_SIDE || selection.height > HEATMAP_MAX_SIDE) {
    return { why: `the selection is over ${HEATMAP_MAX_SIDE} px a side: select less for its heatmap` };
  }
  return { region: selection };
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

/** The body of POST /api/admin/bots. */
export interface BotMintBody {
  name: string;
  everyMs: number;
  region?: Rect;
  seconds?: number;
}

/** The bot form's fields as typed (strings; empty region fields or expiry: none). */
export interface BotFields {
  name: string;
  everySeconds: string;
  x: string;
  y: string;
  width: string;
  height: string;
  /** Seconds until it expires, '' for until revoked (the select's value). */
  expiry: string;
}

/** The server's bounds (moderation/bot-admin.ts BOT_LIMITS), checked here to say what is wrong first. */
const BOT_NAME_CHARS = 64;
const MIN_EVERY_MS = 100;
const MAX_EVERY_MS = 86_400_000;

const wholeNumber = (t: string): number | null => (/^\d{1,9}$/.test(t.trim()) ? Number(t.trim()) : null);

/** The mint body from the form, or what is wrong with it (the server checks again, against the canvas too). */
export function botMintBody(f: BotFields): { ok: true; body: BotMintBody } | { ok: false; message: string } {
  const name = f.name.trim();
  if (name.length < 1 || name.length > BOT_NAME_CHARS)
    return { ok: false, message: `the name must be 1 to ${BOT_NAME_CHARS} characters` };
  const seconds = Number(f.everySeconds.trim());
  const everyMs = Math.round(seconds * 1000);
  if (f.everySeconds.trim() === '' || !Number.isFinite(seconds) || everyMs < MIN_EVERY_MS || everyMs > MAX_EVERY_MS)
    return { ok: false, message: 'one pixel every 0.1 s to 86,400 s (a day)' };
  const body: BotMintBody = { name, everyMs };
  const parts = [f.x, f.y, f.width, f.height];
  if (parts.some((p) => p.trim() !== '')) {
    const [x, y, width, height] = parts.map(wholeNumber);
    if (x == null || y == null || width == null || height == null || width < 1 || height < 1)
      return { ok: false, message: 'the region is x, y, w, h as whole numbers (w, h at least 1), or all empty' };
    body.region = { x, y, width, height };
  }
  if (f.expiry !== '') body.seconds = Number(f.expiry);
  return { ok: true, body };
}

/** Bot expiries offered; null seconds: until revoked. */
export const BOT_EXPIRIES: ReadonlyArray<{ label: string; seconds: number | null }> = [
  { label: 'until revoked', seconds: null },
  { label: '1 hour', seconds: 3_600 },
  { label: '24 hours', seconds: 86_400 },
  { label: '7 days', seconds: 604_800 },
  { label: '30 days', seconds: 2_592_000 },
];
