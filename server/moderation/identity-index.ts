/**
 * What the moderation console shows of each identity: placements in total, when it was first seen,
 * the address prefix it places from, and how many identities place from that prefix. Kept in memory
 * by the process that owns the canvas, fed per accepted placement (O(1)), and rebuilt after a restart
 * from the placements table in the background, a slice per loop turn, so startup is not slowed.
 *
 * Why not a table or an index: the table has no index on `who` (store.ts: secondary indexes cost the
 * group commit up to 12x), so "all placements of X" is a full scan (10 M rows: seconds); a counter
 * table updated in the commit transaction would be a second B-tree write per placement. Memory is
 * about 100 bytes per identity (1 M identities: ~100 MB); moderation placements (`mod:*`) are skipped.
 */
import type Database from 'better-sqlite3';
import { inSlices } from './slices.ts';

export interface IdentityEntry {
  total: number;
  firstAt: number;
  /** The rate-limit key (address prefix) of its latest placement. */
  prefix: string;
  /** Seq of its latest placement: which prefix is the latest when live and rebuilt rows meet. */
  lastSeq: number;
}

/**
 * Rows read per step while rebuilding. Plain rows through all() and a JavaScript fold measured 0.9 s
 * CPU per million rows, against 1.2-1.8 s for a GROUP BY per slice (perf/moderation.ts database), so
 * 4,096 rows are a ~4 ms step.
 */
const REBUILD_SLICE = 2_048;

export class IdentityIndex {
  private readonly ids = new Map<string, IdentityEntry>();
  /** Identities whose latest placement came from each prefix. */
  private readonly perPrefix = new Map<string, number>();
  private rebuilding = false;
  private stopped = false;

  /** Whether the rebuild after a start still runs (counts may be short until it ends). */
  get indexing(): boolean {
    return this.rebuilding;
  }

  /** An accepted placement; returns whether the identity placed for the first time. */
  placed(id: string, prefix: string, at: number, seq: number): boolean {
    const fresh = !this.ids.has(id);
    this.merge(id, prefix, 1, at, seq);
    return fresh;
  }

  get(id: string): IdentityEntry | undefined {
    return this.ids.get(id);
  }

  /** Identities whose latest placement came from `prefix`. */
  sharing(prefix: string): number {
    return this.perPrefix.get(prefix) ?? 0;
  }

  /**
   * Folds every stored placement up to `upTo` (the seq at startup; later ones arrive through
   * `placed`) into the index, a slice per step between other work (slices.ts).
   */
  rebuild(db: Database.Database, upTo: number): Promise<void> {
    const slice = db.prepare('SELECT who, addr, at, seq FROM placements WHERE seq > ? AND seq <= ?').raw();
    this.rebuilding = true;
    let from = 0;
    return inSlices(() => {
      if (this.stopped || !db.open || from >= upTo) return true;
      const to = Math.min(upTo, from + REBUILD_SLICE);
      for (const [who, addr, at, seq] of slice.all(from, to) as Array<[string, string, number, number]>)
        if (!who.startsWith('mod:')) this.merge(who, addr, 1, at, seq);
      from = to;
      return from >= upTo;
    }).finally(() => {
      this.rebuilding = false;
    });
  }

  stop(): void {
    this.stopped = true;
  }

  private merge(id: string, prefix: string, n: number, firstAt: number, lastSeq: number): void {
    const e = this.ids.get(id);
    if (!e) {
      this.ids.set(id, { total: n, firstAt, prefix, lastSeq });
      this.bump(prefix, 1);
      return;
    }
    e.total += n;
    if (firstAt < e.firstAt) e.firstAt = firstAt;
    if (lastSeq > e.lastSeq && prefix !== e.prefix) {
      this.bump(e.prefix, -1);
      this.bump(prefix, 1);
      e.prefix = prefix;
    }
    if (lastSeq > e.lastSeq) e.lastSeq = lastSeq;
  }

  private bump(prefix: string, by: number): void {
    const n = (this.perPrefix.get(prefix) ?? 0) + by;
    if (n > 0) this.perPrefix.set(prefix, n);
    else this.perPrefix.delete(prefix);
  }
}
