/**
 * `POST /api/me/name {"name"}`: the caller sets its display name (`""` or null clears it), answered
 * by the authority (identity/display-names.ts in the writer, in this process or over the bus). The
 * caller is the identity of its token (cookie or bearer), as for `/api/stats/me`; nothing is minted:
 * a name for an identity that does not exist yet would be a name for nobody.
 */
import { ErrorCode } from '../../protocol/messages.ts';
import { checkName, type NameResult } from '../identity/display-names.ts';
import type { RequestIdentity } from '../identity/request-identity.ts';
import type { Authority } from '../placement/authority.ts';
import { sendCode, sendJson } from './answer.ts';
import { bodyField, readJsonBody } from './body.ts';
import type { Router } from './guard.ts';
import { trackAborted } from './send.ts';
import { HttpCode } from './status.ts';

/** Room for a name of NAME_LIMITS.wireChars (256) characters, some written as JSON escapes. */
const MAX_BODY_BYTES = 2048;

export function registerNameRoutes(
  router: Router,
  authority: Pick<Authority, 'setName'>,
  identify: RequestIdentity,
): void {
  const { guard } = router;
  router.route('/api/me/name', {
    post: (res, req) => {
      // Everything from req is read now: it is invalid once this callback returns.
      const identity = identify.known(req);
      const { addressKey } = identify.address(res, req);
      const state = trackAborted(res);
      if (!identity)
        return sendCode(
          res,
          state,
          HttpCode.UNAUTHORIZED,
          'no identity token: place a pixel or POST /api/session first',
          {
            'WWW-Authenticate': 'Bearer',
          },
        );
      readJsonBody(
        res,
        MAX_BODY_BYTES,
        guard.later(res, '/api/me/name', (body) => {
          if (!body.ok) return sendCode(res, state, body.code, body.reason);
          const given = bodyField(body.value, 'name');
          const name = given === null ? '' : given;
          if (typeof name !== 'string')
            return sendCode(res, state, ErrorCode.INVALID_FIELD, 'body must be {"name": string} ("" clears the name)');
          // Checked here for a quick answer; the writer checks again (a request may come off the bus).
          const check = checkName(name);
          if (!check.ok) return sendCode(res, state, ErrorCode.INVALID_FIELD, check.message);
          const placer = {
            identityId: identity.id,
            addressKey,
            ...(identity.account ? { account: true } : {}),
            ...(identity.bot === undefined ? {} : { bot: identity.bot }),
          };
          authority.setName(
            placer,
            name,
            guard.later(res, '/api/me/name', (r: NameResult) => {
              if (r.ok) return sendJson(res, state, '200 OK', { id: r.id, name: r.name });
              if (r.wait === undefined) return sendCode(res, state, r.code, r.message);
              sendCode(
                res,
                state,
                r.code,
                r.message,
                { 'Retry-After': String(Math.ceil(r.wait / 1000)) },
                { wait: r.wait },
              );
            }),
          );
        }),
      );
    },
  });
}
