/**
 * When the committer's snapshots are written, and how: every `snapshotEvery` placements, the chunks
 * changed since the last one (store.ts, `writeSnapshot`), so a start replays less history.
 *
 * A snapshot of many chunks is written in slices across turns of the event loop: with 1 M
 * placements spread over a 16,384 x 16,384 canvas all 65,536 chunks change, and taking and writing
 * them in one go held the loop 0.45-0.65 s (perf/RESULTS.md, "A 16,384 x 16,384 canvas"), while
 * placements, ticks and tiles waited. A slice is `sliceChunks` chunks of few hash shards (grouped by
 * shard, so the sparse pixels are read once in all); the previous snapshot stays the one a start
 * uses until the last slice is written (store.ts, `canSlice`). A new layout (the first snapshot, or
 * the first after a resize: every chunk holding pixels, 1.4 s in one go for a full 4096 x 4096
 * canvas grown to 16,384) is written in slices into a table of its own that replaces the old one at
 * the end (store.ts, `beginRelayout`).
 *
 * Failure is logged, not fatal, and backs off: on a nearly full disk a retry after every batch meant
 * 60-180 snapshot writes (5 MB each at 1000 x 1000) a second and GET /image p50 going from 0.5 to
 * 5 ms. The chunks it could not write are written by the next one.
 */
import type { Canvas } from '../canvas/canvas.ts';
import type { Store } from '../store/store.ts';

/** After a failed snapshot, the next attempt waits this long, doubling up to the maximum. */
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 5 * 60_000;
/**
 * Most chunks per slice: 512 sparse ones (~15 pixels each) took 3-5 ms to take and write on the
 * 16,384 x 16,384 benchmark canvas (perf/RESULTS.md); fewer chunks are written whole.
 */
export const SLICE_CHUNKS = 512;
/**
 * A slice also ends at this weight, a chunk weighing 1 + its stored pixels / 100: a dense chunk
 * (4,096 pixels, 20 KB) took 0.19 ms to take and write, 512 of them 95 ms in one turn, so a slice
 * holds ~14 dense chunks (~3 ms) or 512 sparse ones.
 */
const SLICE_WEIGHT = 600;

export interface SnapshotSchedulerOptions {
  /** Placements between snapshots (--snapshot-every). */
  every: number;
  /** Placements after the latest snapshot at start (replayed by Store.load). */
  replayed: number;
  now: () => number;
  /** A snapshot (or a slice) could not be written. */
  failed: (err: unknown) => void;
  /** Chunks per slice (tests pass small ones). */
  sliceChunks?: number;
}

/** A snapshot being written a slice at a time. */
interface SlicedRun {
  /** The seq the snapshot holds the canvas at when its last slice is written. */
  seq: number;
  /** Placements it covers (those counted when it began). */
  covers: number;
  /** Chunk indices not written yet, grouped by shard. */
  left: number[];
  /** A new layout, written into a table of its own (store.ts `beginRelayout`): its size. */
  relayout?: { width: number; height: number };
  timer: NodeJS.Immediate | undefined;
}

export class SnapshotScheduler {
  /**
   * Placements not covered by the latest snapshot, counting those replayed at startup: otherwise a
   * crash loop would replay more at every start, never reaching `every` new placements.
   */
  private since: number;
  private retryAt = 0;
  private retryMs = 0;
  private run: SlicedRun | undefined;
  private readonly sliceChunks: number;

  constructor(
    private readonly store: Store,
    private readonly canvas: Canvas,
    private readonly opts: SnapshotSchedulerOptions,
  ) {
    this.since = opts.replayed;
    this.sliceChunks = opts.sliceChunks ?? SLICE_CHUNKS;
  }

  /** Whether a sliced snapshot is being written (for tests). */
  get slicing(): boolean {
    return this.run !== undefined;
  }

  /** `n` placements were stored: a snapshot begins when `every` have been since the last. */
  stored(n: number): void {
    this.since += n;
    if (this.since >= this.opts.every && this.run === undefined && this.opts.now() >= this.retryAt) this.begin();
  }

  /**
   * Writes a snapshot now, whole (finishing a sliced one first): at close, and for tests. The latest
   * snapshot then holds the canvas as it is.
   */
  snapshotNow(): void {
    this.finishRun();
    this.whole();
  }

  /** At close: finishes a sliced snapshot, and writes one if placements are not covered yet. */
  close(): void {
    this.finishRun();
    if (this.since > 0) this.whole();
  }

  /**
   * The canvas was resized: its chunks are re-laid and all marked changed, and the stored rows are
   * of the old size, so a sliced snapshot stops (the chunks it has not written are in the resize's
   * list) and the next one is written whole.
   */
  resized(): void {
    const run = this.run;
    if (!run) return;
    if (run.timer) clearImmediate(run.timer);
    this.run = undefined;
  }

