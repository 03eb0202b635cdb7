/**
 * The `keyframes` table: the grid right after placement `seq`, deflated, kept for every K-th
 * placement so the canvas at any past seq is one keyframe plus at most K replayed rows. Its own table
 * in the store's database (created here with IF NOT EXISTS, so store.ts needs no migration), because
 * the `snapshots` table serves startup only: it keeps the latest 3, raw, and deletes the rest.
 */
import type Database from 'better-sqlite3';

export interface KeyframeRow {
  seq: number;
  /** Unix ms of placement `seq`. */
  at: number;
  /** The deflated grid (one palette index per byte, row-major). */
  grid: Buffer;
}

export class KeyframeStore {
  constructor(readonly db: Database.Database) {
    // A read-only connection (a history worker) must not run DDL; it sees the table once the writer
    // made it, and until then every lookup finds no keyframe (replay from the blank canvas).
    if (!db.readonly) {
      db.exec(
        'CREATE TABLE IF NOT EXISTS keyframes (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, grid BLOB NOT NULL)',
      );
    }
  }

  private hasTable(): boolean {
    return (
      this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'keyframes'").get() !== undefined
    );
  }

  put(row: KeyframeRow): void {
    this.db.prepare('INSERT OR REPLACE INTO keyframes (seq, at, grid) VALUES (?, ?, ?)').run(row.seq, row.at, row.grid);
  }

  /** The latest keyframe at or before `seq`, if any. */
  latestAtOrBefore(seq: number): KeyframeRow | undefined {
    if (!this.hasTable()) return undefined;
    return this.db.prepare('SELECT seq, at, grid FROM keyframes WHERE seq <= ? ORDER BY seq DESC LIMIT 1').get(seq) as
      | KeyframeRow
      | undefined;
  }

  /** The seq of the latest keyframe at or before `seq` (0: none), without reading its grid. */
  latestSeqAtOrBefore(seq: number): number {
    if (!this.hasTable()) return 0;
    const r = this.db.prepare('SELECT MAX(seq) FROM keyframes WHERE seq <= ?').pluck().get(seq) as number | null;
    return r ?? 0;
  }

  /** How many keyframes there are and the bytes their grids take (the storage cost of history). */
  stats(): { count: number; bytes: number; latestSeq: number } {
    if (!this.hasTable()) return { count: 0, bytes: 0, latestSeq: 0 };
    return this.db
      .prepare(
        'SELECT COUNT(*) AS count, COALESCE(SUM(LENGTH(grid)), 0) AS bytes, COALESCE(MAX(seq), 0) AS latestSeq FROM keyframes',
      )
      .get() as { count: number; bytes: number; latestSeq: number };
  }
}
