/**
 * HTTP routes. The hot path, GET /image, writes the cached frame's bytes and nothing else: no encode,
 * no copy, no await (so no onAborted is needed: `res` is used only inside the synchronous callback).
 * It writes its headers by hand rather than through an `HttpAnswer` object: one object fewer per
 * request on the path that serves tens of thousands a second.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import {
  ASSET_PREFIX,
  INDEX_CACHE_CONTROL,
  MOD_PAGE_HEADERS,
  assetCacheControl,
  loadClientSite,
  type StaticFile,
} from './static-files.ts';
import { endBounded, endWithoutBodyDeferred } from './send.ts';
import { jsonAnswer, sendError, writeAnswer } from './answer.ts';
import { etagMatches } from './cache.ts';
import { chooseVariant, parseAcceptEncoding } from './accept-encoding.ts';
import type { Router } from './guard.ts';
import { HttpCode } from './status.ts';
import { sessionCookie } from '../identity/tokens.ts';
import type { RequestIdentity } from '../identity/request-identity.ts';
import type { Frame } from '../streams/frame.ts';
import { ErrorCode } from '../../protocol/messages.ts';

export interface HttpDeps {
  frame: () => Frame;
  health: () => Record<string, unknown>;
  /** The page at `/` (client/index.html); its /assets/ links are versioned by static-files.ts. */
  indexHtml: Buffer;
  /** The moderation console at `/mod` (client/mod.html), a page of the same build; absent: no `/mod`. */
  modHtml?: Buffer;
  /** Folder of the built client bundle (default client/dist/). */
  clientDir?: string;
  /**
   * `GET /` hands a visitor without a valid `canvas_token` cookie a fresh identity as that
   * cookie, so the page's WebSocket (same origin, cookie sent) keeps one identity across reloads.
   */
  identify: RequestIdentity;
}

/** Why a canvas over 4096 a side has no `/image`, and where to look instead. */
export const TILES_ONLY =
  'this canvas is over 4096 pixels a side: it has no whole-canvas image; read GET /api/canvas, then GET /tiles/{level}/{tx}/{ty}.png';

function imageHeaders(res: HttpResponse, frame: Frame, status: string): void {
  res.writeStatus(status);
  res.writeHeader('Content-Type', 'image/png');
  res.writeHeader('ETag', frame.etag);
  res.writeHeader('Cache-Control', 'public, max-age=1');
}

function serveImage(res: HttpResponse, req: HttpRequest, head: boolean, frame: Frame): void {
  const image = frame.image;
  if (!image) return sendError(res, ErrorCode.USE_TILES, TILES_ONLY);
  // The query string is ignored on purpose: /image?cachebust=123 gets the same cached bytes.
  if (etagMatches(req.getHeader('if-none-match'), frame.etag)) {
    imageHeaders(res, frame, '304 Not Modified');
    endWithoutBodyDeferred(res); // not now: see send.ts (pipelined 304s without reading)
    return;
  }
  imageHeaders(res, frame, '200 OK');
  if (head) {
    // endWithoutBody(length) aborts the process in uWS.js v20.30.0; the explicit header is portable.
    res.writeHeader('Content-Length', String(image.png.length));
    endWithoutBodyDeferred(res);
  } else {
    endBounded(res, image.png); // not res.end: a client that does not read holds one PNG at most
  }
}

/**
 * A file of the built client in the smallest variant the request's Accept-Encoding allows, with that
 * variant's ETag. 304 when If-None-Match names any variant the request accepts (the browser holds
 * those bytes, and they are current: RFC 9111 4.3.4 has a cache refresh the response it stored under
 * that ETag), so a page fetched before the compressed variants were ready revalidates with a 304.
 */
function serveStatic(
  res: HttpResponse,
  req: HttpRequest,
  head: boolean,
  file: StaticFile,
  cacheControl: string,
  extra?: Record<string, string>,
): void {
  const accepted = parseAcceptEncoding(req.getHeader('accept-encoding'));
  const ifNoneMatch = req.getHeader('if-none-match');
  const held =
    ifNoneMatch === ''
      ? undefined
      : file.variants.find((v) => (v === file.identity || accepted(v.coding) > 0) && etagMatches(ifNoneMatch, v.etag));
  const variant = held ?? chooseVariant(file.variants, accepted, file.identity);
  const headers: Record<string, string> = {
    ...extra,
    'Content-Type': file.contentType,
    ETag: variant.etag,
    'Cache-Control': cacheControl,
    // Every answer depends on Accept-Encoding once the variants exist, the identity's included.
    Vary: 'Accept-Encoding',
    'X-Content-Type-Options': 'nosniff',
  };
  if (variant.coding !== 'identity') headers['Content-Encoding'] = variant.coding;
  writeAnswer(res, { status: held ? '304 Not Modified' : '200 OK', headers, body: variant.body, head });
}

export function registerHttpRoutes(router: Router, deps: HttpDeps): void {
  router.route('/image', {
    get: (res, req) => serveImage(res, req, false, deps.frame()),
    head: (res, req) => serveImage(res, req, true, deps.frame()),
  });

  router.route('/healthz', {
    get: (res) => writeAnswer(res, jsonAnswer('200 OK', deps.health())),
  });

  // Read once here, at startup: serving is then a map lookup, like /image.
  const site = loadClientSite(deps.indexHtml, deps.clientDir, deps.modHtml);
  const servePage = (head: boolean) => (res: HttpResponse, req: HttpRequest) => {
    // Read the identity while req is valid (this synchronous callback); nothing awaits below.
    // Past the address's identity limit the page is served without one: it can still watch.
    const identity = deps.identify(res, req).identity;
    const extra = identity?.fresh ? { 'Set-Cookie': sessionCookie(identity.token) } : undefined;
    serveStatic(res, req, head, site.index, INDEX_CACHE_CONTROL, extra);
  };
  router.route('/', { get: servePage(false), head: servePage(true) });

  // The console mints no identity: a moderator is not a player, and its requests carry the admin
  // token instead. It is served whether or not an admin token is configured; without one, its first
  // request says the moderation API is off.
  const modPage = site.mod;
  if (modPage) {
    const serveMod = (head: boolean) => (res: HttpResponse, req: HttpRequest) =>
      serveStatic(res, req, head, modPage, INDEX_CACHE_CONTROL, MOD_PAGE_HEADERS);
    router.route('/mod', { get: serveMod(false), head: serveMod(true) });
  }

  const serveAsset = (head: boolean) => (res: HttpResponse, req: HttpRequest) => {
    const file = site.assets.get(req.getUrl());
    if (!file) {
      const hint = site.assets.size === 0 ? ' (the client is not built: run npm run build)' : '';
      sendError(res, HttpCode.NOT_FOUND, `no asset ${req.getUrl().slice(0, 200)}${hint}`);
      return;
    }
    serveStatic(res, req, head, file, assetCacheControl(file, req.getQuery() ?? ''));
  };
  router.route(`${ASSET_PREFIX}*`, { get: serveAsset(false), head: serveAsset(true) });

  router.any('/*', (res, req) => sendError(res, HttpCode.NOT_FOUND, `no route for ${req.getUrl().slice(0, 200)}`));
}
