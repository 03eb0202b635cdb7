/**
 * Group commit of placements: validated placements queue here, are written to SQLite in one
 * transaction per batch (after `commitDelayMs` or `commitBatch` placements, whichever first), and only
 * then applied to the grid and acknowledged. A failed commit rejects the whole batch: nothing is
 * acked and the grid does not change.
 */
import { SnapshotScheduler } from './snapshot-scheduler.ts';
import { ErrorCode } from '../../protocol/messages.ts';
import type { Canvas } from '../canvas/canvas.ts';
import type { ResizeRequest } from '../canvas/canvas-size.ts';
import type { SizeRow } from '../store/size-store.ts';
import type { PlacementRequest, PlacementRow, Store } from '../store/store.ts';

export type { PlacementRequest };

export type PlacementOutcome = { ok: true; seq: number; at: number } | { ok: false; code: ErrorCode; message: string };

export type PlacementCallback = (outcome: PlacementOutcome) => void;

export interface CommitterOptions {
  commitDelayMs: number;
  commitBatch: number;
  snapshotEvery: number;
  /** Placements after the latest snapshot when the committer starts (replayed by Store.load). */
  replayed?: number;
  /** Clock for the snapshot retry backoff (tests pass their own). */
  now?: () => number;
  /** Chunks a snapshot writes per turn of the event loop (snapshot-scheduler.ts; tests pass small ones). */
  snapshotSliceChunks?: number;
  /**
   * True when this process may no longer commit (a writer that lost its lease, bus/lease.ts): the
   * batch is refused with `unavailable`, nothing stored, so nothing diverges from the new leader.
   */
  fenced?: () => boolean;
  /**
   * Appends a durable batch to the replicated log (bus/replication-log.ts); the batch's placers are
   * answered only when it resolves: true acks them, false answers `outcome_unknown` (stored here,
   * not known to the log: the next leader may not have it).
   */
  replicate?: (rows: readonly PlacementRow[], resize?: SizeRow) => Promise<boolean>;
}

export interface CommitterEvents {
  /** A batch could not be stored (count 0: a snapshot failed). */
  commitFailed(err: unknown, count: number): void;
  /** A batch committed: its size and how long SQLite took. */
  committed(count: number, seconds: number): void;
  /** A placement callback threw (a bug in the caller; the batch still completes). */
  callbackFailed(err: unknown): void;
  /**
   * The rows of a batch now durable and applied to the grid (stats/stats.ts counts them here, so
   * every placement path, moderation included, is counted once and only after its commit). A throw
   * is reported as callbackFailed: the batch stays committed. `previous[i]` is the colour the pixel of
   * `rows[i]` had just before that row (projects/projects.ts counts right and wrong pixels from it).
   */
  stored?(rows: readonly PlacementRow[], previous: Uint8Array): void;
  /**
   * Inside the resize's transaction: what moves with the art is stored moved (projects, bot regions),
   * so a crash never keeps one without the other. A throw refuses the resize.
   */
  resizing?(row: SizeRow): void;
  /** The canvas grew (stored and applied): the ticker sends the new size with the next frame. */
  resized?(row: SizeRow): void;
}

interface Pending {
  req: PlacementRequest;
  done: PlacementCallback;
}

export class PlacementCommitter {
  private pending: Pending[] = [];
  /** Batches stored and waiting for their log append before their placers are answered. */
  private readonly appending = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly snapshots: SnapshotScheduler;

  constructor(
    private readonly store: Store,
    private readonly canvas: Canvas,
    private readonly opts: CommitterOptions,
    private readonly events: CommitterEvents,
  ) {
    this.snapshots = new SnapshotScheduler(store, canvas, {
      every: opts.snapshotEvery,
      replayed: opts.replayed ?? 0,
      now: opts.now ?? Date.now,
      failed: (err) => this.events.commitFailed(err, 0),
      sliceChunks: opts.snapshotSliceChunks,
    });
  }

