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
import type { AreaRollbackRequest } from '../moderation/area-rollback.ts';
import type { Authority } from '../placement/authority.ts';
import { bearerToken, type RequestIdentity } from '../identity/request-identity.ts';
import { formatIpRanges, parseIpRanges } from '../identity/client-address.ts';
import { isIdentityId } from '../identity/tokens.ts';
import { BOT_LIMITS } from '../moderation/bot-admin.ts';

const MAX_BODY_BYTES = 4096;
/** A rollback body may list identities (`ids`): up to MAX_ROLLBACK_IDS of 16 hex digits each. */
const ROLLBACK_BODY_BYTES = 16_384;
const MAX_ROLLBACK_IDS = 500;
/** Placements per page of the look (GET /api/admin/placements). */
const LOOK_DEFAULT_LIMIT = 100;
const LOOK_MAX_LIMIT = 1000;
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

function answer(res: HttpResponse, state: BodyState, r: ActionResult, status = '200 OK'): void {
  if (r.ok) sendJson(res, state, status, r.result);
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

/** A non-negative integer query parameter (Unix ms have 13 digits: body.ts queryInt stops at 10). */
function queryUint(text: string | undefined): number | undefined | 'bad' {
  if (text === undefined || text === '') return undefined;
  return /^\d{1,16}$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : 'bad';
}

const AREA_BODY =
  'body must be {"x", "y", "width", "height", "since": unix ms} as integers, with "until"?: unix ms and "ids"?: ["<16 hex digits>", ...]';

/** The area form of a rollback (and of its preview): a rectangle, a window, optionally identities. */
function areaRollbackFields(body: JsonBody): AreaRollbackRequest | Refusal {
  const [x, y, width, height, since] = ['x', 'y', 'width', 'height', 'since'].map((k) => jsonInt(body, k));
  if (x === undefined || y === undefined || width === undefined || height === undefined || since === undefined)
    return bad(AREA_BODY);
  const req: AreaRollbackRequest = { rect: { x, y, width, height }, since };
  const untilGiven = bodyField(body.value, 'until');
  if (untilGiven !== undefined && untilGiven !== null) {
    const until = jsonInt(body, 'until');
    if (until === undefined) return bad(AREA_BODY);
    req.until = until;
  }
  const ids = bodyField(body.value, 'ids');
  if (ids !== undefined && ids !== null) {
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > MAX_ROLLBACK_IDS)
      return bad(`"ids" must be a list of 1 to ${MAX_ROLLBACK_IDS} identity ids`);
    if (!ids.every((id): id is string => typeof id === 'string' && isIdentityId(id)))
      return bad('every entry of "ids" must be an identity id (16 hex digits)');
    req.ids = [...new Set(ids)];
  }
  return req;
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

  /** A POST route whose body becomes an admin action; `get` (optional) answers GET on the same path. */
  const action = (path: string, act: Action, opts: { limit?: number; get?: Handler } = {}): void => {
    const post: Handler = (res, req) => {
      const state = trackAborted(res);
      const actor = authorize(res, req, state);
      if (actor === undefined) return; // answered 401; uWS discards the unread body
      const done = (body: BodyResult): void => {
        if (!body.ok) return sendCode(res, state, body.code, body.reason);
        const parsed = act(body, actor);
        if ('ok' in parsed) return answer(res, state, parsed);
        // An area rollback runs on in the background: 202, and GET /api/admin/rollback follows it.
        const status = parsed.op === 'rollback-area' ? '202 Accepted' : '200 OK';
        // Answered now (this process owns the canvas) or later (forwarded to the writer).
        authority.admin(
          parsed,
          guard.later(res, path, (r) => answer(res, state, r, status)),
        );
      };
      readJsonBody(res, opts.limit ?? MAX_BODY_BYTES, guard.later(res, path, done));
    };
    router.route(path, opts.get ? { post, get: opts.get } : { post });
  };

  /** A GET route answered by one admin action (`query` parses the query string, or refuses it). */
  const query = (path: string, parse: (req: HttpRequest) => AdminAction | Refusal): void => {
    router.route(path, {
      get: (res, req) => {
        const state = trackAborted(res);
        if (authorize(res, req, state) === undefined) return;
        const parsed = parse(req); // req is valid only now (uWS)
        if ('ok' in parsed) return answer(res, state, parsed);
        authority.admin(
          parsed,
          guard.later(res, path, (r) => answer(res, state, r)),
        );
      },
    });
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
  const rollbackStatus: Handler = (res, req) => {
    const state = trackAborted(res);
    if (authorize(res, req, state) === undefined) return;
    authority.admin(
      { op: 'rollback-status' },
      guard.later(res, '/api/admin/rollback', (r) => answer(res, state, r)),
    );
  };
  action(
    '/api/admin/rollback',
    (body, actor) => {
      // {"id", "since"}: one identity everywhere (synchronous, as before); else the area form.
      if (bodyField(body.value, 'id') === undefined) {
        const area = areaRollbackFields(body);
        return 'ok' in area ? area : { op: 'rollback-area', actor, ...area };
      }
      const id = identityField(body);
      const givenSince = bodyField(body.value, 'since');
      const since = givenSince === undefined || givenSince === null ? 0 : jsonInt(body, 'since');
      if (!id || since === undefined) return bad('body must be {"id": "<16 hex digits>", "since": unix ms}');
      return { op: 'rollback', actor, id, since };
    },
    { limit: ROLLBACK_BODY_BYTES, get: rollbackStatus },
  );
  action(
    '/api/admin/rollback/preview',
    (body) => {
      const area = areaRollbackFields(body);
      return 'ok' in area ? area : { op: 'rollback-preview', ...area };
    },
    { limit: ROLLBACK_BODY_BYTES },
  );
  const projectIdOf = (body: JsonBody): number | undefined => {
    const id = jsonInt(body, 'id');
    return id !== undefined && id >= 1 ? id : undefined;
  };
  action('/api/admin/projects/hide', (body, actor) => {
    const id = projectIdOf(body);
    const hidden = bodyField(body.value, 'hidden') ?? true;
    if (id === undefined || typeof hidden !== 'boolean') return bad('body must be {"id": project id, "hidden"?: bool}');
    return { op: 'project-hide', actor, id, hidden };
  });
  action('/api/admin/projects/delete', (body, actor) => {
    const id = projectIdOf(body);
    return id === undefined ? bad('body must be {"id": project id}') : { op: 'project-delete', actor, id };
  });
  query('/api/admin/placements', (req) => {
    const usage = `query must be x, y, width, height, since (unix ms) as non-negative integers, with until?, before? (a seq) and limit? (1..${LOOK_MAX_LIMIT})`;
    const read = new Map<string, number>();
    for (const name of ['x', 'y', 'width', 'height', 'since', 'until', 'before', 'limit']) {
      const v = queryUint(req.getQuery(name));
      if (v === 'bad') return bad(usage);
      if (v !== undefined) read.set(name, v);
    }
    const [x, y, width, height, since] = ['x', 'y', 'width', 'height', 'since'].map((k) => read.get(k));
    if (x === undefined || y === undefined || width === undefined || height === undefined || since === undefined)
      return bad(usage);
    const limit = read.get('limit') ?? LOOK_DEFAULT_LIMIT;
    if (limit < 1 || limit > LOOK_MAX_LIMIT) return bad(`limit must be 1..${LOOK_MAX_LIMIT}, got ${limit}`);
    const until = read.get('until');
    const before = read.get('before');
    return {
      op: 'look',
      rect: { x, y, width, height },
      since,
      limit,
      ...(until === undefined ? {} : { until }),
      ...(before === undefined ? {} : { before }),
    };
  });
  query('/api/admin/activity', () => ({ op: 'activity' }));
  const listBots: Handler = (res, req) => {
    const state = trackAborted(res);
    if (authorize(res, req, state) === undefined) return;
    authority.admin(
      { op: 'bot-list' },
      guard.later(res, '/api/admin/bots', (r) => answer(res, state, r)),
    );
  };
  const BOT_BODY = `body must be {"name": 1..${BOT_LIMITS.nameChars} characters, "everyMs": ${BOT_LIMITS.minEveryMs}..${BOT_LIMITS.maxEveryMs}}, with "region"?: {"x", "y", "width", "height"} and "seconds"?: 1..${BOT_LIMITS.maxSeconds}`;
  action(
    '/api/admin/bots',
    (body, actor) => {
      const name = bodyField(body.value, 'name');
      const everyMs = jsonInt(body, 'everyMs');
      if (typeof name !== 'string' || name.length < 1 || name.length > BOT_LIMITS.nameChars || everyMs === undefined)
        return bad(BOT_BODY);
      const mint: AdminAction = { op: 'bot-mint', actor, name, everyMs };
      const given = bodyField(body.value, 'seconds');
      if (given !== undefined && given !== null) {
        const seconds = jsonInt(body, 'seconds');
        if (seconds === undefined) return bad(BOT_BODY);
        mint.seconds = seconds;
      }
      const region = bodyField(body.value, 'region');
      if (region !== undefined && region !== null) {
        // Nested, so body.nonIntegerKeys (top level only) says nothing: a 1.0 here reads as 1.
        const fields = { value: region, nonIntegerKeys: new Set<string>() };
        const [x, y, width, height] = ['x', 'y', 'width', 'height'].map((k) => jsonInt(fields, k));
        if (x === undefined || y === undefined || width === undefined || height === undefined) return bad(BOT_BODY);
        mint.region = { x, y, width, height };
      }
      // Ranges against the canvas are the writer's to check (moderation/bot-admin.ts).
      return mint;
    },
    { get: listBots },
  );
  action('/api/admin/bots/revoke', (body, actor) => {
    const id = identityField(body);
    return id ? { op: 'bot-revoke', actor, id } : bad('body must be {"id": "<16 hex digits>"}');
  });
  action('/api/admin/names/clear', (body, actor) => {
    const id = identityField(body);
    return id ? { op: 'name-clear', actor, id } : bad('body must be {"id": "<16 hex digits>"}');
  });
  action('/api/admin/wipe', (body, actor) => {
    const [x, y, width, height, color] = ['x', 'y', 'width', 'height', 'color'].map((k) => jsonInt(body, k));
    if (x === undefined || y === undefined || width === undefined || height === undefined || color === undefined) {
      return bad('body must be {"x", "y", "width", "height", "color"} as integers');
    }
    return { op: 'wipe', actor, rect: { x, y, width, height }, color };
  });
  action('/api/admin/resize', (body, actor) => {
    const [width, height] = ['width', 'height'].map((k) => jsonInt(body, k));
    const given = (k: string) => bodyField(body.value, k) !== undefined;
    const [left, top] = ['left', 'top'].map((k) => (given(k) ? jsonInt(body, k) : 0));
    if (width === undefined || height === undefined || left === undefined || top === undefined)
      return bad(
        'body must be {"width", "height"} as integers, with "left"? and "top"? (columns and rows added there)',
      );
    // Against the canvas now (shrink, too large, left/top past what is added): the writer's check.
    return { op: 'resize', actor, width, height, left, top };
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
