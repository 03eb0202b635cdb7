/**
 * The display names table beside the moderation tables: one row per identity that chose a name
 * (identity/display-names.ts). `key` is the name's comparison form (NFKC, lower case), UNIQUE, so
 * two identities can never hold names that read the same, even if the in-memory check were bypassed.
 */
import type Database from 'better-sqlite3';

export interface NameRow {
  id: string;
  name: string;
  key: string;
  at: number;
}

export class NameStore {
  private readonly upsert: Database.Statement<[string, string, string, number]>;
  private readonly remove: Database.Statement<[string]>;

  constructor(private readonly db: Database.Database) {
    // IF NOT EXISTS: a database from before display names gains the table at its first start with them.
    db.exec(`
      CREATE TABLE IF NOT EXISTS names (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, key TEXT NOT NULL UNIQUE, at INTEGER NOT NULL);
    `);
    this.upsert = db.prepare(
      'INSERT INTO names (id, name, key, at) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, key = excluded.key, at = excluded.at',
    );
    this.remove = db.prepare('DELETE FROM names WHERE id = ?');
  }

  all(): NameRow[] {
    return this.db.prepare('SELECT id, name, key, at FROM names').all() as NameRow[];
  }

  /** Sets `id`'s name; throws SQLITE_CONSTRAINT_UNIQUE when another identity holds `key`. */
  set(row: NameRow): void {
    this.upsert.run(row.id, row.name, row.key, row.at);
  }

  /** Removes `id`'s name; false when it had none. */
  clear(id: string): boolean {
    return this.remove.run(id).changes > 0;
  }
}
