/**
 * The `canvas_sizes` table: one row per resize (canvas/canvas-size.ts), at the seq the resize took.
 * Its own table so the placements table keeps exactly the placements; the canvas's first size stays
 * in `meta` (width, height), so a restart with the original --width/--height finds the grown size here.
 */
import type Database from 'better-sqlite3';
import type { SizeEvent } from '../canvas/canvas-size.ts';

/** A resize as stored: the event, who asked and when. */
export interface SizeRow extends SizeEvent {
  at: number;
  who: string;
}

export class SizeStore {
  constructor(private readonly db: Database.Database) {
    // A read-only connection (a history worker) must not run DDL; it sees the table once the writer made it.
    if (!db.readonly)
      db.exec(`CREATE TABLE IF NOT EXISTS canvas_sizes (
        seq INTEGER PRIMARY KEY, width INTEGER NOT NULL, height INTEGER NOT NULL,
        "left" INTEGER NOT NULL, top INTEGER NOT NULL, at INTEGER NOT NULL, who TEXT NOT NULL)`);
  }

  private hasTable(): boolean {
    return (
      this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'canvas_sizes'").get() !== undefined
    );
  }

  /** Every resize, oldest first. */
  all(): SizeRow[] {
    if (!this.hasTable()) return [];
    return this.db
      .prepare('SELECT seq, width, height, "left", top, at, who FROM canvas_sizes ORDER BY seq')
      .all() as SizeRow[];
  }

  /** The resizes after `seq`, oldest first. */
  after(seq: number): SizeRow[] {
    if (!this.hasTable()) return [];
    return this.db
      .prepare('SELECT seq, width, height, "left", top, at, who FROM canvas_sizes WHERE seq > ? ORDER BY seq')
      .all(seq) as SizeRow[];
  }

  insert(row: SizeRow): void {
    this.db
      .prepare('INSERT INTO canvas_sizes (seq, width, height, "left", top, at, who) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(row.seq, row.width, row.height, row.left, row.top, row.at, row.who);
  }

  /** Stored and applied by a standby only when new (the log may repeat an entry). */
  has(seq: number): boolean {
    return this.db.prepare('SELECT 1 FROM canvas_sizes WHERE seq = ?').get(seq) !== undefined;
  }
}
