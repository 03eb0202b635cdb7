/** The moderation tables beside the placement history: bans and the audit log of every action. */
import type Database from 'better-sqlite3';

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  params: unknown;
  result: unknown;
}

export class ModerationStore {
  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS bans (id TEXT PRIMARY KEY, at INTEGER NOT NULL, reason TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
        action TEXT NOT NULL, params TEXT NOT NULL, result TEXT NOT NULL);
    `);
  }

  bannedIds(): Set<string> {
    return new Set((this.db.prepare('SELECT id FROM bans').all() as Array<{ id: string }>).map((r) => r.id));
  }

  ban(id: string, reason: string): void {
    this.db.prepare('INSERT OR REPLACE INTO bans (id, at, reason) VALUES (?, ?, ?)').run(id, Date.now(), reason);
  }

  unban(id: string): boolean {
    return this.db.prepare('DELETE FROM bans WHERE id = ?').run(id).changes > 0;
  }

  audit(actor: string, action: string, params: unknown, result: unknown): void {
    this.db
      .prepare('INSERT INTO audit (at, actor, action, params, result) VALUES (?, ?, ?, ?, ?)')
      .run(Date.now(), actor, action, JSON.stringify(params), JSON.stringify(result));
  }

  listAudit(limit: number): AuditEntry[] {
    const rows = this.db
      .prepare('SELECT id, at, actor, action, params, result FROM audit ORDER BY id DESC LIMIT ?')
      .all(limit) as Array<Omit<AuditEntry, 'params' | 'result'> & { params: string; result: string }>;
    return rows.map((r) => ({
      ...r,
      params: JSON.parse(r.params) as unknown,
      result: JSON.parse(r.result) as unknown,
    }));
  }
}
