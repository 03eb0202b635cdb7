/**
 * The `stats_checkpoint` table: the all-time placement statistics (stats/stats.ts StatsCheckpoint) as
 * of one seq, one row, MessagePack, so a restart reads it and the placements after it instead of
 * scanning the whole history (3.4-6.4 s per million placements on the test machine, perf/RESULTS.md
 * "Stats"). Written off the commit path (a timer and shutdown), so commits do not pay for it. Its own
 * table, created here with IF NOT EXISTS, so store.ts needs no migration.
 */
import type Database from 'better-sqlite3';
import type { StatsCheckpoint } from '../stats/stats.ts';
import { isCount, packState, unpackState } from './packed-state.ts';

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/**
 * The checkpoint if `bytes` hold exactly one; undefined otherwise (a file written by another
 * version, or damaged): the caller then scans the history, which is always right.
 */
export function decodeCheckpoint(bytes: Uint8Array): StatsCheckpoint | undefined {
  const c = unpackState(bytes);
  if (!c) return undefined;
  const { who, placed, first, last, perColor } = c;
  if (!isCount(c.seq) || !isCount(c.placements) || !isCount(c.modChanges)) return undefined;
  if (!Array.isArray(perColor) || !perColor.every(isCount) || perColor.length > 256) return undefined;
  if (!Array.isArray(who) || !Array.isArray(placed) || !Array.isArray(first) || !Array.isArray(last)) return undefined;
  const n = who.length;
  if (placed.length !== n || first.length !== n || last.length !== n) return undefined;
  if (!who.every((w) => typeof w === 'string') || !placed.every((p) => isCount(p) && p > 0)) return undefined;
  if (!first.every(isInt) || !last.every(isInt)) return undefined;
  return {
    seq: c.seq,
    placements: c.placements,
    modChanges: c.modChanges,
    perColor: perColor as number[],
    who: who as string[],
    placed: placed as number[],
    first: first as number[],
    last: last as number[],
  };
}

export class StatsStore {
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS stats_checkpoint (
      id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, at INTEGER NOT NULL, data BLOB NOT NULL)`);
  }

  save(c: StatsCheckpoint): void {
    this.db
      .prepare('INSERT OR REPLACE INTO stats_checkpoint (id, seq, at, data) VALUES (1, ?, ?, ?)')
      .run(c.seq, Date.now(), packState(c));
  }

  /**
   * The stored checkpoint, unless it is unreadable or ahead of the placements (`maxSeq`: a database
   * restored from an older copy keeps a checkpoint of placements it no longer has).
   */
  load(maxSeq: number): StatsCheckpoint | undefined {
    const row = this.db.prepare('SELECT data FROM stats_checkpoint WHERE id = 1').get() as { data: Buffer } | undefined;
    const c = row && decodeCheckpoint(row.data);
    return c && c.seq <= maxSeq ? c : undefined;
  }
}
