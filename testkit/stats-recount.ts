/**
 * The placement statistics recounted from the placements table by plain SQL, the definition that
 * server/stats/stats.ts keeps incrementally: tests compare the two (standalone and through an edge).
 */
import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IdentityStats, StatsSummary, TopEntry } from '../server/stats/stats.ts';

const PLAYERS = "substr(who, 1, 4) <> 'mod:'";

/** The display name or bot name the stats show beside `id` (the names and bots tables), if any. */
function labelOf(db: Database.Database, id: string): { name?: string; bot?: string } {
  const table = (name: string) =>
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").pluck().get(name) !== undefined;
  const bot = table('bots')
    ? (db.prepare('SELECT name FROM bots WHERE id = ?').pluck().get(id) as string | undefined)
    : undefined;
  if (bot !== undefined) return { bot };
  const name = table('names')
    ? (db.prepare('SELECT name FROM names WHERE id = ?').pluck().get(id) as string | undefined)
    : undefined;
  return name === undefined ? {} : { name };
}

/** Everything of `GET /api/stats` but `at`, as of `at` (the minute windows end at its minute). */
export function recountStats(dbPath: string, at: number, paletteSize: number, topSize = 10): Omit<StatsSummary, 'at'> {
  const db = new Database(dbPath, { readonly: true });
  try {
    const one = (sql: string, ...args: number[]) =>
      (db
        .prepare(sql)
        .pluck()
        .get(...args) as number | null) ?? 0;
    const minute = Math.floor(at / 60_000);
    const hourFrom = (minute - 59) * 60_000;
    const fiveFrom = (minute - 4) * 60_000;
    const top = (from: number): TopEntry[] =>
      db
        .prepare(
          `SELECT who AS id, COUNT(*) AS placed FROM placements WHERE ${PLAYERS} AND at >= ?
           GROUP BY who ORDER BY placed DESC, who ASC LIMIT ?`,
        )
        .all(from, topSize)
        .map((e) => {
          const { id, placed } = e as TopEntry;
          return { id, placed, ...labelOf(db, id) };
        });
    const perColor = new Array<number>(paletteSize).fill(0);
    const colours = db
      .prepare(`SELECT color, COUNT(*) AS n FROM placements WHERE ${PLAYERS} GROUP BY color`)
      .all() as Array<{
      color: number;
      n: number;
    }>;
    for (const { color, n } of colours) perColor[color] = n;
    return {
      placements: one(`SELECT COUNT(*) FROM placements WHERE ${PLAYERS}`),
      lastHour: one(`SELECT COUNT(*) FROM placements WHERE ${PLAYERS} AND at >= ?`, hourFrom),
      perColor,
      active5m: one(`SELECT COUNT(DISTINCT who) FROM placements WHERE ${PLAYERS} AND at >= ?`, fiveFrom),
      top: top(Number.MIN_SAFE_INTEGER),
      topHour: top(hourFrom),
      modChanges: one(`SELECT COUNT(*) FROM placements WHERE NOT (${PLAYERS})`),
    };
  } finally {
    db.close();
  }
}

/** `GET /api/stats/me` for `id`, recounted. */
export function recountIdentity(dbPath: string, id: string): IdentityStats {
  const db = new Database(dbPath, { readonly: true });
  try {
    const row = db
      .prepare('SELECT COUNT(*) AS placed, MIN(at) AS first, MAX(at) AS last FROM placements WHERE who = ?')
      .get(id) as {
      placed: number;
      first: number | null;
      last: number | null;
    };
    if (row.placed === 0) return { id, placed: 0, first: null, last: null, rank: null, ...labelOf(db, id) };
    const above = db
      .prepare(`SELECT COUNT(*) FROM (SELECT who FROM placements WHERE ${PLAYERS} GROUP BY who HAVING COUNT(*) > ?)`)
      .pluck()
      .get(row.placed) as number;
    return { id, placed: row.placed, first: row.first, last: row.last, rank: 1 + above, ...labelOf(db, id) };
  } finally {
    db.close();
  }
}

/**
 * `GET /api/stats` from `http` once it was computed at or after `since` (a summary is reused for up
 * to a second, so one computed before the last acked placement may not hold it yet). A 503 (an edge
 * whose writer is restarting) is retried like a stale answer.
 */
export async function statsSince(http: string, since: number, timeoutMs = 15_000): Promise<StatsSummary> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${http}/api/stats`);
    const text = await res.text();
    if (res.status !== 200 && res.status !== 503) throw new Error(`GET /api/stats: ${res.status} ${text}`);
    const stats = res.status === 200 ? (JSON.parse(text) as StatsSummary) : undefined;
    if (stats && stats.at >= since) return stats;
    if (Date.now() > deadline)
      throw new Error(`GET /api/stats: no answer computed after ${since}: ${res.status} ${text}`);
    await sleep(100);
  }
}
