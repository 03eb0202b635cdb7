/**
 * The history endpoints' engine on the event loop: two worker pools (history images on one worker
 * with a queue; timelapses and heatmaps on `maxBuilds` workers with a short queue), a byte-bounded
 * cache of results by job, and one build per job at a time (a second request for a job being built
 * waits for the same build instead of taking a worker). Every job names its seqs and history never
 * changes below the current seq, so results never go stale.
 *
 * Builds are shared fairly: each address key has at most one timelapse or heatmap queued or building
 * (a second, different one is refused while others still get theirs), and the queue serves in arrival
 * order (perf/history-flood.ts: with one address flooding, three others got 0 builds before this and
 * 8-11 after; perf/RESULTS.md).
 *
 * Requests that reach "now" (params.ts Parsed.moving) are answered by `latest`: the last build for
 * that request, rebuilt in the background at most every `movingRefreshMs`, so the default timelapse
 * during an event is one build a while for everyone, not one per viewer.
 */
import type Database from 'better-sqlite3';
import { ByteLru } from './lru.ts';
import type { HistoryJob, HistoryJobResult } from './jobs.ts';
import { HistoryReader } from './replay.ts';
import { WorkerPool } from './worker-pool.ts';

export interface HistoryServiceOptions {
  /** The store's SQLite file; workers open it read-only (not ':memory:'). */
  dbPath: string;
  width: number;
  height: number;
  palette: readonly number[];
  /** Deflate level of /image (--png-level), so history images are the same PNG. */
  pngLevel: number;
  /**
   * Timelapses and heatmaps built at once, one worker thread each (default 1: a 100-frame 1000 x 1000
   * timelapse is seconds of one core; the event loop keeps the other core).
   */
  maxBuilds?: number;
  /** History images waiting for the image worker beyond the one in progress (default 32). */
  maxImageQueue?: number;
  /** Timelapses and heatmaps waiting for a worker, at most one per address (default 4). */
  maxBuildQueue?: number;
  /** Bytes of built results kept (default 64 MiB). */
  cacheBytes?: number;
  /** The least age of a moving answer before a request starts its rebuild (default 30 s). */
  movingRefreshMs?: number;
}

export const DEFAULT_MAX_BUILDS = 1;
/**
 * A queued build waits for those ahead of it: 4 default 1000 x 1000 timelapses are ~10 s (2-2.5 s
 * each, perf/RESULTS.md "History memory"), 4 of the largest heatmaps (20 M placements) over a minute;
 * more addresses than that get 429 and Retry-After.
 */
export const DEFAULT_MAX_BUILD_QUEUE = 4;
/**
 * A moving answer (the default timelapse, today's heatmap) is rebuilt at most this often: the default
 * 100-frame 1000 x 1000 timelapse is a few seconds of a worker (perf/RESULTS.md, "History memory"),
 * so refreshes take a small share of the builder even when viewers ask all the time.
 */
export const DEFAULT_MOVING_REFRESH_MS = 30_000;

/** Why a build was not started: the address has one already, or every worker and queue slot is taken. */
export type Refusal = { refused: 'address' | 'full' };

export function isRefusal<T>(r: Promise<T> | Refusal): r is Refusal {
  return !(r instanceof Promise);
}

/** A result with the job it was built for (a moving answer may be older than the request's job). */
export interface Built<J extends HistoryJob> {
  job: J;
  result: HistoryJobResult;
}

interface MovingEntry {
  job: HistoryJob;
  key: string;
  result: HistoryJobResult;
  /** Date.now() when it was built or last found current. */
  checkedAt: number;
}

export class HistoryService {
  readonly maxBuilds: number;
  readonly maxBuildQueue: number;
  private readonly movingRefreshMs: number;
  private readonly reader: HistoryReader;
  private readonly images: WorkerPool;
  private readonly builds: WorkerPool;
  private readonly cache: ByteLru<HistoryJobResult>;
  private readonly building = new Map<string, Promise<HistoryJobResult>>();
  private started = 0;
  /** Address keys with a timelapse or heatmap queued or building. */
  private readonly addresses = new Set<string>();
  /** The last build of each moving request, by Parsed.moving key. */
  private readonly moving: ByteLru<MovingEntry>;
  /** Moving requests whose first build or refresh is in progress. */
  private readonly movingBuilds = new Map<string, Promise<Built<HistoryJob>>>();

