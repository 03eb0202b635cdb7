/**
 * What a writer changes in its small tables (bans, audit, bots, names, rollback jobs, the identity
 * secret), captured by SQLite triggers into `repl_changes`, so the leader can ship those changes to
 * its standbys beside the placements (bus/replication-log.ts) and a standby can apply them to its own
 * database. Triggers rather than a call in each store: every write path, present and future, is
 * captured the same way, and the rows written are exactly what the next start reads back.
 *
 * Derived tables are not shipped: snapshots, keyframes and the stats checkpoint are rebuilt from the
 * placements by whoever leads next.
 */
import type Database from 'better-sqlite3';

/** The replicated tables; each must exist (its store created it) before `install`. */
export const REPLICATED_TABLES = ['bans', 'prefix_bans', 'audit', 'rollback_jobs', 'bots', 'names', 'meta'] as const;
export type ReplicatedTable = (typeof REPLICATED_TABLES)[number];

/** One captured change: the table, and the row's columns (upsert) or its key columns (delete). */
export interface TableChange {
  table: ReplicatedTable;
  op: 'upsert' | 'delete';
  row: Record<string, string | number | null>;
}

export function isReplicatedTable(t: string): t is ReplicatedTable {
  return (REPLICATED_TABLES as readonly string[]).includes(t);
}

export class ChangeLog {
  private readonly columns = new Map<ReplicatedTable, { all: string[]; key: string[] }>();
  private readonly since: Database.Statement<[number]>;
  private readonly prune: Database.Statement<[number]>;

  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS repl_changes (
      id INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, op TEXT NOT NULL, row TEXT NOT NULL)`);
    for (const table of REPLICATED_TABLES) {
      const info = db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string; pk: number }>;
      if (info.length === 0) throw new Error(`replicated table ${table} does not exist yet`);
      const all = info.map((c) => c.name);
      const key = info.filter((c) => c.pk > 0).map((c) => c.name);
      this.columns.set(table, { all, key });
      const json = (cols: string[], from: 'NEW' | 'OLD') =>
        `json_object(${cols.map((c) => `'${c}', ${from}.${c}`).join(', ')})`;
      db.exec(`
        CREATE TRIGGER IF NOT EXISTS repl_${table}_ins AFTER INSERT ON ${table} BEGIN
          INSERT INTO repl_changes (tbl, op, row) VALUES ('${table}', 'upsert', ${json(all, 'NEW')}); END;
        CREATE TRIGGER IF NOT EXISTS repl_${table}_upd AFTER UPDATE ON ${table} BEGIN
          INSERT INTO repl_changes (tbl, op, row) VALUES ('${table}', 'upsert', ${json(all, 'NEW')}); END;
        CREATE TRIGGER IF NOT EXISTS repl_${table}_del AFTER DELETE ON ${table} BEGIN
          INSERT INTO repl_changes (tbl, op, row) VALUES ('${table}', 'delete', ${json(key, 'OLD')}); END;`);
    }
    this.since = db.prepare('SELECT id, tbl, op, row FROM repl_changes WHERE id > ? ORDER BY id LIMIT 1000');
    this.prune = db.prepare('DELETE FROM repl_changes WHERE id <= ?');
  }

  /** Changes after `id` (at most 1,000), with the id of the last. */
  read(id: number): { last: number; changes: TableChange[] } {
    const rows = this.since.all(id) as Array<{ id: number; tbl: string; op: string; row: string }>;
    const changes: TableChange[] = [];
    let last = id;
    for (const r of rows) {
      last = r.id;
      if (!isReplicatedTable(r.tbl) || (r.op !== 'upsert' && r.op !== 'delete')) continue;
      changes.push({ table: r.tbl, op: r.op, row: JSON.parse(r.row) as TableChange['row'] });
    }
    return { last, changes };
  }

  /** The id of the newest captured change (0: none). */
  newest(): number {
    const row = this.db.prepare('SELECT max(id) AS id FROM repl_changes').get() as { id: number | null };
    return row.id ?? 0;
  }

  /** Forgets changes up to `id` (shipped, or applied from the log on a standby). */
  forget(id: number): void {
    this.prune.run(id);
  }

  /** Applies changes as a standby received them; the caller holds the transaction. */
  apply(changes: readonly TableChange[]): void {
    for (const c of changes) {
      const cols = this.columns.get(c.table);
      if (!cols) continue;
      if (c.op === 'upsert') {
        const names = cols.all.filter((n) => n in c.row);
        this.db
          .prepare(
            `INSERT OR REPLACE INTO ${c.table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`,
          )
          .run(...names.map((n) => c.row[n] ?? null));
      } else {
        const key = cols.key.length > 0 ? cols.key : ['rowid'];
        this.db
          .prepare(`DELETE FROM ${c.table} WHERE ${key.map((k) => `${k} = ?`).join(' AND ')}`)
          .run(...key.map((k) => c.row[k] ?? null));
      }
    }
  }
}
