/**
 * Queries over the placement history (the `placements` table Store writes): the placement behind a
 * pixel, the pixels an identity placed since a time with the colour each had before them (rollback),
 * and the cooldowns still running (restored at startup). Every placement row is kept, with the seq of
 * the pixel's previous placement, so each pixel's history is a linked list from Canvas.lastSeq.
 *
 * Rows are stored in the coordinates of their own time (canvas/canvas-size.ts): the area queries and
 * the rollback take and give today's coordinates, cutting a seq range at each resize and moving the
 * area into each stretch's coordinates (a handful of stretches: a canvas grows a few times).
 */
import type { CooldownSource } from '../placement/recent-placements.ts';
import type { Area, LookRow } from '../../protocol/http-api.ts';
import type Database from 'better-sqlite3';
import { SizeHistory } from '../canvas/canvas-size.ts';
import { SizeStore } from './size-store.ts';

/** Seqs lo..hi whose rows share one coordinate system, and how far those moved since (to today's). */
interface Stretch {
  lo: number;
  hi: number;
  left: number;
  top: number;
}

export interface PixelInfo {
  color: number;
  who: string;
  at: number;
  seq: number;
}

/** The bounding filter every area query shares (x, y first so SQLite rejects most rows early). */
const IN_AREA = 'x >= ? AND x < ? AND y >= ? AND y < ?';
const areaArgs = (a: Area) => [a.x, a.x + a.width, a.y, a.y + a.height] as const;

export class PlacementLog implements CooldownSource {
  private readonly pageStmt: Database.Statement;
  private readonly countByWhoStmt: Database.Statement;
  private readonly countStmt: Database.Statement;
  private readonly countOfStmt: Database.Statement;
  private readonly linkStmt: Database.Statement;
  private readonly maxSeqStmt: Database.Statement;
  private readonly sizes: SizeStore;

  constructor(private readonly db: Database.Database) {
    this.sizes = new SizeStore(db);
    // Area queries scan a seq range of the primary key with the area as a filter: no secondary index
    // (store.ts says what one costs the commit), and a time window is a seq range (firstSeqAtOrAfter).
    this.pageStmt = db.prepare(
      `SELECT seq, x, y, color, who, at FROM placements WHERE seq >= ? AND seq <= ? AND ${IN_AREA} ORDER BY seq DESC LIMIT ?`,
    );
    this.countByWhoStmt = db
      .prepare(
        `SELECT who, COUNT(*) FROM placements WHERE seq >= ? AND seq <= ? AND ${IN_AREA}
         AND who IN (SELECT value FROM json_each(?)) GROUP BY who`,
      )
      .raw();
    this.countStmt = db.prepare(`SELECT COUNT(*) FROM placements WHERE seq >= ? AND seq <= ? AND ${IN_AREA}`).pluck();
    this.countOfStmt = db
      .prepare(
        `SELECT COUNT(*) FROM placements WHERE seq >= ? AND seq <= ? AND ${IN_AREA}
         AND who IN (SELECT value FROM json_each(?))`,
      )
      .pluck();
    this.linkStmt = db
      .prepare('SELECT seq, color, who, prev_seq FROM placements WHERE seq IN (SELECT value FROM json_each(?))')
      .raw();
    this.maxSeqStmt = db.prepare('SELECT COALESCE(MAX(seq), 0) FROM placements').pluck();
  }

  /** The seq of the last stored placement (0: none). */
  maxSeq(): number {
    return this.maxSeqStmt.get() as number;
  }

  /**
   * [lo, hi] cut at each resize in it, newest stretch first: rows of a stretch share its coordinates,
   * `left`/`top` from there to today's. Reads the resizes per call (a few rows; one may come at any time).
   */
  private stretches(lo: number, hi: number): Stretch[] {
    const events = this.sizes.all();
    if (events.length === 0) return [{ lo, hi, left: 0, top: 0 }];
    const history = new SizeHistory({ width: 0, height: 0 }, events);
    const out: Stretch[] = [];
    let start = lo;
    for (const e of history.between(lo, hi)) {
      if (e.seq - 1 >= start) out.push({ lo: start, hi: e.seq - 1, ...history.shift(start, Number.MAX_SAFE_INTEGER) });
      start = e.seq;
    }
    out.push({ lo: start, hi, ...history.shift(start, Number.MAX_SAFE_INTEGER) });
    return out.reverse();
  }

  /** `area` (today's coordinates) as it was in a stretch's. */
  private static areaIn(area: Area, s: Stretch): Area {
    return { x: area.x - s.left, y: area.y - s.top, width: area.width, height: area.height };
  }

  /** Placements in `area` with seq in [lo, hi], newest first, at most `limit`; x and y are today's. */
  pageInArea(area: Area, lo: number, hi: number, limit: number): LookRow[] {
    const out: LookRow[] = [];
    for (const s of this.stretches(lo, hi)) {
      if (out.length >= limit) break;
      const rows = this.pageStmt.all(
        s.lo,
        s.hi,
        ...areaArgs(PlacementLog.areaIn(area, s)),
        limit - out.length,
      ) as LookRow[];
      for (const r of rows) out.push(s.left === 0 && s.top === 0 ? r : { ...r, x: r.x + s.left, y: r.y + s.top });
    }
    return out;
  }

