/**
 * History endpoints: the canvas at a past seq or time, timelapses (APNG) and heatmaps. The request
 * is read while `req` is valid and handed to the authority (this process's history, or the writer's
 * over the bus on an edge) with the client's address key, which builds are shared fairly by; its
 * answer (history/history-answers.ts) is written inside `res.cork` when it arrives, through
 * endBounded (a timelapse is megabytes: never handed to uWS whole, send.ts).
 */
import { HISTORY_PATHS } from '../history/history-answers.ts';
import type { RequestIdentity } from '../identity/request-identity.ts';
import type { Authority } from '../placement/authority.ts';
import { type HttpAnswer, writeAnswer } from './answer.ts';
import type { Router } from './guard.ts';
import { trackAborted } from './send.ts';

/** `source`: the process's authority (a test or benchmark may pass just a `history` function). */
export function registerHistoryRoutes(
  router: Router,
  source: Pick<Authority, 'history'>,
  identify: RequestIdentity,
): void {
  for (const path of HISTORY_PATHS) {
    router.route(path, {
      get: (res, req) => {
        // Everything from req now: it is invalid once this callback returns.
        const request = {
          path,
          query: req.getQuery() ?? '',
          ifNoneMatch: req.getHeader('if-none-match'),
          addressKey: identify.address(res, req).addressKey,
        };
        const state = trackAborted(res);
        source.history(
          request,
          router.guard.later(res, path, (a: HttpAnswer) => writeAnswer(res, a, state)),
        );
      },
    });
  }
}
