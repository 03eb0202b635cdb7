/**
 * The stats panel's logic, without the DOM: checking what `GET /api/stats` and `/api/stats/me` sent
 * (a server of another version, or a proxy's error page, must not break the panel) and the texts it
 * shows. stats-panel.ts puts them on the page.
 */

export interface TopRow {
  id: string;
  placed: number;
  /** The display name the identity chose. */
  name?: string;
  /** The sanctioned bot's name, when a bot placed these pixels. */
  bot?: string;
}

export interface StatsView {
  placements: number;
  lastHour: number;
  active5m: number;
  top: TopRow[];
  topHour: TopRow[];
}

export interface MineView {
  /** null: the page has no identity yet (it never connected or placed). */
  id: string | null;
  placed: number;
  rank: number | null;
  /** The display name the player chose (null: none). */
  name: string | null;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function field(v: unknown, key: string): unknown {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
}

function topRows(v: unknown): TopRow[] | null {
  if (!Array.isArray(v)) return null;
  const rows: TopRow[] = [];
  for (const e of v) {
    const id = field(e, 'id');
    const placed = field(e, 'placed');
    const name = field(e, 'name');
    const bot = field(e, 'bot');
    if (typeof id !== 'string' || !isCount(placed)) return null;
    // A label of the wrong type is left out, not fatal: the row still reads by its id.
    rows.push({
      id,
      placed,
      ...(typeof name === 'string' ? { name } : {}),
      ...(typeof bot === 'string' ? { bot } : {}),
    });
  }
  return rows;
}

/** The figures the panel shows from a `GET /api/stats` body; null if it is not one. */
export function parseStats(body: unknown): StatsView | null {
  const placements = field(body, 'placements');
  const lastHour = field(body, 'lastHour');
  const active5m = field(body, 'active5m');
  const top = topRows(field(body, 'top'));
  const topHour = topRows(field(body, 'topHour'));
  if (!isCount(placements) || !isCount(lastHour) || !isCount(active5m) || !top || !topHour) return null;
  return { placements, lastHour, active5m, top, topHour };
}

/** The caller's own figures from a `GET /api/stats/me` body; null if it is not one. */
export function parseMine(body: unknown): MineView | null {
  const id = field(body, 'id');
  const placed = field(body, 'placed');
  const rank = field(body, 'rank');
  if (!(id === null || typeof id === 'string') || !isCount(placed) || !(rank === null || isCount(rank))) return null;
  const name = field(body, 'name');
  return { id, placed, rank, name: typeof name === 'string' ? name : null };
}

/** 1234567 -> "1,234,567": the same grouping whatever the browser's language, like the rest of the page. */
export function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function totalsText(s: StatsView): string {
  const who = s.active5m === 1 ? '1 person' : `${count(s.active5m)} people`;
  return `${count(s.placements)} pixels placed, ${count(s.lastHour)} in the last hour; ${who} placing in the last 5 minutes.`;
}

/** What the name form says about an answer of `POST /api/me/name` (its status and error code). */
export function nameAnswerText(status: number, code: string | undefined, message: string | undefined): string {
  if (status === 200) return 'Saved.';
  if (code === 'name_taken') return 'That name is taken.';
  if (code === 'banned') return 'Banned identities cannot set a name.';
  if (code === 'cooldown') return 'A name changes once every few seconds: try again in a moment.';
  if (code === 'invalid_field' && message) return `Not allowed: ${message}.`;
  return 'Could not save the name; try again.';
}

export function mineText(m: MineView | null): string {
  if (!m) return 'Your pixels: unknown for now.';
  if (m.placed === 0 || m.rank === null) return 'Your pixels: none yet.';
  return `Your pixels: ${count(m.placed)} (rank ${count(m.rank)})`;
}

/**
 * A placer as the top list shows it: "you" for the player's own row (with its name), a bot's name
 * marked as a bot, the name the identity chose, else the start of its id.
 */
export function placerLabel(row: Pick<TopRow, 'id' | 'name' | 'bot'>, me: string | null): string {
  if (row.bot !== undefined) return `${row.bot} (bot)`;
  if (row.id === me) return row.name === undefined ? 'you' : `you (${row.name})`;
  return row.name ?? `${row.id.slice(0, 8)}…`;
}

/** One line per placer: "1. 3f2a09bc… 42". */
export function topLines(rows: readonly TopRow[], me: string | null): string[] {
  return rows.map((r, i) => `${i + 1}. ${placerLabel(r, me)} ${count(r.placed)}`);
}
