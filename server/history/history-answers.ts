/**
 * The answers of the history endpoints as plain data (status, headers, body), with no uWS in sight:
 * the process that owns the history builds them (history-service.ts does the work), and an edge
 * receives the same object over the bus and writes it out. Parameters are checked by params.ts.
 */
import { createHash } from 'node:crypto';
import { errorAnswer, type HttpAnswer } from '../http/answer.ts';
import { etagMatches, IMMUTABLE, notModified } from '../http/cache.ts';
import { HttpCode } from '../http/status.ts';
import { type Built, type HistoryService, isRefusal, type Refusal } from './history-service.ts';
import type { HistoryJob, HistoryJobResult, Region } from './jobs.ts';
import {
  type HistoryState,
  type Parsed,
  parseHeatmap,
  parseImage,
  parseTimelapse,
  type QueryReader,
} from './params.ts';

/**
 * A history request as data: the path, its raw query string, its If-None-Match header, and the
 * address key of the client (request-identity.ts), which builds are shared fairly by.
 */
export interface HistoryRequest {
  path: string;
  query: string;
  ifNoneMatch: string;
  addressKey: string;
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
  if (job.kind === 'image') {
    // No commas: If-None-Match lists ETags separated by them.
    const r = job.region;
    return r ? `"${canvasId}-h${job.seq}-r${r.x}_${r.y}_${r.w}_${r.h}"` : `"${canvasId}-h${job.seq}"`;
  }
  const hash = createHash('sha256').update(JSON.stringify(job)).digest('base64url').slice(0, 22);
  return `"${canvasId}-${job.kind}-${hash}"`;
}

type JobOf<K extends HistoryJob['kind']> = Extract<HistoryJob, { kind: K }>;

interface Endpoint<T, J extends HistoryJob> {
  parse: (q: QueryReader, s: HistoryState) => Parsed<T>;
  job: (v: T) => J;
  /** Whether an answer that moves is served from the last build (HistoryService.latest). */
  refreshed: boolean;
  /** Headers of the answer: from the job built, which for a refreshed answer may be older than asked. */
  headers: (j: J, r: HistoryJobResult) => Record<string, string>;
}

const image: Endpoint<{ seq: number; region?: Region }, JobOf<'image'>> = {
  parse: parseImage,
  job: (v) => (v.region ? { kind: 'image', seq: v.seq, region: v.region } : { kind: 'image', seq: v.seq }),
  // An image at a time within the last second is one cheap build on its own worker.
  refreshed: false,
  headers: (j) => ({ 'X-History-Seq': String(j.seq) }),
};

const timelapse: Endpoint<ReturnType<typeof parseTimelapse> extends Parsed<infer T> ? T : never, JobOf<'timelapse'>> = {
  parse: parseTimelapse,
  job: (v) => ({ kind: 'timelapse', ...v }),
  refreshed: true,
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

const heatmap: Endpoint<ReturnType<typeof parseHeatmap> extends Parsed<infer T> ? T : never, JobOf<'heatmap'>> = {
  parse: parseHeatmap,
  job: (v) => ({ kind: 'heatmap', ...v }),
  refreshed: true,
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

  private serve<T, J extends HistoryJob>(
    endpoint: Endpoint<T, J>,
    req: HistoryRequest,
  ): HttpAnswer | Promise<HttpAnswer> {
    const { history, canvas, canvasId } = this.deps;
    const params = new URLSearchParams(req.query);
    const state: HistoryState = {
      currentSeq: canvas.seq,
      width: canvas.width,
      height: canvas.height,
      now: (this.deps.now ?? Date.now)(),
      seqAt: (ms) => history.seqAt(ms),
      sizeAt: (seq) => history.sizeAt(seq),
    };
    const parsed = endpoint.parse((name) => params.get(name) ?? undefined, state);
    if (!parsed.ok) return errorAnswer(parsed.code, parsed.reason);
    const job = endpoint.job(parsed.value);
    const cacheControl = parsed.immutable ? IMMUTABLE : MOVING;
    let building: Promise<Built<J>> | Refusal;
    if (endpoint.refreshed && parsed.moving !== undefined) {
      building = history.latest(`${req.path}?${parsed.moving}`, job, req.addressKey);
    } else {
      // The ETag is known before building: a client holding this answer gets 304 without a build.
      const etag = etagOf(canvasId, job);
      if (etagMatches(req.ifNoneMatch, etag)) return notModified(etag, cacheControl);
      const started = history.run(job, req.addressKey);
      building = isRefusal(started) ? started : started.then((result) => ({ job, result }));
    }
    if (isRefusal(building)) return busy(history, job, building);
    return building.then(({ job: built, result }) => {
      const etag = etagOf(canvasId, built);
      if (etagMatches(req.ifNoneMatch, etag)) return notModified(etag, cacheControl);
      return {
        status: '200 OK',
        headers: {
          'Content-Type': 'image/png',
          ETag: etag,
          'Cache-Control': cacheControl,
          'X-Content-Type-Options': 'nosniff',
          ...endpoint.headers(built, result),
        },
        body: result.bytes,
      };
    });
  }
}

function busy(history: HistoryService, job: HistoryJob, refusal: Refusal): HttpAnswer {
  let reason: string;
  if (job.kind === 'image') reason = 'too many history images waiting';
  else if (refusal.refused === 'address') {
    reason = 'a timelapse or heatmap for your address is already building or waiting (one at a time per address)';
  } else {
    reason = `${history.maxBuilds} timelapse or heatmap build(s) in progress and ${history.maxBuildQueue} waiting, the most at once`;
  }
  return errorAnswer(HttpCode.BUSY, `${reason}; retry in ${BUSY_RETRY_S} s`, { 'Retry-After': String(BUSY_RETRY_S) });
}

/** Why a server answers no past canvases: an in-memory database (the history workers open the file). */
export interface HistoryOff {
  code: typeof HttpCode.NOT_FOUND;
  message: string;
}

/** Runs `req` on `answers` and calls `done` once with the answer (a failed build: 500). */
export function answerHistory(
  answers: HistoryAnswers | HistoryOff,
  req: HistoryRequest,
  done: (a: HttpAnswer) => void,
): void {
  if (!(answers instanceof HistoryAnswers)) return done(errorAnswer(answers.code, answers.message));
  const answer = answers.answer(req);
  if (!(answer instanceof Promise)) return done(answer);
  answer.then(done, (err: unknown) =>
    done(errorAnswer(HttpCode.INTERNAL, `history build failed: ${err instanceof Error ? err.message : String(err)}`)),
  );
}
