/**
 * `GET /api/canvas` (what a client needs to start: size, palette, tiles, timings, seq) and
 * `GET /tiles/{level}/{tx}/{ty}.png`. The tile's path is checked here on every role, so a bad one
 * never reaches the writer; the answer comes from the authority (this process's tile cache, or the
 * writer's over the bus on an edge) and the 304 is decided here against its ETag.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { Authority } from '../placement/authority.ts';
import { TILE_CACHE_CONTROL } from '../tiles/tile-cache.ts';
import { parseTilePath, type TileLayout } from '../tiles/tile-layout.ts';
import { errorAnswer, type HttpAnswer, writeAnswer } from './answer.ts';
import { etagMatches, notModified } from './cache.ts';
import type { Router } from './guard.ts';
import { trackAborted } from './send.ts';

export interface TileRouteDeps {
  authority: Pick<Authority, 'tile'>;
  layout: TileLayout;
  /** Part of /api/canvas's ETag, like /image's: two canvases never share one. */
  canvasId: string;
  palette: readonly number[];
  tickMs: number;
  cooldownMs: number;
  /** The resizes so far (the front appends each one as its tick arrives). */
  resizes: readonly CanvasInfo['resizes'][number][];
  /** The seq of the frame this process serves (/image's), the same on every edge after a tick. */
  seq: () => number;
}

/** The body of `GET /api/canvas` (README, API reference). */
export interface CanvasInfo {
  width: number;
  height: number;
  tileSize: number;
  /** Levels 0..maxLevel exist; level maxLevel is one tile. */
  maxLevel: number;
  /** 0xRRGGBB per palette index, as in hello. */
  palette: number[];
  seq: number;
  tickMs: number;
  cooldownMs: number;
  /**
   * The canvas's resizes, oldest first: at `seq` it grew to `width` x `height` with `left` columns
   * and `top` rows added there, so a pixel at (x, y) before it is at (x + left, y + top) after.
   */
  resizes: Array<{ seq: number; width: number; height: number; left: number; top: number }>;
}

export function registerTileRoutes(router: Router, deps: TileRouteDeps): void {
  const { layout } = deps;
  // Built once per seq: every poller between two ticks gets the same bytes.
  let info: { seq: number; answer: HttpAnswer } | undefined;
  const canvasInfo = (): HttpAnswer => {
    const seq = deps.seq();
    if (info?.seq === seq) return info.answer;
    const body: CanvasInfo = {
      width: layout.width,
      height: layout.height,
      tileSize: layout.tileSize,
      maxLevel: layout.maxLevel,
      palette: [...deps.palette],
      seq,
      tickMs: deps.tickMs,
      cooldownMs: deps.cooldownMs,
      resizes: [...deps.resizes],
    };
    const answer: HttpAnswer = {
      status: '200 OK',
      headers: {
        'Content-Type': 'application/json',
        ETag: `"${deps.canvasId}-${seq}-info"`,
        'Cache-Control': TILE_CACHE_CONTROL,
      },
      body: Buffer.from(JSON.stringify(body)),
    };
    info = { seq, answer };
    return answer;
  };
  const serveInfo = (head: boolean) => (res: HttpResponse, req: HttpRequest) => {
    const a = canvasInfo();
    const etag = a.headers.ETag ?? '';
    if (etagMatches(req.getHeader('if-none-match'), etag))
      return writeAnswer(res, notModified(etag, TILE_CACHE_CONTROL));
    writeAnswer(res, { ...a, head });
  };
  router.route('/api/canvas', { get: serveInfo(false), head: serveInfo(true) });

  const serveTile = (head: boolean) => (res: HttpResponse, req: HttpRequest) => {
    // Everything from req now: it is invalid once this callback returns (uWS v20.30.0).
    const parsed = parseTilePath(layout, req.getParameter(0), req.getParameter(1), req.getParameter(2));
    if (!parsed.ok) return writeAnswer(res, errorAnswer(parsed.code, parsed.message));
    const ifNoneMatch = req.getHeader('if-none-match');
    const url = req.getUrl();
    const state = trackAborted(res);
    deps.authority.tile(
      parsed.tile,
      router.guard.later(res, url, (a: HttpAnswer) => {
        const etag = a.headers.ETag;
        if (a.status.startsWith('200') && etag !== undefined && etagMatches(ifNoneMatch, etag)) {
          return writeAnswer(res, notModified(etag, TILE_CACHE_CONTROL), state);
        }
        writeAnswer(res, { ...a, head }, state);
      }),
    );
  };
  router.route('/tiles/:level/:tx/:ty', { get: serveTile(false), head: serveTile(true) });
}
