/**
 * Placement statistics, kept in the writer's memory and fed from committed batches only (the
 * committer's `stored` event, after the SQLite transaction): totals, per colour, the last hour, the
 * identities active in the last five minutes, top placers all-time and over the last hour, and per
 * identity {placed, first, last, rank}. Restored at startup (restore.ts) from a stored checkpoint of
 * the all-time figures and the placements after it, or else by a scan of the whole history.
 *
 * What counts: placements by players. Rows written by moderation (`mod:rollback`, `mod:wipe`) are
 * not players and are counted apart (`modChanges`). Counts count acts, not pixels on the canvas: a
 * rollback or a wipe paints over a player's pixels with new `mod:*` rows and leaves the player's
 * counts as they were, exactly as the placements table keeps the player's rows. So every figure here
 * is a plain recount of that table (stats.test.ts checks it), and counts only ever grow, which is
 * what makes the top list and ranks O(1) per placement below.
 *
 * Windows are whole minutes of the commit time: "the last hour" is the current minute and the 59
 * before it, "the last five minutes" the current one and the 4 before it.
 *
 * Cost per placement: a few Map and array updates, no allocation once an identity is known. The
 * summary is built at most once a second, only when asked; the top-hour list is its one O(n) part
 * (n: identities that placed in the last hour).
 */

export interface TopEntry {
  id: string;
  placed: number;
  /** The display name the identity chose (identity/display-names.ts); absent: none. */
  name?: string;
  /** The sanctioned bot's name when the placer is a bot (placement/bots.ts); absent: a player. */
  bot?: string;
}

/**
 * How the stats show an identity besides its id: the name it chose, or the bot's. Looked up when a
 * summary is built (once a second at most), so a name set or cleared shows within a second.
 */
export interface Label {
  name?: string;
  bot?: string;
}

/** `GET /api/stats`. */
export interface StatsSummary {
  /** Placements by players, all time. */
  placements: number;
  /** Placements by players in the last hour (whole minutes). */
  lastHour: number;
  /** Placements by players per palette index. */
  perColor: number[];
  /** Identities that placed in the last five minutes (whole minutes). */
  active5m: number;
  /** Top placers all time: placed desc, then id. */
  top: TopEntry[];
  /** Top placers over the last hour, same order. */
  topHour: TopEntry[];
  /** Pixels changed by moderation (rollback and wipe rows), not counted above. */
  modChanges: number;
  /** When these figures were computed (Unix ms). */
  at: number;
}

/** `GET /api/stats/me`: one identity; `rank` is 1 + the identities with more placements (null: none yet). */
export interface IdentityStats {
  id: string;
  placed: number;
  first: number | null;
  last: number | null;
  rank: number | null;
  name?: string;
  bot?: string;
}

/** What a committed row tells the stats (store.ts PlacementRow has these fields). */
export interface CountedRow {
  seq: number;
  who: string;
  color: number;
  at: number;
}

/**
 * The all-time part of the stats as of `seq`, for a checkpoint (store/stats-store.ts): what a restart
 * would otherwise rebuild by scanning every placement. The windows are not in it: the last hour's
 * rows are read again at startup (a seq range, placement-log.ts firstSeqAtOrAfter).
 */
export interface StatsCheckpoint {
  seq: number;
  placements: number;
  modChanges: number;
  perColor: number[];
  /** Per identity, as parallel arrays (one array each, not one object each: 1 M identities encode fast). */
  who: string[];
  placed: number[];
  first: number[];
  last: number[];
}

export interface StatsOptions {
  paletteSize: number;
  /** Length of the top lists. */
  topSize?: number;
  /** Clock (tests pass their own). */
  now?: () => number;
  /** Names and bot marks for the top lists and `of` (server.ts: display names and bots). */
  label?: (id: string) => Label | undefined;
}

const MINUTE_MS = 60_000;
const HOUR_MINUTES = 60;
const ACTIVE_MINUTES = 5;
/** A summary is rebuilt at most this often, however many ask (the answer says max-age=1 too). */
const SUMMARY_MS = 1_000;
const DEFAULT_TOP = 10;

