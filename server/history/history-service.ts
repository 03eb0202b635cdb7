/**
 * The history endpoints' engine on the event loop: two worker pools (history images on one worker
 * with a queue; timelapses and heatmaps on `maxBuilds` workers with no queue, so a request beyond the
 * cap is refused at once), a byte-bounded cache of results by job, and one build per job at a time
 * (a second request for a job being built waits for the same build instead of taking a worker).
 * Every job names its seqs and history never changes below the current seq, so results never go stale.
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
   * timelapse is ~11 s of one core and ~600 MB; the event loop keeps the other core).
   */
  maxBuilds?: number;
  /** History images waiting for the image worker beyond the one in progress (default 32). */
  maxImageQueue?: number;
  /** Bytes of built results kept (default 64 MiB). */
  cacheBytes?: number;
}

export const DEFAULT_MAX_BUILDS = 1;

export class HistoryService {
  readonly maxBuilds: number;
  private readonly reader: HistoryReader;
  private readonly images: WorkerPool;
  private readonly builds: WorkerPool;
  private readonly cache: ByteLru<HistoryJobResult>;
  private readonly building = new Map<string, Promise<HistoryJobResult>>();

  /** `db`: the writer's connection, for the time -> seq lookups routes make on the event loop. */
  constructor(db: Database.Database, opts: HistoryServiceOptions) {
    this.maxBuilds = opts.maxBuilds ?? DEFAULT_MAX_BUILDS;
    this.reader = new HistoryReader(db, opts.width, opts.height);
    const data = {
      dbPath: opts.dbPath,
      width: opts.width,
      height: opts.height,
      palette: [...opts.palette],
      pngLevel: opts.pngLevel,
    };
    this.images = new WorkerPool(data, 1, opts.maxImageQueue ?? 32);
    this.builds = new WorkerPool(data, this.maxBuilds, 0, true);
    this.cache = new ByteLru(opts.cacheBytes ?? 64 * 1024 * 1024, (r) => r.bytes.byteLength);
  }

  /** The last seq placed at or before `unixMs` (a binary search over seqs: ~20 point reads). */
  seqAt(unixMs: number): number {
    return this.reader.seqAt(unixMs);
  }

  /** Timelapses and heatmaps being built now. */
  get buildsInProgress(): number {
    return this.builds.load;
  }

  /**
   * The result of `job`: from the cache, from a build of the same job in progress, or from a new
   * build. Undefined when every worker that could build it is busy (answer 429).
   */
  run(job: HistoryJob): Promise<HistoryJobResult> | undefined {
    const key = JSON.stringify(job);
    const cached = this.cache.get(key);
    if (cached) return Promise.resolve(cached);
    const same = this.building.get(key);
    if (same) return same;
    const started = (job.kind === 'image' ? this.images : this.builds).run(job);
    if (!started) return undefined;
    const done = started.then(
      (r) => {
        this.building.delete(key);
        this.cache.set(key, r);
        return r;
      },
      (err: unknown) => {
        this.building.delete(key);
        throw err;
      },
    );
    this.building.set(key, done);
    return done;
  }

  /** Stops the workers (jobs in progress fail). Call before closing the store. */
  async close(): Promise<void> {
    await Promise.all([this.images.close(), this.builds.close()]);
  }
}
