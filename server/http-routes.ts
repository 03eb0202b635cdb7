/**
 * HTTP routes. The hot path, GET /image, writes the cached frame's bytes and nothing else: no encode,
 * no copy, no await (so no onAborted is needed: `res` is used only inside the synchronous callback).
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Frame } from './tick.ts';

export interface HttpDeps {
  frame: () => Frame;
  health: () => Record<string, unknown>;
  indexHtml: Buffer;
}

/** If-None-Match matches when any listed tag equals ours under weak comparison (RFC 9110 13.1.2). */
export function etagMatches(header: string, etag: string): boolean {
  if (header === '') return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

function imageHeaders(res: HttpResponse, frame: Frame, status: string): void {
  res.writeStatus(status);
  res.writeHeader('Content-Type', 'image/png');
  res.writeHeader('ETag', frame.etag);
  res.writeHeader('Cache-Control', 'public, max-age=1');
}

function serveImage(res: HttpResponse, req: HttpRequest, head: boolean, frame: Frame): void {
  // The query string is ignored on purpose: /image?cachebust=123 gets the same cached bytes.
  if (etagMatches(req.getHeader('if-none-match'), frame.etag)) {
    imageHeaders(res, frame, '304 Not Modified');
    res.endWithoutBody();
    return;
  }
  imageHeaders(res, frame, '200 OK');
  if (head) {
    // endWithoutBody(length) aborts the process in this uWS build; the explicit header is portable.
    res.writeHeader('Content-Length', String(frame.png.length));
    res.endWithoutBody();
  } else {
    res.end(frame.png);
  }
}

function text(res: HttpResponse, status: string, body: string, extra?: Record<string, string>): void {
  res.writeStatus(status);
  res.writeHeader('Content-Type', 'text/plain; charset=utf-8');
  for (const [k, v] of Object.entries(extra ?? {})) res.writeHeader(k, v);
  res.end(body);
}

function methodNotAllowed(allow: string) {
  return (res: HttpResponse, req: HttpRequest) =>
    text(res, '405 Method Not Allowed', `${req.getCaseSensitiveMethod()} not allowed; use ${allow}\n`, { Allow: allow });
}

export function registerHttpRoutes(app: TemplatedApp, deps: HttpDeps): void {
  app.get('/image', (res, req) => serveImage(res, req, false, deps.frame()));
  app.head('/image', (res, req) => serveImage(res, req, true, deps.frame()));
  app.any('/image', methodNotAllowed('GET, HEAD'));

  app.get('/healthz', (res) => {
    res.writeStatus('200 OK');
    res.writeHeader('Content-Type', 'application/json');
    res.writeHeader('Cache-Control', 'no-store');
    res.end(JSON.stringify(deps.health()));
  });
  app.any('/healthz', methodNotAllowed('GET'));

  app.get('/', (res) => {
    res.writeStatus('200 OK');
    res.writeHeader('Content-Type', 'text/html; charset=utf-8');
    res.writeHeader('Cache-Control', 'no-cache');
    res.end(deps.indexHtml);
  });
  app.any('/', methodNotAllowed('GET'));

  app.any('/*', (res, req) => text(res, '404 Not Found', `no route for ${req.getUrl().slice(0, 200)}\n`));
}