interface PerIdentity {
  placed: number;
  first: number;
  last: number;
}

/** One minute of the last hour. */
interface MinuteBucket {
  /** Minute number (Unix ms / 60,000); -1: empty. */
  minute: number;
  placements: number;
  /** Placements per identity in this minute (subtracted from the hour's counts when the minute leaves). */
  byWho: Map<string, number>;
  /** Identities whose latest placement falls in this minute: active5m sums five of these. */
  latestOf: number;
}

const isModeration = (who: string): boolean => who.startsWith('mod:');
const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS);

/** Order of every top list: more placements first, then the id, so ties have one order. */
function before(a: TopEntry, b: TopEntry): boolean {
  return a.placed > b.placed || (a.placed === b.placed && a.id < b.id);
}

export class Stats {
  private total = 0;
  private modChanges = 0;
  private readonly perColor: number[];
  private readonly byId = new Map<string, PerIdentity>();
  /**
   * atLeast[c]: identities with at least c placements. A placement moves one identity from c-1 to c,
   * which changes only atLeast[c]; rank(p) = 1 + atLeast[p + 1]. O(1) both ways, no sorting.
   */
  private atLeast: number[] = [0];
  /** Top all-time, kept exact per placement: counts only grow, so only the placer can enter or move. */
  private top: TopEntry[] = [];
  private readonly ring: MinuteBucket[];
  private readonly hourByWho = new Map<string, number>();
  /** Latest minute the ring was advanced to. */
  private head = -1;
  private readonly topSize: number;
  private readonly now: () => number;
  private label: (id: string) => Label | undefined;
  private summaryCache: StatsSummary | undefined;

  constructor(opts: StatsOptions) {
    this.perColor = new Array<number>(opts.paletteSize).fill(0);
    this.topSize = opts.topSize ?? DEFAULT_TOP;
    this.now = opts.now ?? Date.now;
    this.label = opts.label ?? (() => undefined);
    this.ring = Array.from({ length: HOUR_MINUTES }, () => ({
      minute: -1,
      placements: 0,
      byWho: new Map<string, number>(),
      latestOf: 0,
    }));
  }

  /**
   * Names and bot marks from now on: a standby's stats (writer.ts) are counted before the names and
   * bots of the leader it becomes exist.
   */
  labelWith(label: (id: string) => Label | undefined): void {
    this.label = label;
    this.summaryCache = undefined;
  }

  /** Counts committed rows, in seq order (the committer after each durable batch). */
  add(rows: Iterable<CountedRow>): void {
    for (const r of rows) {
      this.seq = r.seq;
      this.addOne(r.who, r.color, r.at);
    }
  }

  /** Seq of the last row counted: a checkpoint holds exactly the rows up to it. */
  seq = 0;

  addOne(who: string, color: number, at: number): void {
    const previous = this.countAllTime(who, color, at);
    if (previous !== false) this.countWindow(who, at, previous);
  }

  /**
   * Startup, part 1: a row after the checkpoint, all-time figures only (the windows are rebuilt by
   * `addWindowOnly` over the last hour's rows, then `settleWindows`).
   */
  addAllTimeOnly(seq: number, who: string, color: number, at: number): void {
    this.seq = seq;
    this.countAllTime(who, color, at);
  }

  /** Startup, part 2: a row of the last hour, window figures only. */
  addWindowOnly(who: string, at: number): void {
    if (!isModeration(who)) this.countWindow(who, at, null);
  }

  /** Startup, part 3: each identity counted as active in the minute of its latest placement. */
  settleWindows(): void {
    for (const b of this.ring) b.latestOf = 0;
    for (const seen of this.byId.values()) {
      const minute = minuteOf(seen.last);
      const b = this.ring[minute % HOUR_MINUTES] as MinuteBucket;
      if (b.minute === minute) b.latestOf++;
    }
  }

