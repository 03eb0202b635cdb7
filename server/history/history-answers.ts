/**
 * The answers of the history endpoints as plain data (status, headers, body), with no uWS in sight:
 * the process that owns the history builds them (history-service.ts does the work), and an edge
 * receives the same object over the bus and writes it out. Parameters are checked by params.ts.
 */
import { createHash } from 'node:crypto';
import { errorAnswer, type HttpAnswer } from '../http/answer.ts';
import { etagMatches, IMMUTABLE, notModified } from '../http/cache.ts';
import { HttpCode } from '../http/status.ts';
import type { HistoryService } from './history-service.ts';
import type { HistoryJob, HistoryJobResult } from './jobs.ts';
import {
  type HistoryState,
  type Parsed,
  parseHeatmap,
  parseImage,
  parseTimelapse,
  type QueryReader,
} from './params.ts';

/** A history request as data: the path, its raw query string and its If-None-Match header. */
export interface HistoryRequest {
  path: string;
  query: string;
  ifNoneMatch: string;
}

export const HISTORY_PATHS = ['/api/history/image', '/api/history/timelapse', '/api/history/heatmap'] as const;

/**
 * History below the current seq never changes (IMMUTABLE); answers that depend on "now" (no `to`
 * given, or a time within the last second) are kept briefly.
 */
const MOVING = 'public, max-age=5';
/** Seconds a refused build should wait: about one 100-frame timelapse. */
const BUSY_RETRY_S = 5;

function etagOf(canvasId: string, job: HistoryJob): string {
  if (job.kind === 'image') return `"${canvasId}-h${job.seq}"`;
  const hash = createHash('sha256').update(JSON.stringify(job)).digest('base64url').slice(0, 22);
  return `"${canvasId}-${job.kind}-${hash}"`;
}

interface Endpoint<T> {
  parse: (q: QueryReader, s: HistoryState) => Parsed<T>;
  job: (v: T) => HistoryJob;
  headers: (v: T, r: HistoryJobResult) => Record<string, string>;
}

const image: Endpoint<{ seq: number }> = {
  parse: parseImage,
  job: (v) => ({ kind: 'image', seq: v.seq }),
  headers: (v) => ({ 'X-History-Seq': String(v.seq) }),
};

const timelapse: Endpoint<ReturnType<typeof parseTimelapse> extends Parsed<infer T> ? T : never> = {
  parse: parseTimelapse,
  job: (v) => ({ kind: 'timelapse', ...v }),
  headers: (v) => {
    const from = v.seqs[0] ?? 0;
    const to = v.seqs[v.seqs.length - 1] ?? 0;
    return {
      'Content-Disposition': `inline; filename="timelapse-${from}-${to}.png"`,
      'X-History-From': String(from),
      'X-History-To': String(to),
      'X-Timelapse-Frames': String(v.seqs.length),
    };
  },
};

const heatmap: Endpoint<ReturnType<typeof parseHeatmap> extends Parsed<infer T> ? T : never> = {
  parse: parseHeatmap,
  job: (v) => ({ kind: 'heatmap', ...v }),
  headers: (v, r) => ({
    'X-History-From': String(v.from),
    'X-History-To': String(v.to),
    'X-Heatmap-Max': String(r.max ?? 0),
    'X-Heatmap-Total': String(r.total ?? 0),
    // How to read a pixel back as a count (heatmap.ts heatIndex).
    'X-Heatmap-Scale': 'log; index 0 = none, else 1 + round(254 * ln(count) / ln(max)); viridis',
  }),
};

export interface HistoryAnswerDeps {
  history: HistoryService;
  /** Part of every ETag, like /image's: two canvases never share one. */
  canvasId: string;
  /** The canvas being served (its seq is where history ends). */
  canvas: { readonly seq: number; readonly width: number; readonly height: number };
  now?: () => number;
}

export class HistoryAnswers {
  constructor(private readonly deps: HistoryAnswerDeps) {}

  /** Answers one request: at once (an error, a 304, a busy refusal) or once its build is done. */
  answer(req: HistoryRequest): HttpAnswer | Promise<HttpAnswer> {
    switch (req.path) {
      case '/api/history/image':
        return this.serve(image, req);
      case '/api/history/timelapse':
        return this.serve(timelapse, req);
      case '/api/history/heatmap':
        return this.serve(heatmap, req);
      default:
        return errorAnswer(HttpCode.NOT_FOUND, `no history endpoint ${req.path}`);
    }
  }

  private serve<T>(endpoint: Endpoint<T>, req: HistoryRequest): HttpAnswer | Promise<HttpAnswer> {
    const { history, canvas, canvasId } = this.deps;
    const params = new URLSearchParams(req.query);
    const state: HistoryState = {
      currentSeq: canvas.seq,
      width: canvas.width,
      height: canvas.height,
      now: (this.deps.now ?? Date.now)(),
      seqAt: (ms) => history.seqAt(ms),
    };
    const parsed = endpoint.parse((name) => params.get(name) ?? undefined, state);
    if (!parsed.ok) return errorAnswer(parsed.code, parsed.reason);
    const job = endpoint.job(parsed.value);
    const etag = etagOf(canvasId, job);
    const cacheControl = parsed.immutable ? IMMUTABLE : MOVING;
    if (etagMatches(req.ifNoneMatch, etag)) return notModified(etag, cacheControl);
    const building = history.run(job);
    if (!building) {
      return errorAnswer(
        HttpCode.BUSY,
        job.kind === 'image'
          ? `too many history images waiting; retry in ${BUSY_RETRY_S} s`
          : `${history.maxBuilds} timelapse or heatmap build(s) in progress, the most at once; retry in ${BUSY_RETRY_S} s`,
        { 'Retry-After': String(BUSY_RETRY_S) },
      );
    }
    return building.then((result) => ({
      status: '200 OK',
      headers: {
        'Content-Type': 'image/png',
        ETag: etag,
        'Cache-Control': cacheControl,
        'X-Content-Type-Options': 'nosniff',
        ...endpoint.headers(parsed.value, result),
      },
      body: result.bytes,
    }));
  }
}

/** Runs `req` on `answers` and calls `done` once with the answer (a failed build: 500). */
export function answerHistory(
  answers: HistoryAnswers | undefined,
  req: HistoryRequest,
  done: (a: HttpAnswer) => void,
): void {
  if (!answers) return done(errorAnswer(HttpCode.NOT_FOUND, 'history needs a database file (not :memory:)'));
  const answer = answers.answer(req);
  if (!(answer instanceof Promise)) return done(answer);
  answer.then(done, (err: unknown) =>
    done(errorAnswer(HttpCode.INTERNAL, `history build failed: ${err instanceof Error ? err.message : String(err)}`)),
  );
}
