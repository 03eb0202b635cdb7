/**
 * Public JSON API: sessions, HTTP placement for clients without WebSocket (same code path and
 * durability as the WebSocket), and pixel lookup from history, both answered by the authority.
 */
import type { HttpResponse } from 'uWebSockets.js';
import { isClientInt, isPow, POW_RULE } from '../../protocol/codec.ts';
import { ErrorCode } from '../../protocol/messages.ts';
import type { Router } from './guard.ts';
import { trackAborted } from './send.ts';
import { bodyField, jsonInt, queryInt, readJsonBody, type BodyState } from './body.ts';
import { noIdentityAnswer, sendCode, sendJson, writeAnswer } from './answer.ts';
import { sessionCookie } from '../identity/tokens.ts';
import type { PlaceResult } from '../placement/service.ts';
import type { Authority } from '../placement/authority.ts';
import type { RequestIdentity } from '../identity/request-identity.ts';
import type { ChallengeIssuer } from '../defence/challenges.ts';

/** Room for `pow` (protocol MAX_POW_CHARS) beside the coordinates. */
const MAX_BODY_BYTES = 4096;

export interface ApiDeps {
  /** Answers placements and lookups: this process, or the writer over the bus (edge). */
  authority: Authority;
  identify: RequestIdentity;
  /** Issues the challenge a `challenge_required` or `challenge_invalid` answer carries. */
  challenges: ChallengeIssuer;
}

function answerPlacement(res: HttpResponse, state: BodyState, r: PlaceResult, headers: Record<string, string>): void {
  if (r.ok) {
    const body = {
      seq: r.seq,
      next: r.next,
      ...(r.charges ? { charges: r.charges } : {}),
      ...(r.challenge ? { challenge: r.challenge } : {}),
    };
    return sendJson(res, state, '200 OK', body, headers);
  }
  if (r.challenge) return sendCode(res, state, r.code, r.message, headers, { challenge: r.challenge });
  if (r.wait === undefined) return sendCode(res, state, r.code, r.message, headers);
  sendCode(
    res,
    state,
    r.code,
    r.message,
    { ...headers, 'Retry-After': String(Math.ceil(r.wait / 1000)) },
    r.limit === undefined ? { wait: r.wait } : { wait: r.wait, limit: r.limit },
  );
}

export function registerApiRoutes(router: Router, deps: ApiDeps): void {
  const { guard } = router;
  router.route('/api/challenge', {
    // A challenge bound to the asking identity (a fresh one gets its cookie here), to solve before
    // placing; the same one comes back until half its life is gone.
    get: (res, req) => {
      const state = trackAborted(res);
      const url = req.getUrl();
      const client = deps.identify(res, req);
      const { identity } = client;
      if (!identity) return writeAnswer(res, noIdentityAnswer(client), state);
      const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
      if (identity.fresh) headers['Set-Cookie'] = sessionCookie(identity.token);
      void deps.challenges
        .issue(identity.id)
        .then(guard.later(res, url, (challenge) => sendJson(res, state, '200 OK', challenge, headers)));
    },
  });
  router.route('/api/session', {
    post: (res, req) => {
      const state = trackAborted(res);
      const client = deps.identify(res, req);
      const { identity } = client;
      if (!identity) return writeAnswer(res, noIdentityAnswer(client), state);
      sendJson(
        res,
        state,
        '200 OK',
        { id: identity.id, token: identity.token },
        { 'Set-Cookie': sessionCookie(identity.token) },
      );
    },
  });

  router.route('/api/pixel', {
    post: (res, req) => {
      // Everything from req is read now: it is invalid once this callback returns.
      const client = deps.identify(res, req);
      const url = req.getUrl();
      const state = trackAborted(res);
      const { identity } = client;
      if (!identity) return writeAnswer(res, noIdentityAnswer(client), state);
      const headers: Record<string, string> = identity.fresh ? { 'Set-Cookie': sessionCookie(identity.token) } : {};
      readJsonBody(
        res,
        MAX_BODY_BYTES,
        guard.later(res, url, (body) => {
          if (!body.ok) return sendCode(res, state, body.code, body.reason, headers);
          const x = jsonInt(body, 'x');
          const y = jsonInt(body, 'y');
          const color = jsonInt(body, 'color');
          const pow = bodyField(body.value, 'pow');
          if (pow !== undefined && pow !== null && !isPow(pow))
            return sendCode(res, state, ErrorCode.INVALID_FIELD, POW_RULE, headers);
          // Exactly the integers a WebSocket `place` accepts (32-bit, plain literals), so no input is
          // valid on one transport and invalid_field on the other; range and palette are checked after.
          if (!isClientInt(x) || !isClientInt(y) || !isClientInt(color)) {
            return sendCode(
              res,
              state,
              ErrorCode.INVALID_FIELD,
              'body must be {"x": int, "y": int, "color": int}',
              headers,
            );
          }
          const placer = {
            identityId: identity.id,
            addressKey: client.addressKey,
            ...(identity.account ? { account: true } : {}),
            ...(identity.bot === undefined ? {} : { bot: identity.bot }),
          };
          const solution = isPow(pow) ? pow : undefined;
          const answer = guard.later(res, url, (r: PlaceResult) => answerPlacement(res, state, r, headers));
          deps.authority.place(
            placer,
            { x, y, color, pow: solution },
            deps.challenges.answering(identity.id, solution, answer),
          );
        }),
      );
    },
    get: (res, req) => {
      const state = trackAborted(res);
      const x = queryInt(req.getQuery('x'));
      const y = queryInt(req.getQuery('y'));
      if (x === undefined || y === undefined)
        return sendCode(res, state, ErrorCode.INVALID_FIELD, 'x and y must be integers');
      deps.authority.pixel(
        x,
        y,
        guard.later(res, '/api/pixel', (r) =>
          r.ok ? sendJson(res, state, '200 OK', r.pixel) : sendCode(res, state, r.code, r.message),
        ),
      );
    },
  });
}
