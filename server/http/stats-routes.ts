/**
 * `GET /api/stats` (placement statistics for everyone) and `GET /api/stats/me` (the caller's own, or
 * `?id=` anyone's), answered by the authority: the writer's stats/stats.ts, in this process or over
 * the bus. The summary object stays the same for a second (stats.ts, and the edge's reuse in
 * remote-authority.ts), so its JSON and ETag are built once per object here, however many ask.
 */
import { createHash } from 'node:crypto';
import { ErrorCode } from '../../protocol/messages.ts';
import type { RequestIdentity } from '../identity/request-identity.ts';
import { isIdentityId } from '../identity/tokens.ts';
import type { Authority, IdentityStatsResult, StatsResult } from '../placement/authority.ts';
import type { StatsSummary } from '../stats/stats.ts';
import { errorAnswer, type HttpAnswer, jsonAnswer, writeAnswer } from './answer.ts';
import { etagMatches, notModified } from './cache.ts';
import type { Router } from './guard.ts';
import { trackAborted } from './send.ts';

/** Shared caches may keep the summary for the second it takes to change (it is rebuilt once a second). */
const SUMMARY_CACHE = 'public, max-age=1';

/** The summary's answer, built once per summary object. */
interface Built {
  of: StatsSummary;
  answer: HttpAnswer;
  etag: string;
}

/** A strong ETag from the bytes: the same figures give the same tag on the writer and on every edge. */
function etagOf(body: Uint8Array): string {
  return `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`;
}

export function registerStatsRoutes(
  router: Router,
  authority: Pick<Authority, 'stats' | 'statsOf'>,
  identify: RequestIdentity,
): void {
  let built: Built | undefined;
  const answerOf = (stats: StatsSummary): Built => {
    if (built?.of === stats) return built;
    const answer = jsonAnswer('200 OK', stats, { 'Cache-Control': SUMMARY_CACHE });
    const etag = etagOf(answer.body);
    answer.headers['ETag'] = etag;
    built = { of: stats, answer, etag };
    return built;
  };

  router.route('/api/stats', {
    get: (res, req) => {
      const ifNoneMatch = req.getHeader('if-none-match');
      const state = trackAborted(res);
      authority.stats(
        router.guard.later(res, '/api/stats', (r: StatsResult) => {
          if (!r.ok) return writeAnswer(res, errorAnswer(r.code, r.message), state);
          const b = answerOf(r.stats);
          writeAnswer(res, etagMatches(ifNoneMatch, b.etag) ? notModified(b.etag, SUMMARY_CACHE) : b.answer, state);
        }),
      );
    },
  });

  router.route('/api/stats/me', {
    // `?id=` asks about anyone; without it, the caller's token (cookie or bearer) says who. Nothing is
    // minted here: a reader without a token has placed nothing, and polling must not use up its
    // network's share of new identities (identity/mint-limit.ts).
    get: (res, req) => {
      const query = req.getQuery('id');
      const id = query === undefined ? identify.known(req)?.id : query;
      const state = trackAborted(res);
      if (id === undefined) {
        return writeAnswer(
          res,
          jsonAnswer('200 OK', { id: null, placed: 0, first: null, last: null, rank: null }),
          state,
        );
      }
      if (!isIdentityId(id)) {
        return writeAnswer(
          res,
          errorAnswer(ErrorCode.INVALID_FIELD, 'id must be an identity id (16 hex digits)'),
          state,
        );
      }
      authority.statsOf(
        id,
        router.guard.later(res, '/api/stats/me', (r: IdentityStatsResult) =>
          writeAnswer(res, r.ok ? jsonAnswer('200 OK', r.stats) : errorAnswer(r.code, r.message), state),
        ),
      );
    },
  });
}
