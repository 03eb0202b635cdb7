/**
 * The HTTP side of tile mode: GET /api/canvas (is the canvas large enough for tiles?) and
 * GET /tiles/{level}/{tx}/{ty}.png with the page's own If-None-Match. The parsing is pure and unit
 * tested; the fetches are the browser's.
 */
import type { ImageResponse } from '../connection/image-poller.ts';
import { type CanvasResize, parseResizes } from '../board/resizes.ts';
import type { TileLayout } from './tile-region.ts';
import type { TileAnswer } from './tile-sync.ts';

/**
 * Canvases larger than this a side load from tiles. Below it the whole-canvas PNG is small enough
 * (2000 x 2000 of r/place-like art is a few hundred KB, once) and the page keeps the whole-canvas
 * path; above it a phone showing a 390 x 844 corner would download megabytes it never shows.
 */
export const TILE_MODE_SIDE = 2048;

/** What GET /api/canvas says that tile mode uses. */
export interface CanvasInfo extends TileLayout {
  palette: number[];
  seq: number;
  /** The resizes so far, oldest first (board/resizes.ts). */
  resizes: CanvasResize[];
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** The body of GET /api/canvas, checked as far as tile mode relies on it; null for anything else. */
export function parseCanvasInfo(body: unknown): CanvasInfo | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as Record<string, unknown>;
  const { width, height, tileSize, maxLevel, palette, seq } = b;
  if (!isCount(width) || !isCount(height) || !isCount(tileSize) || !isCount(maxLevel) || !isCount(seq)) return null;
  if (width === 0 || height === 0 || tileSize === 0) return null;
  if (!Array.isArray(palette) || !palette.every(isCount)) return null;
  return { width, height, tileSize, maxLevel, palette: palette as number[], seq, resizes: parseResizes(b['resizes']) };
}

/**
 * Tile mode or not: `?tiles=1` in the page's URL forces it (any canvas), `?tiles=0` forbids it, else
 * a canvas with a side over TILE_MODE_SIDE uses it.
 */
export function wantsTiles(info: Pick<CanvasInfo, 'width' | 'height'>, search: string): boolean {
  const forced = new URLSearchParams(search).get('tiles');
  if (forced === '1') return true;
  if (forced === '0') return false;
  return Math.max(info.width, info.height) > TILE_MODE_SIDE;
}

/** GET /api/canvas; null when it cannot be had (an older server, the network): the page stays whole-canvas. */
export async function browserCanvasInfo(): Promise<CanvasInfo | null> {
  try {
    const res = await fetch('/api/canvas', { headers: { accept: 'application/json' }, cache: 'no-store' });
    return res.ok ? parseCanvasInfo(await res.json()) : null;
  } catch {
    return null;
  }
}

/**
 * The poll of tile mode while the WebSocket is blocked (connection/image-poller.ts): GET /api/canvas
 * with If-None-Match, a few hundred bytes, instead of the whole canvas; a new body means a new seq,
 * and the page reloads its tiles (unchanged ones answer 304).
 */
export async function browserPollCanvasInfo(ifNoneMatch: string | null): Promise<ImageResponse> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (ifNoneMatch !== null) headers['If-None-Match'] = ifNoneMatch;
  const res = await fetch('/api/canvas', { headers, cache: 'no-store' });
  const body = res.status === 200 ? new Uint8Array(await res.arrayBuffer()) : null;
  return { status: res.status, etag: res.headers.get('ETag'), body };
}

/** `X-Seq` (the seq a tile shows) as a number, or null. */
export function parseSeqHeader(text: string | null): number | null {
  return text !== null && /^\d{1,15}$/.test(text) ? Number(text) : null;
}

/**
 * One tile, bypassing the HTTP cache so our own If-None-Match decides (a cached copy would carry an
 * old X-Seq while its ETag matched newer content).
 */
export async function browserFetchTile(
  level: number,
  tx: number,
  ty: number,
  etag: string | null,
): Promise<TileAnswer> {
  const headers: Record<string, string> = {};
  if (etag !== null) headers['If-None-Match'] = etag;
  try {
    const res = await fetch(`/tiles/${level}/${tx}/${ty}.png`, { headers, cache: 'no-store' });
    if (res.status === 304) return { kind: 'same' };
    if (!res.ok) return { kind: 'failed' };
    const png = new Uint8Array(await res.arrayBuffer());
    return { kind: 'png', png, seq: parseSeqHeader(res.headers.get('X-Seq')), etag: res.headers.get('ETag') };
  } catch {
    return { kind: 'failed' };
  }
}
