/**
 * Writes keyframes behind the placement history: a cursor grid walks the placements table forward in
 * bounded chunks and, each time it crosses a multiple of `every`, stores a deflated copy. Runs on the
 * writer's own connection (one writer: no lock contention with the committer), yielding to the event
 * loop between chunks; deflate runs in libuv's thread pool. Call `catchUp` whenever convenient (e.g.
 * every few seconds): it resumes where it stopped, also across restarts (from the latest keyframe).
 */
import type Database from 'better-sqlite3';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { WHOLE_CANVAS_MAX_SIDE } from '../canvas/canvas.ts';
import type { KeyframeStore } from '../store/keyframe-store.ts';
import { HistoryReader, packKeyframe, unpackKeyframe } from './replay.ts';

export interface KeyframeOptions {
  /**
   * A keyframe every this many placements: any seq is then a keyframe plus at most `every` replayed
   * rows. 50,000: the worst seq replays in ~25 ms at 10 M placements (budget 200 ms for the whole
   * image) and keyframes take 2.75 MiB per million placements, 7% of the database (perf/history.ts).
   */
  every?: number;
  /**
   * Placements applied per loop turn: 10,000 are about 4 ms (0.39 us a row, replay.ts), so a
   * catch-up never holds the event loop longer than a tick's encode.
   */
  chunkRows?: number;
}

export const DEFAULT_KEYFRAME_EVERY = 50_000;
const DEFAULT_CHUNK_ROWS = 10_000;

export class Keyframes {
  readonly every: number;
  private readonly chunkRows: number;
  private readonly store: KeyframeStore;
  private readonly reader: HistoryReader;
  /** The canvas right after placement `seq`, kept between runs so no row is read twice. */
  private grid: Uint8Array | undefined;
  private seq = 0;
  private running: Promise<number> | undefined;
  private stopped = false;

  constructor(
    private readonly db: Database.Database,
    readonly width: number,
    readonly height: number,
    opts: KeyframeOptions = {},
  ) {
    this.every = opts.every ?? DEFAULT_KEYFRAME_EVERY;
    this.chunkRows = opts.chunkRows ?? DEFAULT_CHUNK_ROWS;
    if (!Number.isSafeInteger(this.every) || this.every < 1) throw new Error(`keyframe interval ${this.every}`);
    if (!Number.isSafeInteger(this.chunkRows) || this.chunkRows < 1) throw new Error(`chunk ${this.chunkRows}`);
    this.reader = new HistoryReader(db, width, height);
    this.store = this.reader.keyframes;
  }

  /** The seq up to which placements have been walked (keyframes exist up to the last boundary). */
  get walkedSeq(): number {
    return this.seq;
  }

  /**
   * Walks every placement stored now, writing the keyframes it crosses; resolves with how many it
   * wrote. Concurrent calls share one run. Stops early after `stop()`.
   */
  catchUp(): Promise<number> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Makes a running catch-up return at its next chunk; await the returned promise before closing the store. */
  stop(): Promise<unknown> {
    this.stopped = true;
    return this.running ?? Promise.resolve();
  }

  private load(): Uint8Array {
    if (this.grid) return this.grid;
    const kf = this.store.latestAtOrBefore(Number.MAX_SAFE_INTEGER);
    const { width, height } = this.reader.sizes().at(kf?.seq ?? 0);
    this.grid = kf ? unpackKeyframe(kf.grid, width * height) : new Uint8Array(width * height);
    this.seq = kf?.seq ?? 0;
    return this.grid;
  }

  private async run(): Promise<number> {
    try {
      return await this.walk();
    } catch (err) {
      // A keyframe that failed to deflate or store would be skipped for good: start the next run
      // again from the latest stored keyframe instead.
      this.grid = undefined;
      throw err;
    }
  }

  /**
   * Keyframes sit at multiples of `every`: the grid after every placement with seq <= that multiple.
   * Walking by seq ranges (a chunk never crosses a multiple) keeps that exact even across gaps in seqs;
   * a multiple is written only once a placement at or past it is stored, so nothing below it can
   * still arrive (the committer stores seqs in order).
   */
  private async walk(): Promise<number> {
    let written = 0;
    // Up to the resize that took the canvas past 4096 a side, not through it (none at all for a canvas
    // that started there): a grid of the size after it would be 268 MB at 16,384 a side; past canvases
    // from then on are asked for by region (region-replay.ts), which starts from the last keyframe.
    const sizes = this.reader.sizes();
    const over = (s: { width: number; height: number }) =>
      s.width > WHOLE_CANVAS_MAX_SIDE || s.height > WHOLE_CANVAS_MAX_SIDE;
    const tooLarge = over(sizes.initial) ? { seq: 1 } : sizes.events.find(over);
    const max = Math.min(this.reader.maxSeq(), tooLarge ? tooLarge.seq - 1 : Number.MAX_SAFE_INTEGER);
    while (!this.stopped && this.db.open && this.seq < max) {
      const grid = this.load();
      const boundary = (Math.floor(this.seq / this.every) + 1) * this.every;
      const end = Math.min(this.seq + this.chunkRows, boundary, max);
      // A resize on the way grows the grid: the keyframe is of the size at its seq.
      const next = this.reader.replay(grid, this.seq, end);
      this.grid = next;
      this.seq = end;
      if (end === boundary) {
        const copy = next.slice(); // the grid moves on while the copy deflates in the thread pool
        const blob = await packKeyframe(copy);
        if (!this.db.open) break;
        this.store.put({ seq: boundary, at: this.reader.timeOf(boundary), grid: blob });
        written++;
      } else {
        await nextTurn();
      }
    }
    // Walked up to that resize for good: its grid (16 MB at 4096 x 4096) is not kept for nothing.
    if (tooLarge && this.seq >= max) this.grid = undefined;
    return written;
  }
}
