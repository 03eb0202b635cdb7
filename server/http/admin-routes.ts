/**
 * Moderation API under /api/admin/. Exists only when an admin token is configured (else every route
 * answers 404); the bearer token is compared in constant time; a refused request changes nothing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { ErrorCode } from '../../protocol/messages.ts';
import type { Handler, Router } from './guard.ts';
import { sendCode, sendError, sendJson } from './answer.ts';
import { bodyField, jsonInt, queryInt, readJsonBody, type BodyResult, type BodyState, type JsonBody } from './body.ts';
import { HttpCode } from './status.ts';
import { trackAborted } from './send.ts';
import type { ActionResult } from '../moderation/moderation.ts';
import type { AdminAction } from '../moderation/admin-action.ts';
import type { Authority } from '../placement/authority.ts';
import { bearerToken, type RequestIdentity } from '../identity/request-identity.ts';
import { formatIpRanges, parseIpRanges } from '../identity/client-address.ts';
import { isIdentityId } from '../identity/tokens.ts';

const MAX_BODY_BYTES = 4096;
/** A lock longer than a day is a closed canvas: stop the server instead. */
const MAX_LOCK_SECONDS = 86_400;
/** Timed bans last at most a year; longer is "until lifted" (no seconds). */
const MAX_BAN_SECONDS = 31_536_000;

/** Hashing first makes both sides the same length, so timingSafeEqual leaks nothing about length. */
function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Parses a body into the action to run, or the refusal (invalid_field) to answer. */
type Action = (body: JsonBody, actor: string) => AdminAction | Refusal;
type Refusal = Extract<ActionResult, { ok: false }>;

function answer(res: HttpResponse, state: BodyState, r: ActionResult): void {
  if (r.ok) sendJson(res, state, '200 OK', r.result);
  else sendCode(res, state, r.code, r.message);
}

const bad = (message: string): Refusal => ({ ok: false, code: ErrorCode.INVALID_FIELD, message });

/** A network as one CIDR range (or one address), in the canonical form bans are stored under. */
function prefixField(body: JsonBody): string | undefined {
  const text = bodyField(body.value, 'prefix');
  if (typeof text !== 'string' || text.includes(',')) return undefined;
  try {
    const ranges = parseIpRanges(text);
    return ranges.length === 1 ? formatIpRanges(ranges) : undefined;
  } catch {
    return undefined;
  }
}

function identityField(body: JsonBody): string | undefined {
  const id = bodyField(body.value, 'id');
  return typeof id === 'string' && isIdentityId(id) ? id : undefined;
}

