/**
 * The tables beside the placement history: the identity secret, bans, the moderation audit log,
 * and the history queries behind pixel lookup, rollback and cooldown restore.
 */
import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';

export interface PixelInfo {
  color: number;
  who: string;
  at: number;
  seq: number;
}

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

  /** The HMAC secret for identity tokens: the configured one, else generated once and kept here. */
  secret(configured: string): Buffer {
    if (configured !== '') return Buffer.from(configured, 'utf8');
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'secret'").get() as { value: string } | undefined;
    if (row) return Buffer.from(row.value, 'hex');
    const fresh = randomBytes(32);
    this.db.prepare("INSERT INTO meta (key, value) VALUES ('secret', ?)").run(fresh.toString('hex'));
    return fresh;
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

  /** Cooldowns still running at `now`, by identity and by address key, from the persisted next_at. */
  runningCooldowns(now: number): { byWho: Map<string, number>; byAddr: Map<string, number> } {
    const q = (col: 'who' | 'addr') =>
      new Map(
        (this.db.prepare(`SELECT ${col} AS k, MAX(next_at) AS n FROM placements WHERE next_at > ? AND ${col} != '' GROUP BY ${col}`).all(now) as Array<{ k: string; n: number }>).map(
          (r) => [r.k, r.n],
        ),
      );
    return { byWho: q('who'), byAddr: q('addr') };
  }

  /** The last placement at (x, y), or undefined if the pixel was never placed. */
  pixel(x: number, y: number): PixelInfo | undefined {
    return this.db.prepare('SELECT color, who, at, seq FROM placements WHERE x = ? AND y = ? ORDER BY seq DESC LIMIT 1').get(x, y) as
      | PixelInfo
      | undefined;
  }

  /**
   * For a rollback of `who` since `since`: every pixel they placed in that window, with the colour it
   * has once their placements there are removed from its history (0, the blank colour, if none).
   */
  rollbackTargets(who: string, since: number): Array<{ x: number; y: number; color: number }> {
    const pixels = this.db.prepare('SELECT DISTINCT x, y FROM placements WHERE who = ? AND at >= ?').all(who, since) as Array<{ x: number; y: number }>;
    const previous = this.db.prepare(
      'SELECT color FROM placements WHERE x = ? AND y = ? AND NOT (who = ? AND at >= ?) ORDER BY seq DESC LIMIT 1',
    );
    return pixels.map(({ x, y }) => {
      const row = previous.get(x, y, who, since) as { color: number } | undefined;
      return { x, y, color: row?.color ?? 0 };
    });
  }

  audit(actor: string, action: string, params: unknown, result: unknown): void {
    this.db
      .prepare('INSERT INTO audit (at, actor, action, params, result) VALUES (?, ?, ?, ?, ?)')
      .run(Date.now(), actor, action, JSON.stringify(params), JSON.stringify(result));
  }

  listAudit(limit: number): AuditEntry[] {
    const rows = this.db.prepare('SELECT id, at, actor, action, params, result FROM audit ORDER BY id DESC LIMIT ?').all(limit) as Array<
      Omit<AuditEntry, 'params' | 'result'> & { params: string; result: string }
    >;
    return rows.map((r) => ({ ...r, params: JSON.parse(r.params) as unknown, result: JSON.parse(r.result) as unknown }));
  }
}
