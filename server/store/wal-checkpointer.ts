/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the commit that takes
 * the WAL past 1,000 pages: it copies them into the database file and fsyncs it, on the event loop,
 * making that commit the slowest turn of a busy writer (an area rollback's commits: loop turns p99
 * 2.3-2.4 ms of CPU with it, 0.9-1.4 ms without; perf/moderation.ts). Here the main connection's
 * automatic checkpoint is off and a worker thread with its own connection checkpoints every
 * CHECKPOINT_MS (PASSIVE: it never blocks a commit). Should the thread die, the automatic checkpoint
 * comes back, so the WAL never grows without bound.
 */
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../ops/worker-thread.ts';
import type { Store } from './store.ts';

/** Often enough that a checkpoint copies a few hundred pages at 50,000 placements/s. */
export const CHECKPOINT_MS = 500;
/** SQLite's default, restored if the thread is lost. */
const AUTO_CHECKPOINT_PAGES = 1000;

export interface CheckpointWorkerData {
  path: string;
  everyMs: number;
  busyTimeoutMs: number;
  synchronous: string;
}

export type CheckpointReport =
  | { t: 'checkpointed'; pages: number; walPages: number }
  | { t: 'failed'; message: string };

export interface CheckpointerOptions {
  path: string;
  busyTimeoutMs: number;
  synchronous: string;
  everyMs?: number;
  /** A checkpoint failed, or the thread died (then the automatic checkpoint is back). */
  onError(err: Error): void;
  /** Each checkpoint's result (metrics, tests). */
  onCheckpoint?(r: Extract<CheckpointReport, { t: 'checkpointed' }>): void;
}

const WORKER = new URL('./checkpoint-worker.ts', import.meta.url);

export class WalCheckpointer {
  private stopping: Promise<void> | undefined;
  private readonly exited: Promise<unknown>;

  private constructor(private readonly worker: Worker) {
    this.exited = once(worker, 'exit').catch(() => undefined);
  }

  /** Moves `store`'s checkpoints to a thread; undefined for an in-memory database (no WAL). */
  static start(store: Store, options: CheckpointerOptions): WalCheckpointer | undefined {
    if (options.path === ':memory:') return undefined;
    const data: CheckpointWorkerData = {
      path: options.path,
      everyMs: options.everyMs ?? CHECKPOINT_MS,
      busyTimeoutMs: options.busyTimeoutMs,
      synchronous: options.synchronous,
    };
    const worker = startWorker(WORKER, data);
    // A checkpoint thread alone must not keep the process alive.
    worker.unref();
    store.db.pragma('wal_autocheckpoint = 0');
    const checkpointer = new WalCheckpointer(worker);
    worker.on('message', (r: CheckpointReport) => {
      if (r.t === 'failed') options.onError(new Error(`WAL checkpoint failed: ${r.message}`));
      else options.onCheckpoint?.(r);
    });
    let lost = false;
    const onLost = (why: string) => {
      if (lost || checkpointer.stopping || !store.db.open) return;
      lost = true;
      store.db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
      options.onError(new Error(`the WAL checkpoint thread stopped (${why}); checkpoints are back in commits`));
    };
    // What a thread throws arrives cloned: a better-sqlite3 SqliteError as a plain `{code}`.
    worker.on('error', (err: unknown) => {
      const e = (err ?? {}) as { message?: unknown; code?: unknown };
      onLost(String(e.message ?? e.code ?? err));
    });
    worker.on('exit', (code) => onLost(`exit code ${code}`));
    return checkpointer;
  }

  /** A last checkpoint, then the thread ends; before the store closes. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.worker.ref(); // its last checkpoint keeps the process alive until done
      this.worker.postMessage('stop');
      await this.exited;
    })();
    return this.stopping;
  }
}