  /** Queues a validated placement; `done` is called exactly once, after the commit or its failure. */
  submit(req: PlacementRequest, done: PlacementCallback): void {
    if (this.closed) {
      done({ ok: false, code: ErrorCode.SHUTTING_DOWN, message: 'server is shutting down' });
      return;
    }
    this.pending.push({ req, done });
    if (this.pending.length >= this.opts.commitBatch) {
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.opts.commitDelayMs);
    }
  }

  /** Commits everything queued, synchronously (better-sqlite3 is synchronous). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const { outcome, rows } = this.commit(batch.map((p) => p.req));
    const answer = (result: (i: number) => PlacementOutcome) =>
      batch.forEach((p, i) => {
        try {
          p.done(result(i));
        } catch (err) {
          this.events.callbackFailed(err);
        }
      });
    if (!rows || !this.opts.replicate) return answer(outcome);
    const unknown: PlacementOutcome = {
      ok: false,
      code: ErrorCode.OUTCOME_UNKNOWN,
      message: 'stored by this writer but not appended to the replicated log: it may be lost in a failover',
    };
    const appending = this.opts.replicate(rows).then(
      (appended) => answer(appended ? outcome : () => unknown),
      () => answer(() => unknown),
    );
    this.appending.add(appending);
    void appending.finally(() => this.appending.delete(appending));
  }

  /** Resolves once every batch waiting for its log append was answered (shutdown waits for it). */
  async answered(): Promise<void> {
    await Promise.allSettled([...this.appending]);
  }

  /**
   * Commits `reqs` now, in one transaction after everything queued before them: all or nothing.
   * For moderation changes, which must not be split across batches. Returns the outcome of the last
   * request (or of the empty set: the current seq).
   */
  commitNow(reqs: readonly PlacementRequest[]): PlacementOutcome {
    this.flush();
    if (reqs.length === 0) return { ok: true, seq: this.canvas.seq, at: Date.now() };
    const { outcome, rows } = this.commit(reqs);
    // In log order after the batches before it; the moderator's answer does not wait for it.
    if (rows) void this.opts.replicate?.(rows).catch(() => false);
    return outcome(reqs.length - 1);
  }

  /**
   * Grows the canvas at the next seq, after everything queued (flushed first, in their old
   * coordinates): stored in `canvas_sizes`, then applied to the grid, then appended to the replicated
   * log as an entry of its own; answered once the log has it, as a placement is.
   */
  async resize(to: ResizeRequest, who: string): Promise<PlacementOutcome> {
    this.flush();
    if (this.closed) return { ok: false, code: ErrorCode.SHUTTING_DOWN, message: 'server is shutting down' };
    if (this.opts.fenced?.())
      return {
        ok: false,
        code: ErrorCode.UNAVAILABLE,
        message: 'this writer may not change the canvas now (not the leader, or its log is not writable); retry',
      };
    const row: SizeRow = { seq: this.canvas.seq + 1, ...to, at: Date.now(), who };
    try {
      this.store.db.transaction(() => {
        this.store.sizes.insert(row);
        this.events.resizing?.(row);
      })();
    } catch (err) {
      this.events.commitFailed(err, 1);
      return { ok: false, code: ErrorCode.STORE_FAILED, message: `resize not stored: ${(err as Error).message}` };
    }
    this.snapshots.resized();
    this.canvas.resize(to, row.seq);
    try {
      this.events.resized?.(row);
    } catch (err) {
      this.events.callbackFailed(err);
    }
    const appended = this.opts.replicate ? await this.opts.replicate([], row).catch(() => false) : true;
    if (!appended)
      return {
        ok: false,
        code: ErrorCode.OUTCOME_UNKNOWN,
        message: 'resized by this writer but not appended to the replicated log: it may be lost in a failover',
      };
    return { ok: true, seq: row.seq, at: row.at };
  }

  private commit(reqs: readonly PlacementRequest[]): {
    outcome: (i: number) => PlacementOutcome;
    rows: PlacementRow[] | undefined;
  } {
    if (this.opts.fenced?.()) {
      const message = 'this writer may not acknowledge now (not the leader, or its log is not writable); retry';
      return { outcome: () => ({ ok: false, code: ErrorCode.UNAVAILABLE, message }), rows: undefined };
    }
    const at = Date.now();
    // Seqs are assigned here, at commit time, so a failed batch leaves no gap in the sequence.
    const base = this.canvas.seq;
    // prevSeq links each row to the pixel's previous placement, including earlier rows of this batch.
    const batchLast = new Map<number, number>();
    const rows: PlacementRow[] = reqs.map((req, i) => {
      const seq = base + 1 + i;
      const cell = req.y * this.canvas.width + req.x;
      const prevSeq = batchLast.get(cell) ?? this.canvas.lastSeqAt(req.x, req.y);
      batchLast.set(cell, seq);
      return { seq, ...req, at, prevSeq };
    });
    let outcome: (i: number) => PlacementOutcome;
    let durable = false;
    // Each row's pixel colour just before it (projects count a pixel turned right or wrong from it).
    const previous = new Uint8Array(rows.length);
    try {
      const started = performance.now();
      this.store.commit(rows);
      this.events.committed(rows.length, (performance.now() - started) / 1000);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i] as PlacementRow;
        previous[i] = this.canvas.get(r.x, r.y);
        this.canvas.apply(r.x, r.y, r.color, r.seq);
      }
      outcome = (i) => ({ ok: true, seq: base + 1 + i, at });
      durable = true;
    } catch (err) {
      this.events.commitFailed(err, rows.length);
      const message = `placement not stored: ${(err as Error).message}`;
      outcome = () => ({ ok: false, code: ErrorCode.STORE_FAILED, message });
    }
    if (durable && this.events.stored) {
      try {
        this.events.stored(rows, previous);
      } catch (err) {
        this.events.callbackFailed(err);
      }
    }
    if (durable) this.snapshots.stored(rows.length);
    else this.snapshots.stored(0);
    return { outcome, rows: durable ? rows : undefined };
  }

  /** Writes a snapshot of the canvas as it is now, whole (snapshot-scheduler.ts): tests and tools. */
  snapshot(): void {
    this.snapshots.snapshotNow();
  }

  /**
   * Stops accepting, commits what is queued, and snapshots if the latest snapshot is behind the grid
   * (new placements, or placements replayed at startup), whatever the retry backoff says.
   */
  close(): void {
    this.closed = true;
    this.flush();
    this.snapshots.close();
  }
}
