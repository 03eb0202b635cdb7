/**
 * Public JSON API: sessions, HTTP placement for clients without WebSocket (same code path and
 * durability as the WebSocket), and pixel lookup from history.
 */
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ErrorCode } from '../protocol/messages.ts';
import type { Canvas } from './canvas.ts';
import { bodyField, jsonInt, queryInt, readJsonBody, sendJson, type BodyState } from './http-body.ts';
import { sessionCookie } from './identity.ts';
import type { ModerationStore } from './moderation-store.ts';
import type { PlaceResult, PlacementService } from './placement-service.ts';
import type { RequestIdentity } from './request-identity.ts';

const MAX_BODY_BYTES = 1024;

export interface ApiDeps {
  canvas: Canvas;
  placements: PlacementService;
  moderation: ModerationStore;
  identify: RequestIdentity;
}

/** HTTP status for each refusal code: the contract of POST /api/pixel. */
function statusFor(code: ErrorCode): string {
  switch (code) {
    case ErrorCode.COOLDOWN:
      return '429 Too Many Requests';
    case ErrorCode.BANNED:
      return '403 Forbidden';
    case ErrorCode.STORE_FAILED:
    case ErrorCode.SHUTTING_DOWN:
      return '503 Service Unavailable';
    default:
      return '400 Bad Request';
  }
}

function answerPlacement(res: HttpResponse, state: BodyState, r: PlaceResult, headers: Record<string, string>): void {
  if (r.ok) return sendJson(res, state, '200 OK', { seq: r.seq, next: r.next }, headers);
  const extra = { ...headers };
  if (r.wait !== undefined) extra['Retry-After'] = String(Math.ceil(r.wait / 1000));
  const body: Record<string, unknown> = { error: r.code, message: r.message };
  if (r.wait !== undefined) body['wait'] = r.wait;
  sendJson(res, state, statusFor(r.code), body, extra);
}

export function registerApiRoutes(app: TemplatedApp, deps: ApiDeps): void {
  app.post('/api/session', (res, req) => {
    const state = { aborted: false };
    res.onAborted(() => (state.aborted = true));
    const { identity } = deps.identify(res, req);
    sendJson(res, state, '200 OK', { id: identity.id, token: identity.token }, { 'Set-Cookie': sessionCookie(identity.token) });
  });

  app.post('/api/pixel', (res, req) => {
    // Everything from req is read now: it is invalid once this callback returns.
    const client = deps.identify(res, req);
    const headers: Record<string, string> = client.identity.fresh ? { 'Set-Cookie': sessionCookie(client.identity.token) } : {};
    const state = { aborted: false };
    readJsonBody(res, MAX_BODY_BYTES, state, (body) => {
      if (!body.ok) return sendJson(res, state, body.status, { error: ErrorCode.INVALID_FIELD, message: body.reason });
      const x = jsonInt(bodyField(body.value, 'x'));
      const y = jsonInt(bodyField(body.value, 'y'));
      const color = jsonInt(bodyField(body.value, 'color'));
      if (x === undefined || y === undefined || color === undefined) {
        return sendJson(res, state, '400 Bad Request', { error: ErrorCode.INVALID_FIELD, message: 'body must be {"x": int, "y": int, "color": int}' });
      }
      deps.placements.place({ id: client.identity.id, addr: client.addr }, x, y, color, (r) => answerPlacement(res, state, r, headers));
    });
  });

  app.get('/api/pixel', (res, req) => {
    const state = { aborted: false };
    const x = queryInt(req.getQuery('x'));
    const y = queryInt(req.getQuery('y'));
    if (x === undefined || y === undefined) {
      return sendJson(res, state, '400 Bad Request', { error: ErrorCode.INVALID_FIELD, message: 'x and y must be integers' });
    }
    if (!deps.canvas.inBounds(x, y)) {
      return sendJson(res, state, '400 Bad Request', { error: ErrorCode.OUT_OF_BOUNDS, message: `(${x}, ${y}) is outside the canvas` });
    }
    const last = deps.moderation.placement(deps.canvas.lastSeq[y * deps.canvas.width + x] as number);
    sendJson(res, state, '200 OK', {
      x,
      y,
      color: deps.canvas.get(x, y),
      who: last?.who ?? null,
      at: last?.at ?? null,
      seq: last?.seq ?? null,
    });
  });
}
