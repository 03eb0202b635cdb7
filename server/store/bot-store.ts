/**
 * The sanctioned bots table beside the moderation tables: every bot a moderator minted, kept after
 * revocation and expiry so pixel info still names the bot behind old pixels. The token itself is
 * never stored: it is the HMAC of the id (identity/tokens.ts), shown once when minted.
 */
import type Database from 'better-sqlite3';
import type { Bot } from '../placement/bots.ts';

interface BotRow {
  id: string;
  name: string;
  every_ms: number;
  region: string | null;
  created: number;
  expires: number | null;
  revoked: number | null;
}

function botOf(r: BotRow): Bot {
  return {
    id: r.id,
    name: r.name,
    everyMs: r.every_ms,
    ...(r.region === null ? {} : { region: JSON.parse(r.region) as NonNullable<Bot['region']> }),
    created: r.created,
    ...(r.expires === null ? {} : { expires: r.expires }),
    ...(r.revoked === null ? {} : { revoked: r.revoked }),
  };
}

export class BotStore {
  constructor(private readonly db: Database.Database) {
    // IF NOT EXISTS: a database from before bots gains the table at its first start with them.
    db.exec(`
      CREATE TABLE IF NOT EXISTS bots (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, every_ms INTEGER NOT NULL, region TEXT,
        created INTEGER NOT NULL, expires INTEGER, revoked INTEGER, actor TEXT NOT NULL);
    `);
  }

  all(): Bot[] {
    const rows = this.db
      .prepare('SELECT id, name, every_ms, region, created, expires, revoked FROM bots')
      .all() as BotRow[];
    return rows.map(botOf);
  }

  add(bot: Bot, actor: string): void {
    this.db
      .prepare(
        'INSERT INTO bots (id, name, every_ms, region, created, expires, revoked, actor) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)',
      )
      .run(
        bot.id,
        bot.name,
        bot.everyMs,
        bot.region ? JSON.stringify(bot.region) : null,
        bot.created,
        bot.expires ?? null,
        actor,
      );
  }

  /** Moves every bot's region by the columns and rows a resize added on the left and top. */
  shift(left: number, top: number): void {
    if (left === 0 && top === 0) return;
    this.db
      .prepare(
        `UPDATE bots SET region = json_set(region, '$.x', json_extract(region, '$.x') + ?, '$.y', json_extract(region, '$.y') + ?)
         WHERE region IS NOT NULL`,
      )
      .run(left, top);
  }

  /** Marks bot `id` revoked at `at`; false when there is no such bot or it was revoked already. */
  revoke(id: string, at: number): boolean {
    return this.db.prepare('UPDATE bots SET revoked = ? WHERE id = ? AND revoked IS NULL').run(at, id).changes > 0;
  }
}