  /** How many placements each of `ids` made in `area` with seq in [lo, hi] (absent: none). */
  countByIdentity(area: Area, lo: number, hi: number, ids: readonly string[]): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.stretches(lo, hi)) {
      const args = areaArgs(PlacementLog.areaIn(area, s));
      const rows = this.countByWhoStmt.all(s.lo, s.hi, ...args, JSON.stringify(ids)) as Array<[string, number]>;
      for (const [who, n] of rows) out.set(who, (out.get(who) ?? 0) + n);
    }
    return out;
  }

  /** Placements in `area` with seq in [lo, hi], by anyone (`ids` undefined) or by `ids` only. */
  countInArea(area: Area, lo: number, hi: number, ids?: readonly string[]): number {
    let n = 0;
    for (const s of this.stretches(lo, hi)) {
      const args = areaArgs(PlacementLog.areaIn(area, s));
      n += (
        ids === undefined
          ? this.countStmt.get(s.lo, s.hi, ...args)
          : this.countOfStmt.get(s.lo, s.hi, ...args, JSON.stringify(ids))
      ) as number;
    }
    return n;
  }

  /**
   * Links of pixel history lists, many at once: [seq, color, who, prev_seq] for each stored seq of
   * `seqs`. One statement for a batch: per-call overhead, not SQLite, dominated one lookup at a time.
   */
  links(seqs: readonly number[]): Array<[number, number, string, number]> {
    return this.linkStmt.all(JSON.stringify(seqs)) as Array<[number, number, string, number]>;
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
  runningCooldowns(now: number, cooldownMs: number): { byWho: Map<string, number>; byAddr: Map<string, number[]> } {
    const byWho = new Map<string, number>();
    const byAddr = new Map<string, number[]>();
    const rows = this.db.prepare('SELECT who, addr, next_at FROM placements WHERE seq >= ? AND next_at > ?').raw();
    for (const [who, addr, next] of rows.iterate(this.firstSeqAtOrAfter(now - cooldownMs), now) as Iterable<
      [string, string, number]
    >) {
      if (next > (byWho.get(who) ?? 0)) byWho.set(who, next);
      // Every running claim of the address: its bucket may hold several (--address-placements).
      // Pushed, not copied: a copy per row was quadratic in an address's rows (a shared address
      // with thousands in the window).
      if (addr === '') continue;
      const claims = byAddr.get(addr);
      if (claims) claims.push(next);
      else byAddr.set(addr, [next]);
    }
    return { byWho, byAddr };
  }

  /**
   * Who placed, from which address key, when, and the `next_at` stored, of every placement since
   * `since`, in seq order: a standby seeds its RecentPlacements from it (placement/recent-placements.ts).
   */
  recentClaims(since: number): Iterable<[string, string, number, number]> {
    const rows = this.db.prepare('SELECT who, addr, at, next_at FROM placements WHERE seq >= ? ORDER BY seq').raw();
    return rows.iterate(this.firstSeqAtOrAfter(since)) as Iterable<[string, string, number, number]>;
  }

  /**
   * Times of the placements since `since`, by address key, oldest first: the charges model replays
   * them into the address buckets at startup (placement/charges.ts says why not from `next_at`).
   */
  placementTimesByAddress(since: number): Map<string, number[]> {
    const byAddr = new Map<string, number[]>();
    const rows = this.db.prepare('SELECT addr, at FROM placements WHERE seq >= ? AND at >= ? ORDER BY seq').raw();
    for (const [addr, at] of rows.iterate(this.firstSeqAtOrAfter(since), since) as Iterable<[string, number]>) {
      if (addr === '') continue;
      const times = byAddr.get(addr);
      if (times) times.push(at);
      else byAddr.set(addr, [at]);
    }
    return byAddr;
  }

  /** The placement with this seq (the head of a pixel's history is Canvas.lastSeq). */
  placement(seq: number): PixelInfo | undefined {
    if (seq <= 0) return undefined;
    return this.db.prepare('SELECT color, who, at, seq FROM placements WHERE seq = ?').get(seq) as
      | PixelInfo
      | undefined;
  }

  /**
   * For a rollback of `who` since `since`: every pixel they placed in that window, with the colour it
   * has once their placements there are removed from its history (0, the blank colour, if none).
   * Walks each pixel's history list back from its latest placement (`headSeq`).
   */
  rollbackTargets(
    who: string,
    since: number,
    headSeq: (x: number, y: number) => number,
  ): Array<{ x: number; y: number; color: number }> {
    const pixels = new Map<string, { x: number; y: number }>();
    const touched = this.db
      .prepare('SELECT x, y FROM placements WHERE seq >= ? AND seq <= ? AND who = ? AND at >= ?')
      .raw();
    // Today's coordinates: a row from before a left/top growth moved since.
    for (const st of this.stretches(this.firstSeqAtOrAfter(since), Number.MAX_SAFE_INTEGER)) {
      for (const [x, y] of touched.iterate(st.lo, st.hi, who, since) as Iterable<[number, number]>) {
        const here = { x: x + st.left, y: y + st.top };
        pixels.set(`${here.x},${here.y}`, here);
      }
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

  /** Every placement with a seq of at least `fromSeq`, in seq order. Raw rows, no object per row. */
  eachPlacement(fromSeq: number, visit: (seq: number, who: string, color: number, at: number) => void): void {
    const rows = this.db.prepare('SELECT seq, who, color, at FROM placements WHERE seq >= ? ORDER BY seq').raw();
    for (const [seq, who, color, at] of rows.iterate(fromSeq) as Iterable<[number, string, number, number]>)
      visit(seq, who, color, at);
  }
}
