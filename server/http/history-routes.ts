/**
 * History endpoints: the canvas at a past seq or time, timelapses (APNG) and heatmaps. Parameters are
 * read and checked while `req` is valid; the bytes come from history/history-service.ts (a cache, or
 * a worker thread), and are written inside `res.cork` once they arrive, through endBounded (a
 * timelapse is megabytes: never handed to uWS whole, see send.ts).
 */
import { createHash } from 'node:crypto';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { HistoryJob, HistoryJobResult } from '../history/jobs.ts';
import type { HistoryService } from '../history/history-service.ts';
import {
  parseHeatmap,
  parseImage,
  parseTimelapse,
  type HistoryState,
  type Parsed,
  type QueryReader,
} from '../history/params.ts';
import { sendError, type Router } from './guard.ts';
import { etagMatches } from './routes.ts';
import { endBounded, endWithoutBodyDeferred, trackAborted } from './send.ts';
import { HttpCode } from './status.ts';

export interface HistoryRouteDeps {
  history: HistoryService;
  /** Part of every ETag, like /image's: two canvases never share one. */
  canvasId: string;
  /** The canvas being served (its seq is where history ends). */
  canvas: { readonly seq: number; readonly width: number; readonly height: number };
  now?: () => number;
}

/** History below the current seq never changes: cached for a year, like a versioned asset. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Answers that depend on "now" (no `to` given, or a time within the last second). */
const MOVING = 'public, max-age=5';
/** Seconds a refused build should wait: about one 100-frame timelapse. */
const BUSY_RETRY_S = 5;

type Answer = (r: HistoryJobResult) => Record<string, string>;

function etagOf(canvasId: string, job: HistoryJob): string {
  if (job.kind === 'image') return `"${canvasId}-h${job.seq}"`;
  const hash = createHash('sha256').update(JSON.stringify(job)).digest('base64url').slice(0, 22);
  return `"${canvasId}-${job.kind}-${hash}"`;
}

export function registerHistoryRoutes(router: Router, deps: HistoryRouteDeps): void {
  const { history, canvas } = deps;
  const now = deps.now ?? Date.now;
  const state = (): HistoryState => ({
    currentSeq: canvas.seq,
    width: canvas.width,
    height: canvas.height,
    now: now(),
    seqAt: (ms) => history.seqAt(ms),
  });

  const serve = <T>(
    parse: (q: QueryReader, s: HistoryState) => Parsed<T>,
    toJob: (v: T) => HistoryJob,
    headers: (v: T) => Answer,
  ) => {
    return (res: HttpResponse, req: HttpRequest) => {
      // Everything from req now: it is invalid once this callback returns.
      const url = req.getUrl();
      const ifNoneMatch = req.getHeader('if-none-match');
      const parsed = parse((name) => req.getQuery(name), state());
      if (!parsed.ok) return sendError(res, parsed.code, parsed.reason);
      const job = toJob(parsed.value);
      const etag = etagOf(deps.canvasId, job);
      const cacheControl = parsed.immutable ? IMMUTABLE : MOVING;
      if (etagMatches(ifNoneMatch, etag)) {
        res.writeStatus('304 Not Modified');
        res.writeHeader('ETag', etag);
        res.writeHeader('Cache-Control', cacheControl);
        endWithoutBodyDeferred(res);
        return;
      }
      const building = history.run(job);
      if (!building) {
        return sendError(
          res,
          HttpCode.BUSY,
          job.kind === 'image'
            ? `too many history images waiting; retry in ${BUSY_RETRY_S} s`
            : `${history.maxBuilds} timelapse or heatmap build(s) in progress, the most at once; retry in ${BUSY_RETRY_S} s`,
          { 'Retry-After': String(BUSY_RETRY_S) },
        );
      }
      const aborted = trackAborted(res);
      building.then(
        router.guard.later(res, url, (result: HistoryJobResult) => {
          if (aborted.aborted) return;
          res.cork(() => {
            res.writeStatus('200 OK');
            res.writeHeader('Content-Type', 'image/png');
            res.writeHeader('ETag', etag);
            res.writeHeader('Cache-Control', cacheControl);
            res.writeHeader('X-Content-Type-Options', 'nosniff');
            for (const [k, v] of Object.entries(headers(parsed.value)(result))) res.writeHeader(k, v);
            endBounded(res, result.bytes);
          });
        }),
        (err: unknown) => router.guard.fail(res, err, url),
      );
    };
  };

  router.route('/api/history/image', {
    get: serve(
      parseImage,
      (v) => ({ kind: 'image', seq: v.seq }),
      (v) => () => ({ 'X-History-Seq': String(v.seq) }),
    ),
  });

  router.route('/api/history/timelapse', {
    get: serve(
      parseTimelapse,
      (v) => ({ kind: 'timelapse', ...v }),
      (v) => () => {
        const from = v.seqs[0] ?? 0;
        const to = v.seqs[v.seqs.length - 1] ?? 0;
        return {
          'Content-Disposition': `inline; filename="timelapse-${from}-${to}.png"`,
          'X-History-From': String(from),
          'X-History-To': String(to),
          'X-Timelapse-Frames': String(v.seqs.length),
        };
      },
    ),
  });

  router.route('/api/history/heatmap', {
    get: serve(
      parseHeatmap,
      (v) => ({ kind: 'heatmap', ...v }),
      (v) => (r) => ({
        'X-History-From': String(v.from),
        'X-History-To': String(v.to),
        'X-Heatmap-Max': String(r.max ?? 0),
        'X-Heatmap-Total': String(r.total ?? 0),
        // How to read a pixel back as a count (heatmap.ts heatIndex).
        'X-Heatmap-Scale': 'log; index 0 = none, else 1 + round(254 * ln(count) / ln(max)); viridis',
      }),
    ),
  });
}
