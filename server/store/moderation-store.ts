/** The moderation tables beside the placement history: bans and the audit log of every action. */
import type Database from 'better-sqlite3';
import type { AuditEntry } from '../../protocol/http-api.ts';
import type { Ban } from '../placement/bans.ts';

/** An area rollback as stored: its request, and how far it got (moderation/area-rollback.ts). */
export interface RollbackJobRow {
  id: number;
  started: number;
  actor: string;
  params: unknown;
  state: 'running' | 'done' | 'failed';
  done: number;
  total: number;
  changed: number;
  error: string | null;
  finished: number | null;
}

export class ModerationStore {
  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS bans (id TEXT PRIMARY KEY, at INTEGER NOT NULL, reason TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS prefix_bans (
        cidr TEXT PRIMARY KEY, at INTEGER NOT NULL, reason TEXT NOT NULL, until INTEGER);
      CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
        action TEXT NOT NULL, params TEXT NOT NULL, result TEXT NOT NULL);
    `);
    // Area rollbacks run in chunks: each chunk's progress is written, so the state survives a restart.
    db.exec(`
      CREATE TABLE IF NOT EXISTS rollback_jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, started INTEGER NOT NULL, actor TEXT NOT NULL,
        params TEXT NOT NULL, state TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0,
        total INTEGER NOT NULL, changed INTEGER NOT NULL DEFAULT 0, error TEXT, finished INTEGER);
    `);
    // Databases from before timed bans: identity bans gain their end (NULL: until lifted).
    const columns = db.prepare('PRAGMA table_info(bans)').all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'until')) db.exec('ALTER TABLE bans ADD COLUMN until INTEGER');
  }

  /** Identity bans still in force at `now`. */
  identityBans(now = Date.now()): Map<string, Ban> {
    const rows = this.db
      .prepare('SELECT id, reason, until FROM bans WHERE until IS NULL OR until > ?')
      .all(now) as Array<{ id: string; reason: string; until: number | null }>;
    return new Map(rows.map((r) => [r.id, { reason: r.reason, until: r.until ?? undefined }]));
  }

  /** Prefix bans still in force at `now`, by CIDR. */
  prefixBans(now = Date.now()): Array<[string, Ban]> {
    const rows = this.db
      .prepare('SELECT cidr, reason, until FROM prefix_bans WHERE until IS NULL OR until > ?')
      .all(now) as Array<{ cidr: string; reason: string; until: number | null }>;
    return rows.map((r) => [r.cidr, { reason: r.reason, until: r.until ?? undefined }]);
  }

  ban(id: string, ban: Ban): void {
    this.db
      .prepare('INSERT OR REPLACE INTO bans (id, at, reason, until) VALUES (?, ?, ?, ?)')
      .run(id, Date.now(), ban.reason, ban.until ?? null);
  }

  unban(id: string): boolean {
    return this.db.prepare('DELETE FROM bans WHERE id = ?').run(id).changes > 0;
  }

  banPrefix(cidr: string, ban: Ban): void {
    this.db
      .prepare('INSERT OR REPLACE INTO prefix_bans (cidr, at, reason, until) VALUES (?, ?, ?, ?)')
      .run(cidr, Date.now(), ban.reason, ban.until ?? null);
  }

  unbanPrefix(cidr: string): boolean {
    return this.db.prepare('DELETE FROM prefix_bans WHERE cidr = ?').run(cidr).changes > 0;
  }

  audit(actor: string, action: string, params: unknown, result: unknown): void {
    this.db
      .prepare('INSERT INTO audit (at, actor, action, params, result) VALUES (?, ?, ?, ?, ?)')
      .run(Date.now(), actor, action, JSON.stringify(params), JSON.stringify(result));
  }

  startRollbackJob(actor: string, params: unknown, total: number): number {
    const r = this.db
      .prepare("INSERT INTO rollback_jobs (started, actor, params, state, total) VALUES (?, ?, ?, 'running', ?)")
      .run(Date.now(), actor, JSON.stringify(params), total);
    return Number(r.lastInsertRowid);
  }

  /** Progress of a running job, or its end (`state` done or failed). */
  updateRollbackJob(
    id: number,
    state: RollbackJobRow['state'],
    done: number,
    changed: number,
    error: string | null = null,
  ): void {
    this.db
      .prepare('UPDATE rollback_jobs SET state = ?, done = ?, changed = ?, error = ?, finished = ? WHERE id = ?')
      .run(state, done, changed, error, state === 'running' ? null : Date.now(), id);
  }

  /**
   * Jobs a stop or crash left `running` are failed: the chunks they committed stay, the rest is not
   * resumed by itself (the same request again finishes it: committed chunks are no longer undone).
   */
  failInterruptedRollbacks(): number {
    return this.db
      .prepare(
        `UPDATE rollback_jobs SET state = 'failed', finished = ?,
         error = 'interrupted by a restart after ' || done || ' of ' || total || ' pixels; the committed chunks stay, send the same rollback again to finish it'
         WHERE state = 'running'`,
      )
      .run(Date.now()).changes;
  }

  lastRollbackJob(): RollbackJobRow | undefined {
    const r = this.db
      .prepare(
        'SELECT id, started, actor, params, state, done, total, changed, error, finished FROM rollback_jobs ORDER BY id DESC LIMIT 1',
      )
      .get() as (Omit<RollbackJobRow, 'params'> & { params: string }) | undefined;
    return r && { ...r, params: JSON.parse(r.params) as unknown };
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
