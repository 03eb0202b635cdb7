/**
 * Projects (README "Projects"): `GET /api/projects` (the list, paged, newest or most active first),
 * `POST /api/projects` (register one: name, place, base64 PNG), `GET /api/projects/{id}` (progress,
 * recent griefs, contributors) and `GET /api/projects/{id}/image` (the PNG as registered). This file
 * parses the HTTP side on every role; the authority answers (projects/project-service.ts, in this
 * process or on the writer over the bus) with a whole HTTP answer, written as it is.
 */
import type { HttpRequest } from 'uWebSockets.js';
import { isClientInt } from '../../protocol/codec.ts';
import { ErrorCode } from '../../protocol/messages.ts';
import { sessionCookie } from '../identity/tokens.ts';
import type { RequestIdentity } from '../identity/request-identity.ts';
import type { Authority } from '../placement/authority.ts';
import { DEFAULT_PAGE, type ProjectRequest } from '../projects/project-service.ts';
import { errorAnswer, noIdentityAnswer, writeAnswer } from './answer.ts';
import { bodyField, jsonInt, queryInt, readJsonBody } from './body.ts';
import type { Router } from './guard.ts';
import { trackAborted } from './send.ts';
import { HttpCode } from './status.ts';

/**
 * A registration body: the base64 PNG (4/3 of its bytes) and a few fields. 2 MiB holds any PNG of a
 * 512 x 512 project (the default --project-max-pixels) that a drawing program writes.
 */
export const PROJECT_BODY_BYTES = 2 << 20;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DATA_URL = /^data:image\/png;base64,/;
const REGISTER_BODY = 'body must be {"name": string, "x": int, "y": int, "image": base64 PNG}';

/** The id in `/api/projects/{id}`: a positive decimal integer, else undefined (answered 404). */
function projectId(req: HttpRequest): number | undefined {
  const text = req.getParameter(0) ?? '';
  return /^[1-9]\d{0,14}$/.test(text) ? Number(text) : undefined;
}

export function registerProjectRoutes(
  router: Router,
  authority: Pick<Authority, 'projects'>,
  identify: RequestIdentity,
): void {
  const { guard } = router;
  /** Asks the authority and writes its answer (res must have been tracked). */
  const ask = (
    res: Parameters<typeof writeAnswer>[0],
    path: string,
    r: ProjectRequest,
    state: ReturnType<typeof trackAborted>,
  ) =>
    authority.projects(
      r,
      guard.later(res, path, (a) => writeAnswer(res, a, state)),
    );

  router.route('/api/projects', {
    get: (res, req) => {
      const state = trackAborted(res);
      const sort = req.getQuery('sort') ?? 'new';
      const page = queryInt(req.getQuery('page') ?? '0');
      const limit = queryInt(req.getQuery('limit') ?? String(DEFAULT_PAGE));
      if ((sort !== 'new' && sort !== 'active') || page === undefined || limit === undefined) {
        return writeAnswer(
          res,
          errorAnswer(ErrorCode.INVALID_FIELD, 'query: sort=new|active, page >= 0, limit 1..100'),
          state,
        );
      }
      ask(res, '/api/projects', { op: 'list', sort, page, limit }, state);
    },
    post: (res, req) => {
      const client = identify(res, req); // req is valid only now (uWS)
      const state = trackAborted(res);
      const { identity } = client;
      if (!identity) return writeAnswer(res, noIdentityAnswer(client), state);
      const headers: Record<string, string> = identity.fresh ? { 'Set-Cookie': sessionCookie(identity.token) } : {};
      readJsonBody(
        res,
        PROJECT_BODY_BYTES,
        guard.later(res, '/api/projects', (body) => {
          if (!body.ok) return writeAnswer(res, errorAnswer(body.code, body.reason, headers), state);
          const name = bodyField(body.value, 'name');
          const image = bodyField(body.value, 'image');
          const x = jsonInt(body, 'x');
          const y = jsonInt(body, 'y');
          if (typeof name !== 'string' || typeof image !== 'string' || !isClientInt(x) || !isClientInt(y)) {
            return writeAnswer(res, errorAnswer(ErrorCode.INVALID_FIELD, REGISTER_BODY, headers), state);
          }
          const base64 = image.replace(DATA_URL, '');
          if (!BASE64.test(base64) || base64.length % 4 !== 0) {
            return writeAnswer(res, errorAnswer(HttpCode.BAD_IMAGE, 'image is not base64', headers), state);
          }
          const png = Buffer.from(base64, 'base64');
          authority.projects(
            { op: 'register', owner: identity.id, name, x, y, png },
            guard.later(res, '/api/projects', (a) =>
              writeAnswer(res, { ...a, headers: { ...a.headers, ...headers } }, state),
            ),
          );
        }),
      );
    },
  });

  router.route('/api/projects/:id', {
    get: (res, req) => {
      const id = projectId(req);
      const state = trackAborted(res);
      if (id === undefined) return writeAnswer(res, errorAnswer(HttpCode.NOT_FOUND, 'no such project'), state);
      ask(res, '/api/projects/:id', { op: 'get', id }, state);
    },
  });

  router.route('/api/projects/:id/image', {
    get: (res, req) => {
      const id = projectId(req);
      const state = trackAborted(res);
      if (id === undefined) return writeAnswer(res, errorAnswer(HttpCode.NOT_FOUND, 'no such project'), state);
      ask(res, '/api/projects/:id/image', { op: 'image', id }, state);
    },
  });
}