  /** The all-time figures as of `seq`, to store. */
  checkpoint(): StatsCheckpoint {
    const n = this.byId.size;
    const c: StatsCheckpoint = {
      seq: this.seq,
      placements: this.total,
      modChanges: this.modChanges,
      perColor: [...this.perColor],
      who: new Array<string>(n),
      placed: new Array<number>(n),
      first: new Array<number>(n),
      last: new Array<number>(n),
    };
    let i = 0;
    for (const [who, e] of this.byId) {
      c.who[i] = who;
      c.placed[i] = e.placed;
      c.first[i] = e.first;
      c.last[i] = e.last;
      i++;
    }
    return c;
  }

  /** Startup, part 0: the all-time figures of a checkpoint, on an empty Stats. */
  restore(c: StatsCheckpoint): void {
    this.seq = c.seq;
    this.total = c.placements;
    this.modChanges = c.modChanges;
    c.perColor.forEach((n, i) => {
      while (i >= this.perColor.length) this.perColor.push(0);
      this.perColor[i] = n;
    });
    // Ranks and the top list from the records: a count per placed value, then suffix sums.
    const exactly: number[] = [0];
    c.who.forEach((who, i) => {
      const placed = c.placed[i] as number;
      this.byId.set(who, { placed, first: c.first[i] as number, last: c.last[i] as number });
      while (placed >= exactly.length) exactly.push(0);
      exactly[placed] = (exactly[placed] ?? 0) + 1;
    });
    this.atLeast = new Array<number>(exactly.length).fill(0);
    for (let p = exactly.length - 1, sum = 0; p >= 1; p--) {
      sum += exactly[p] as number;
      this.atLeast[p] = sum;
    }
    this.top = selectTop(
      (function* (byId) {
        for (const [id, e] of byId) yield [id, e.placed] as const;
      })(this.byId),
      this.topSize,
    );
  }

  /** Total, per colour, per identity, rank and top list; false for a moderation row (counted apart). */
  private countAllTime(who: string, color: number, at: number): number | null | false {
    if (isModeration(who)) {
      this.modChanges++;
      return false;
    }
    this.total++;
    while (color >= this.perColor.length) this.perColor.push(0);
    this.perColor[color] = (this.perColor[color] ?? 0) + 1;
    const seen = this.byId.get(who);
    const previous = seen ? seen.last : null;
    let placed: number;
    if (seen) {
      placed = ++seen.placed;
      // `at` grows with seq; max() keeps `last` right if the wall clock stepped back between batches.
      seen.last = Math.max(seen.last, at);
    } else {
      placed = 1;
      this.byId.set(who, { placed, first: at, last: at });
    }
    if (placed === this.atLeast.length) this.atLeast.push(0);
    this.atLeast[placed] = (this.atLeast[placed] ?? 0) + 1;
    this.promote(who, placed);
    return previous;
  }

  /**
   * The minute ring: placements and per-identity counts of the last hour, and (unless `previous` is
   * null at startup, settled later) the identity's move to the minute of its latest placement.
   */
  private countWindow(who: string, at: number, previous: number | null): void {
    const minute = minuteOf(at);
    if (minute > this.head) this.advance(minute);
    if (minute <= this.head - HOUR_MINUTES) return; // older than the ring: all-time figures only
    const bucket = this.bucket(minute);
    bucket.placements++;
    bucket.byWho.set(who, (bucket.byWho.get(who) ?? 0) + 1);
    this.hourByWho.set(who, (this.hourByWho.get(who) ?? 0) + 1);
    const previousMinute = previous === null ? undefined : minuteOf(previous);
    if (previousMinute === undefined || minute > previousMinute) {
      if (previousMinute !== undefined) {
        const old = this.ring[previousMinute % HOUR_MINUTES] as MinuteBucket;
        if (old.minute === previousMinute) old.latestOf--;
      }
      bucket.latestOf++;
    }
  }

