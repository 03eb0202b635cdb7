/**
 * Writes keyframes behind the placement history: a cursor grid walks the placements table forward in
 * bounded chunks and, each time it crosses a multiple of `every`, stores a deflated copy. Runs on the
 * writer's own connection (one writer: no lock contention with the committer), yielding to the event
 * loop between chunks; deflate runs in libuv's thread pool. Call `catchUp` whenever convenient (e.g.
 * every few seconds): it resumes where it stopped, also across restarts (from the latest keyframe).
 */
import type Database from 'better-sqlite3';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { KeyframeStore } from '../store/keyframes.ts';
import { packKeyframe, unpackKeyframe } from './replay.ts';

export interface KeyframeOptions {
  /**
   * A keyframe every this many placements: any seq is then a keyframe plus at most `every` replayed
   * rows. 50,000 keeps the history image well under its 200 ms budget at 10 M placements while
   * keyframes cost about a tenth of the placement rows (figures in perf/RESULTS.md, history rows).
   */
  every?: number;
  /** Placement rows applied per loop turn (about 5 ms for 20,000 rows). */
  chunkRows?: number;
}

export const DEFAULT_KEYFRAME_EVERY = 50_000;
const DEFAULT_CHUNK_ROWS = 20_000;

export class Keyframes {
  readonly every: number;
  private readonly chunkRows: number;
  private readonly store: KeyframeStore;
  private readonly rows: Database.Statement<[number, number]>;
  private readonly cells: number;
  /** The canvas right after placement `seq`, kept between runs so no row is read twice. */
  private grid: Uint8Array | undefined;
  private seq = 0;
  private lastKeyframe = 0;
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
    this.cells = width * height;
    this.store = new KeyframeStore(db);
    this.rows = db.prepare('SELECT seq, x, y, color, at FROM placements WHERE seq > ? ORDER BY seq LIMIT ?').raw();
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
    this.grid = kf ? unpackKeyframe(kf.grid, this.cells) : new Uint8Array(this.cells);
    this.seq = kf?.seq ?? 0;
    this.lastKeyframe = this.seq;
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

  private async walk(): Promise<number> {
    let written = 0;
    while (!this.stopped) {
      if (!this.db.open) break;
      const grid = this.load();
      const pending: Array<{ seq: number; at: number; copy: Uint8Array }> = [];
      let n = 0;
      const w = this.width;
      for (const [seq, x, y, color, at] of this.rows.iterate(this.seq, this.chunkRows) as Iterable<
        [number, number, number, number, number]
      >) {
        grid[y * w + x] = color;
        this.seq = seq;
        n++;
        // Boundary test rather than seq % every === 0, so a gap in seqs cannot skip a keyframe.
        if (Math.floor(seq / this.every) > Math.floor(this.lastKeyframe / this.every)) {
          pending.push({ seq, at, copy: grid.slice() });
          this.lastKeyframe = seq;
        }
      }
      for (const p of pending) {
        const blob = await packKeyframe(p.copy);
        if (!this.db.open) return written;
        this.store.put({ seq: p.seq, at: p.at, grid: blob });
        written++;
      }
      if (n < this.chunkRows) break;
      await nextTurn();
    }
    return written;
  }
}