  private begin(): void {
    const list = this.canvas.takeUnsavedList();
    if (list.length <= this.sliceChunks) {
      this.whole(list);
      return;
    }
    const { width, height } = this.canvas;
    const run: SlicedRun = { seq: this.canvas.seq, covers: this.since, left: this.byShard(list), timer: undefined };
    if (!this.store.canSlice(width, height)) {
      // Every chunk holding pixels is in the list: the canvas lists them all at its start and at a
      // resize, and a failed run of a new layout lists them all again (`writeSlice`).
      run.relayout = { width, height };
      try {
        this.store.beginRelayout();
      } catch (err) {
        this.canvas.unsavedListAgain(list);
        this.backOff(err);
        return;
      }
    }
    this.run = run;
    this.schedule();
  }

  /**
   * The chunks grouped by the hash shard holding their sparse pixels: a slice then reads a shard or
   * two, not all 64. A counting pass, not a sort (sorting 65,536 chunks took 15 ms of the loop).
   */
  private byShard(list: readonly number[]): number[] {
    const starts: number[] = [];
    for (const ci of list) {
      const shard = this.canvas.shardOf(ci);
      starts[shard] = (starts[shard] ?? 0) + 1;
    }
    let at = 0;
    for (let shard = 0; shard < starts.length; shard++) {
      const n = starts[shard] ?? 0;
      starts[shard] = at;
      at += n;
    }
    const out = new Array<number>(list.length);
    for (const ci of list) {
      const shard = this.canvas.shardOf(ci);
      out[starts[shard] as number] = ci;
      starts[shard] = (starts[shard] as number) + 1;
    }
    return out;
  }

  private schedule(): void {
    const run = this.run;
    if (run) run.timer = setImmediate(() => this.slice());
  }

  /** Writes the next slice; the last one makes the snapshot the one a start uses. */
  private slice(): void {
    const run = this.run;
    if (!run) return;
    run.timer = undefined;
    if (!this.writeSlice(run, false)) return;
    if (run.left.length > 0) this.schedule();
    else this.complete(run);
  }

  /** How many of `left`'s first chunks make one slice: SLICE_CHUNKS, or fewer heavy ones. */
  private sliceLength(left: readonly number[]): number {
    let n = 0;
    let weight = 0;
    while (n < left.length && n < this.sliceChunks && weight < SLICE_WEIGHT) {
      weight += 1 + this.canvas.chunkPixels(left[n] as number) / 100;
      n++;
    }
    return n;
  }

  /** Writes the run's next slice (or all it has left); false (and the run dropped) if the store failed. */
  private writeSlice(run: SlicedRun, all: boolean): boolean {
    const slice = run.left.splice(0, all ? run.left.length : this.sliceLength(run.left));
    try {
      this.store.writeChunks(this.canvas.chunkImages(slice), this.canvas.seq, run.relayout !== undefined);
      return true;
    } catch (err) {
      // A new layout starts again from an empty table: every chunk holding pixels goes into it.
      if (run.relayout) this.canvas.unsaveAll();
      else {
        this.canvas.unsavedListAgain(slice);
        this.canvas.unsavedListAgain(run.left);
      }
      this.run = undefined;
      this.backOff(err);
      return false;
    }
  }

  private complete(run: SlicedRun): void {
    try {
      this.store.finishSlicedSnapshot(run.seq, run.relayout);
      this.since -= run.covers;
      this.succeeded();
    } catch (err) {
      // The rows are written but the snapshot's seq is not: a start uses the previous one (as good).
      // A new layout's table was not swapped in: its chunks go into the next one.
      if (run.relayout) this.canvas.unsaveAll();
      this.backOff(err);
    }
    this.run = undefined;
  }

  /** A sliced snapshot in progress is written to its end now, on this turn. */
  private finishRun(): void {
    const run = this.run;
    if (!run) return;
    if (run.timer) clearImmediate(run.timer);
    run.timer = undefined;
    if (this.writeSlice(run, true)) this.complete(run);
  }

  /** Every changed chunk (`list`, taken by the caller, or taken now) in one transaction, as of now. */
  private whole(list = this.canvas.takeUnsavedList()): void {
    const chunks = this.canvas.chunkImages(list);
    try {
      this.store.writeSnapshot(chunks, this.canvas.seq, this.canvas.width, this.canvas.height);
      this.since = 0;
      this.succeeded();
    } catch (err) {
      this.canvas.unsavedAgain(chunks);
      this.backOff(err);
    }
  }

  private succeeded(): void {
    this.retryMs = 0;
    this.retryAt = 0;
  }

  private backOff(err: unknown): void {
    this.retryMs = Math.min(Math.max(this.retryMs * 2, RETRY_MIN_MS), RETRY_MAX_MS);
    this.retryAt = this.opts.now() + this.retryMs;
    this.opts.failed(err);
  }
}