export function registerAdminRoutes(
  router: Router,
  adminToken: string,
  authority: Authority,
  identify: RequestIdentity,
): void {
  if (adminToken === '') {
    router.any('/api/admin/*', (res) =>
      sendError(res, HttpCode.NOT_FOUND, 'moderation API disabled (no admin token configured)'),
    );
    return;
  }
  const { guard } = router;

  /** Checks the token and returns the actor, or answers 401 and returns undefined. */
  function authorize(res: HttpResponse, req: HttpRequest, state: BodyState): string | undefined {
    const given = bearerToken(req.getHeader('authorization')) ?? '';
    if (!sameToken(given, adminToken)) {
      sendCode(res, state, HttpCode.UNAUTHORIZED, 'admin bearer token required', { 'WWW-Authenticate': 'Bearer' });
      return undefined;
    }
    return `admin@${identify.address(res, req).ip}`;
  }

  const action = (path: string, act: Action): void => {
    const post: Handler = (res, req) => {
      const state = trackAborted(res);
      const actor = authorize(res, req, state);
      if (actor === undefined) return; // answered 401; uWS discards the unread body
      const done = (body: BodyResult): void => {
        if (!body.ok) return sendCode(res, state, body.code, body.reason);
        const parsed = act(body, actor);
        if ('ok' in parsed) return answer(res, state, parsed);
        // Answered now (this process owns the canvas) or later (forwarded to the writer).
        authority.admin(
          parsed,
          guard.later(res, path, (r) => answer(res, state, r)),
        );
      };
      readJsonBody(res, MAX_BODY_BYTES, guard.later(res, path, done));
    };
    router.route(path, { post });
  };

  const BAN_BODY =
    'body must be {"id": "<16 hex digits>"} or {"prefix": "CIDR"}, with "reason"?: string, "seconds"?: 1..31536000';
  action('/api/admin/ban', (body, actor) => {
    const reasonField = bodyField(body.value, 'reason');
    const reason = typeof reasonField === 'string' ? reasonField.slice(0, 500) : '';
    const given = bodyField(body.value, 'seconds');
    const seconds = given === undefined || given === null ? undefined : jsonInt(body, 'seconds');
    if (given !== undefined && given !== null && (seconds === undefined || seconds < 1 || seconds > MAX_BAN_SECONDS))
      return bad(BAN_BODY);
    const timed = seconds === undefined ? {} : { seconds };
    const id = identityField(body);
    if (id) return { op: 'ban', actor, id, reason, ...timed };
    const prefix = prefixField(body);
    return prefix ? { op: 'ban-prefix', actor, prefix, reason, ...timed } : bad(BAN_BODY);
  });
  action('/api/admin/unban', (body, actor) => {
    const id = identityField(body);
    if (id) return { op: 'unban', actor, id };
    const prefix = prefixField(body);
    return prefix
      ? { op: 'unban-prefix', actor, prefix }
      : bad('body must be {"id": "<16 hex digits>"} or {"prefix": "CIDR"}');
  });
  action('/api/admin/rollback', (body, actor) => {
    const id = identityField(body);
    const givenSince = bodyField(body.value, 'since');
    const since = givenSince === undefined || givenSince === null ? 0 : jsonInt(body, 'since');
    if (!id || since === undefined) return bad('body must be {"id": "<16 hex digits>", "since": unix ms}');
    return { op: 'rollback', actor, id, since };
  });
  action('/api/admin/wipe', (body, actor) => {
    const [x, y, width, height, color] = ['x', 'y', 'width', 'height', 'color'].map((k) => jsonInt(body, k));
    if (x === undefined || y === undefined || width === undefined || height === undefined || color === undefined) {
      return bad('body must be {"x", "y", "width", "height", "color"} as integers');
    }
    return { op: 'wipe', actor, rect: { x, y, width, height }, color };
  });
  action('/api/admin/lock', (body, actor) => {
    const seconds = jsonInt(body, 'seconds');
    const reason = bodyField(body.value, 'reason');
    if (seconds === undefined || seconds < 1 || seconds > MAX_LOCK_SECONDS)
      return bad(`body must be {"seconds": 1..${MAX_LOCK_SECONDS}, "reason"?: string}`);
    return { op: 'lock', actor, seconds, reason: typeof reason === 'string' ? reason.slice(0, 500) : 'moderation' };
  });
  action('/api/admin/unlock', (_body, actor) => ({ op: 'unlock', actor }));
  action('/api/admin/surge', (body, actor) => {
    const mode = bodyField(body.value, 'mode');
    if (mode !== 'auto' && mode !== 'off' && mode !== 'challenge')
      return bad('body must be {"mode": "auto" | "off" | "challenge"}');
    return { op: 'surge', actor, mode };
  });
  router.route('/api/admin/signals', {
    get: (res, req) => {
      const state = trackAborted(res);
      if (authorize(res, req, state) === undefined) return;
      const limit = Math.min(Math.max(queryInt(req.getQuery('limit')) ?? 20, 1), 200);
      authority.admin(
        { op: 'signals', limit },
        guard.later(res, '/api/admin/signals', (r) => answer(res, state, r)),
      );
    },
  });
  router.route('/api/admin/audit', {
    get: (res, req) => {
      const state = trackAborted(res);
      if (authorize(res, req, state) === undefined) return;
      const limit = Math.min(Math.max(queryInt(req.getQuery('limit')) ?? 100, 1), 1000);
      authority.admin(
        { op: 'audit', limit },
        guard.later(res, '/api/admin/audit', (r) => answer(res, state, r)),
      );
    },
  });
  router.any('/api/admin/*', (res, req) => {
    const state = trackAborted(res);
    if (authorize(res, req, state) === undefined) return;
    sendCode(res, state, HttpCode.NOT_FOUND, 'no such admin route');
  });
}