  /** The summary as of now, rebuilt at most once a second: callers may key caches on the object. */
  summary(): StatsSummary {
    const now = this.now();
    const cached = this.summaryCache;
    if (cached && now - cached.at < SUMMARY_MS && now >= cached.at) return cached;
    const minute = minuteOf(now);
    if (minute > this.head) this.advance(minute);
    let lastHour = 0;
    let active5m = 0;
    for (const b of this.ring) {
      if (b.minute < 0 || b.minute > minute) continue;
      lastHour += b.placements;
      if (b.minute > minute - ACTIVE_MINUTES) active5m += b.latestOf;
    }
    const summary: StatsSummary = {
      placements: this.total,
      lastHour,
      perColor: [...this.perColor],
      active5m,
      top: this.top.map((e) => this.labelled(e)),
      topHour: this.topOfHour().map((e) => this.labelled(e)),
      modChanges: this.modChanges,
      at: now,
    };
    this.summaryCache = summary;
    return summary;
  }

  /** One identity's figures; an identity that never placed has 0 and nulls. */
  of(id: string): IdentityStats {
    const seen = this.byId.get(id);
    const label = this.label(id);
    if (!seen) return { id, placed: 0, first: null, last: null, rank: null, ...label };
    return {
      id,
      placed: seen.placed,
      first: seen.first,
      last: seen.last,
      rank: 1 + (this.atLeast[seen.placed + 1] ?? 0),
      ...label,
    };
  }

  /** A copy of a top entry with its label (the list's own entries stay id and count). */
  private labelled(e: TopEntry): TopEntry {
    const label = this.label(e.id);
    return label ? { id: e.id, placed: e.placed, ...label } : { id: e.id, placed: e.placed };
  }

  /** Identities that ever placed (memory: one small record each). */
  get identities(): number {
    return this.byId.size;
  }

  /** `who` now has `placed`: it stays, moves up, or enters the top list (displacing the last). */
  private promote(who: string, placed: number): void {
    const top = this.top;
    let i = top.findIndex((e) => e.id === who);
    if (i < 0) {
      const entry = { id: who, placed };
      const last = top[top.length - 1];
      if (top.length >= this.topSize && last && !before(entry, last)) return;
      if (top.length >= this.topSize) top.pop();
      top.push(entry);
      i = top.length - 1;
    } else (top[i] as TopEntry).placed = placed;
    // One insertion step: only this entry's key grew.
    while (i > 0 && before(top[i] as TopEntry, top[i - 1] as TopEntry)) {
      [top[i - 1], top[i]] = [top[i] as TopEntry, top[i - 1] as TopEntry];
      i--;
    }
  }

  /** The bucket for `minute` (within the ring), emptied first if it held an older minute. */
  private bucket(minute: number): MinuteBucket {
    const b = this.ring[minute % HOUR_MINUTES] as MinuteBucket;
    if (b.minute !== minute) this.expire(b, minute);
    return b;
  }

  /** Moves the ring's head to `minute`, expiring every bucket that fell out of the hour. */
  private advance(minute: number): void {
    this.head = minute;
    for (const b of this.ring) if (b.minute >= 0 && b.minute <= minute - HOUR_MINUTES) this.expire(b, -1);
  }

  private expire(b: MinuteBucket, minute: number): void {
    for (const [who, n] of b.byWho) {
      const left = (this.hourByWho.get(who) ?? 0) - n;
      if (left > 0) this.hourByWho.set(who, left);
      else this.hourByWho.delete(who);
    }
    b.byWho.clear();
    b.placements = 0;
    b.latestOf = 0;
    b.minute = minute;
  }

  /** O(identities active in the hour), once per summary. */
  private topOfHour(): TopEntry[] {
    return selectTop(this.hourByWho, this.topSize);
  }
}

/** The first `size` of `entries` in top-list order: a bounded insertion, no full sort. */
function selectTop(entries: Iterable<readonly [string, number]>, size: number): TopEntry[] {
  const top: TopEntry[] = [];
  for (const [id, placed] of entries) {
    const entry = { id, placed };
    const last = top[top.length - 1];
    if (top.length >= size && last && !before(entry, last)) continue;
    if (top.length >= size) top.pop();
    let i = top.length;
    top.push(entry);
    while (i > 0 && before(entry, top[i - 1] as TopEntry)) {
      top[i] = top[i - 1] as TopEntry;
      i--;
    }
    top[i] = entry;
  }
  return top;
}
