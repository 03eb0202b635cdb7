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

  /**
   * First seq whose placement time is >= t (or max seq + 1). `at` is assigned at commit and grows with
   * seq, so a binary search over the primary key replaces an index on `at`.
   */
  firstSeqAtOrAfter(t: number): number {
    const max = (this.db.prepare('SELECT MAX(seq) AS m FROM placements').get() as { m: number | null }).m ?? 0;
    const atOf = this.db.prepare('SELECT at FROM placements WHERE seq >= ? ORDER BY seq LIMIT 1').pluck();
    let lo = 1;
    let hi = max + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const at = atOf.get(mid) as number | undefined;
      if (at === undefined || at >= t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * Cooldowns still running at `now`, by identity and by address key, from the persisted next_at.
   * Only placements newer than the longest cooldown can still hold one, so only those are read.
   */
  runningCooldowns(now: number, cooldownMs: number): { byWho: Map<string, number>; byAddr: Map<string, number> } {
    const byWho = new Map<string, number>();
    const byAddr = new Map<string, number>();
    const rows = this.db.prepare('SELECT who, addr, next_at FROM placements WHERE seq >= ? AND next_at > ?').raw();
    for (const [who, addr, next] of rows.iterate(this.firstSeqAtOrAfter(now - cooldownMs), now) as Iterable<[string, string, number]>) {
      if (next > (byWho.get(who) ?? 0)) byWho.set(who, next);
      if (addr !== '' && next > (byAddr.get(addr) ?? 0)) byAddr.set(addr, next);
    }
    return { byWho, byAddr };
  }

  /** The placement with this seq (the head of a pixel's history is Canvas.lastSeq). */
  placement(seq: number): PixelInfo | undefined {
    if (seq <= 0) return undefined;
    return this.db.prepare('SELECT color, who, at, seq FROM placements WHERE seq = ?').get(seq) as PixelInfo | undefined;
  }

  /**
   * For a rollback of `who` since `since`: every pixel they placed in that window, with the colour it
   * has once their placements there are removed from its history (0, the blank colour, if none).
   * Walks each pixel's history list back from its latest placement (`headSeq`).
   */
  rollbackTargets(who: string, since: number, headSeq: (x: number, y: number) => number): Array<{ x: number; y: number; color: number }> {
    const pixels = new Map<string, { x: number; y: number }>();
    const touched = this.db.prepare('SELECT x, y FROM placements WHERE seq >= ? AND who = ? AND at >= ?').raw();
    for (const [x, y] of touched.iterate(this.firstSeqAtOrAfter(since), who, since) as Iterable<[number, number]>) {
      pixels.set(`${x},${y}`, { x, y });
    }
    const row = this.db.prepare('SELECT color, who, at, prev_seq FROM placements WHERE seq = ?');
    return [...pixels.values()].map(({ x, y }) => {
      let seq = headSeq(x, y);
      for (;;) {
        const r = row.get(seq) as { color: number; who: string; at: number; prev_seq: number } | undefined;
        if (!r) return { x, y, color: 0 };
        if (!(r.who === who && r.at >= since)) return { x, y, color: r.color };
        seq = r.prev_seq;
      }
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