  /** `db`: the writer's connection, for the time -> seq lookups routes make on the event loop. */
  constructor(db: Database.Database, opts: HistoryServiceOptions) {
    this.maxBuilds = opts.maxBuilds ?? DEFAULT_MAX_BUILDS;
    this.maxBuildQueue = opts.maxBuildQueue ?? DEFAULT_MAX_BUILD_QUEUE;
    this.movingRefreshMs = opts.movingRefreshMs ?? DEFAULT_MOVING_REFRESH_MS;
    this.reader = new HistoryReader(db, opts.width, opts.height);
    const data = {
      dbPath: opts.dbPath,
      width: opts.width,
      height: opts.height,
      palette: [...opts.palette],
      pngLevel: opts.pngLevel,
    };
    this.images = new WorkerPool(data, 1, opts.maxImageQueue ?? 32);
    // Build workers are kept between builds: a timelapse build now holds tens of MB (timelapse.ts), and
    // RSS over 16 builds was as flat with one kept worker (292 MiB after the last) as with a new
    // worker per build (303-338 MiB), without the ~200 ms start of a worker each time.
    this.builds = new WorkerPool(data, this.maxBuilds, this.maxBuildQueue);
    const cacheBytes = opts.cacheBytes ?? 64 * 1024 * 1024;
    this.cache = new ByteLru(cacheBytes, (r) => r.bytes.byteLength);
    // The same results as `cache` holds (shared bytes), kept by request rather than by job.
    this.moving = new ByteLru(cacheBytes / 2, (e) => e.result.bytes.byteLength);
  }

  /** The last seq placed at or before `unixMs` (a binary search over seqs: ~20 point reads). */
  seqAt(unixMs: number): number {
    return this.reader.seqAt(unixMs);
  }

  /** The canvas's size right after `seq` (it grows: canvas/canvas-size.ts). */
  sizeAt(seq: number): { width: number; height: number } {
    return this.reader.sizes().at(seq);
  }

  /** Timelapses and heatmaps handed to a worker since start (not those served from a cache or shared). */
  get buildsStarted(): number {
    return this.started;
  }

  /** Timelapses and heatmaps being built or waiting for a worker now. */
  get buildsInProgress(): number {
    return this.builds.load;
  }

  /**
   * The result of `job`: from the cache, from a build of the same job in progress, or from a new
   * build for `address`. A refusal when `address` has a timelapse or heatmap queued or building
   * already, or every worker and queue slot is taken (answer 429).
   */
  run(job: HistoryJob, address: string): Promise<HistoryJobResult> | Refusal {
    const key = JSON.stringify(job);
    const cached = this.cache.get(key);
    if (cached) return Promise.resolve(cached);
    const same = this.building.get(key);
    if (same) return same;
    const isBuild = job.kind !== 'image';
    if (isBuild && this.addresses.has(address)) return { refused: 'address' };
    const started = (isBuild ? this.builds : this.images).run(job);
    if (!started) return { refused: 'full' };
    if (isBuild) {
      this.addresses.add(address);
      this.started++;
    }
    const done = started.then(
      (r) => {
        this.building.delete(key);
        if (isBuild) this.addresses.delete(address);
        this.cache.set(key, r);
        return r;
      },
      (err: unknown) => {
        this.building.delete(key);
        if (isBuild) this.addresses.delete(address);
        throw err;
      },
    );
    this.building.set(key, done);
    return done;
  }

  /**
   * A moving request (`movingKey`, params.ts Parsed.moving) whose current job is `job`: the last build
   * for that request at once, starting a rebuild for `address` in the background when it is older than
   * `movingRefreshMs` and `job` differs; the first time, the build of `job` (shared by every request
   * with that key while it runs).
   */
  latest<J extends HistoryJob>(movingKey: string, job: J, address: string): Promise<Built<J>> | Refusal {
    // The key names the endpoint and its parameters, so every job under it is of J's kind.
    const entry = this.moving.get(movingKey) as (MovingEntry & { job: J }) | undefined;
    const pending = this.movingBuilds.get(movingKey) as Promise<Built<J>> | undefined;
    if (!entry) return pending ?? this.buildMoving(movingKey, job, address);
    if (!pending && Date.now() - entry.checkedAt >= this.movingRefreshMs) {
      if (JSON.stringify(job) === entry.key) entry.checkedAt = Date.now();
      else {
        // Refused (the address has a build, the builder is full): the next viewer will try again.
        const refresh = this.buildMoving(movingKey, job, address);
        if (!isRefusal(refresh)) refresh.catch(() => {}); // a failed refresh keeps the last answer
      }
    }
    return Promise.resolve({ job: entry.job, result: entry.result });
  }

  private buildMoving<J extends HistoryJob>(movingKey: string, job: J, address: string): Promise<Built<J>> | Refusal {
    const started = this.run(job, address);
    if (isRefusal(started)) return started;
    const key = JSON.stringify(job);
    const done = started
      .then((result) => {
        this.moving.set(movingKey, { job, key, result, checkedAt: Date.now() });
        return { job, result };
      })
      .finally(() => this.movingBuilds.delete(movingKey));
    this.movingBuilds.set(movingKey, done);
    return done;
  }

  /** Stops the workers (jobs in progress fail). Call before closing the store. */
  async close(): Promise<void> {
    await Promise.all([this.images.close(), this.builds.close()]);
  }
}
