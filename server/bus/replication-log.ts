/**
 * The replicated log: the leader appends each committed batch (placements with their seqs, and the
 * small-table changes stored since the last entry, store/change-log.ts) to a Redis Stream, `P:log`;
 * standbys read it and apply the same rows to their own SQLite through the same store code. No
 * second database engine and no consensus beyond the lease: the append is a Lua script that runs
 * only while the lease key holds this leader's value (the fencing token checked where it matters)
 * and only when the batch starts right after `P:log:seq`, so the log has no gap and no stale writer
 * can add to it.
 *
 * An ack waits for the append's reply when a standby is around (bus/lease.ts `alone`): it then means
 * "committed to the leader's SQLite and in the log every standby reads". Alone, a writer acks after
 * its commit as before and appends behind it. A failed append (Redis down, the seq check) marks the
 * log broken: the committer refuses new placements (`unavailable`, nothing stored) while the leader
 * appends what its database holds past `P:log:seq`; then it acknowledges again. The stream is trimmed
 * with MAXLEN ~ --log-max-len entries; a standby further behind than that cannot catch up from it.
 */
import type { Canvas } from '../canvas/canvas.ts';
import type { Logger } from '../ops/log.ts';
import type { ChangeLog } from '../store/change-log.ts';
import type { SizeRow } from '../store/size-store.ts';
import type { PlacementRow, Store } from '../store/store.ts';
import { decodeLogEntry, encodeLogEntry, type LogEntry } from './bus-messages.ts';
import type { RedisLink } from './redis-link.ts';

export interface LogKeys {
  lease: string;
  log: string;
  logSeq: string;
}

export function logKeys(prefix: string): LogKeys {
  return { lease: `${prefix}:lease`, log: `${prefix}:log`, logSeq: `${prefix}:log:seq` };
}

/** KEYS lease, log, logSeq; ARGV lease value, from, to, maxLen, entry. 1 appended, -1 not the holder, -2 not next. */
const APPEND = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local last = redis.call('GET', KEYS[3])
if last and tonumber(ARGV[2]) ~= tonumber(last) + 1 then return -2 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'b', ARGV[5])
redis.call('SET', KEYS[3], ARGV[3])
return 1`;

/** How often changes to the small tables (a ban, a name) are appended when no placement carries them. */
const CHANGES_EVERY_MS = 100;
/** Rows per entry when appending what the database holds past the log (after a failure). */
const REPAIR_ROWS = 1000;

export interface AppenderOptions {
  link: RedisLink;
  keys: LogKeys;
  /** The lease value (bus/lease.ts) and epoch this leader appends under. */
  leaseValue: string;
  epoch: number;
  maxLen: number;
  store: Store;
  changes: ChangeLog;
  /** The canvas's seq (the last committed). */
  seq: () => number;
  /** No standby around: acks need not wait for the append. */
  alone: () => boolean;
  log: Logger;
}

export class LogAppender {
  /** An append failed: until the log has everything the database holds, nothing more is acknowledged. */
  broken = false;
  /** The last seq sent in an append (confirmed or in flight). */
  private sentTo: number;
  /** The last change id read into an append, and the last confirmed. */
  private readChange = 0;
  private confirmedChange = 0;
  /** The last seq the log is known to hold (an append replied, or P:log:seq read by the repair). */
  private confirmedSeq = 0;
  /** `synced` calls waiting for the log to reach a seq and a change id. */
  private waiters: Array<{ seq: number; change: number; done: (ok: boolean) => void }> = [];
  private readonly timer: NodeJS.Timeout;
  private repairing = false;
  private closed = false;
  /** Seconds from sending an append to its reply, for /metrics. */
  lastAppendMs = 0;

  constructor(private readonly opts: AppenderOptions) {
    this.sentTo = opts.seq();
    this.timer = setInterval(() => this.tick(), CHANGES_EVERY_MS);
    this.timer.unref();
    // Whatever the database holds past the log (stored while alone, or before a failure) goes first.
    this.broken = true;
    this.repair();
  }

  /** Placements must be refused now: the log is broken and a standby relies on it. */
  get refusing(): boolean {
    return this.broken && !this.opts.alone();
  }

  /**
   * Appends a committed batch, or a resize (an entry of its own at its seq); resolves true once the
   * log has it (or at once when alone).
   */
  append(rows: readonly PlacementRow[], resize?: SizeRow): Promise<boolean> {
    if (this.broken) {
      // Alone, the ack does not wait: the repair appends these rows from the database later.
      return Promise.resolve(this.opts.alone());
    }
    const from = resize?.seq ?? rows[0]?.seq ?? this.sentTo + 1;
    const to = resize ? resize.seq : rows.length > 0 ? (rows[rows.length - 1] as PlacementRow).seq : from - 1;
    const sent = this.send(from, to, rows, resize);
    if (this.opts.alone()) return Promise.resolve(true);
    return sent;
  }

  /**
   * Resolves true once the log holds every placement committed and every small-table change made
   * so far (a ban, an audit entry, a bot, a name), at once when alone: a moderation answer waits for
   * it as a placement's ack waits for its append, so what a moderator was told is done survives a
   * failover. False when the log is broken or an append fails first: the change is stored here, but
   * the next leader may not have it. Changes not yet read go out in an entry of their own now,
   * not at the next CHANGES_EVERY_MS tick.
   */
  synced(): Promise<boolean> {
    if (this.opts.alone()) return Promise.resolve(true);
    if (this.broken || this.closed) return Promise.resolve(false);
    const seq = this.opts.seq();
    const change = this.opts.changes.newest();
    if (this.confirmedSeq >= seq && this.confirmedChange >= change) return Promise.resolve(true);
    return new Promise((done) => {
      this.waiters.push({ seq, change, done });
      // Rows are in an append already (the committer's); changes may wait for the tick.
      if (change > this.readChange) void this.send(this.sentTo + 1, this.sentTo, []);
    });
  }

  /** Answers the waiters the log now covers (all of them, with `ok` false, on a failure). */
  private settle(failed: boolean): void {
    if (this.waiters.length === 0) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) {
      if (failed) w.done(false);
      else if (this.confirmedSeq >= w.seq && this.confirmedChange >= w.change) w.done(true);
      else this.waiters.push(w);
    }
  }

  private send(from: number, to: number, rows: readonly PlacementRow[], resize?: SizeRow): Promise<boolean> {
    const { changes, last } = this.readChanges();
    this.sentTo = to;
    const entry: LogEntry = { epoch: this.opts.epoch, from, to, rows: [...rows], changes };
    if (resize) entry.resize = resize;
    const { link, keys } = this.opts;
    const started = performance.now();
    return link.redis
      .eval(
        APPEND,
        3,
        keys.lease,
        keys.log,
        keys.logSeq,
        this.opts.leaseValue,
        from,
        to,
        this.opts.maxLen,
        encodeLogEntry(entry),
      )
      .then(
        (reply) => {
          this.lastAppendMs = performance.now() - started;
          if (Number(reply) === 1) {
            this.confirmedChange = Math.max(this.confirmedChange, last);
            this.confirmedSeq = Math.max(this.confirmedSeq, to);
            this.settle(false);
            return true;
          }
          this.fail(
            Number(reply) === -1 ? 'the lease is no longer ours' : 'the log is not at the seq before this batch',
          );
          return false;
        },
        (err: unknown) => {
          this.fail((err as Error).message);
          return false;
        },
      );
  }

  private readChanges(): { changes: LogEntry['changes']; last: number } {
    const { changes, last } = this.opts.changes.read(this.readChange);
    this.readChange = last;
    return { changes, last };
  }

  private fail(why: string): void {
    if (this.broken || this.closed) return;
    this.broken = true;
    this.settle(true);
    this.opts.log.error(
      { why },
      'replicated log append failed: acknowledging nothing until the log has every stored row',
    );
    this.readChange = this.confirmedChange;
    setTimeout(() => this.repair(), 200).unref();
  }

  /** Changes with no placement to carry them (a ban, a name) go out on their own. */
  private tick(): void {
    if (this.broken || this.closed || !this.opts.link.up) return;
    if (this.opts.changes.newest() > this.readChange) void this.send(this.sentTo + 1, this.sentTo, []);
    if (this.confirmedChange > 0) this.opts.changes.forget(this.confirmedChange);
  }

  /** Appends what the database holds past `P:log:seq`, then acknowledges again. */
  private repair(): void {
    if (this.repairing || this.closed) return;
    this.repairing = true;
    this.fill()
      .then((done) => {
        if (done) {
          this.broken = false;
          this.opts.log.info({ seq: this.sentTo }, 'replicated log holds every stored row');
        } else setTimeout(() => this.repair(), 500).unref();
      })
      .catch((err: unknown) => {
        this.opts.log.debug({ err }, 'log repair failed; retrying');
        setTimeout(() => this.repair(), 500).unref();
      })
      .finally(() => {
        this.repairing = false;
      });
  }

  private async fill(): Promise<boolean> {
    const { link, keys, store } = this.opts;
    if (!link.up) return false;
    const stored = await link.redis.get(keys.logSeq);
    let at = stored === null ? this.opts.seq() : Number(stored);
    if (at > this.opts.seq()) {
      this.opts.log.error(
        { log: at, seq: this.opts.seq() },
        'the replicated log is ahead of this database: leading from here (a rollback); standbys past it must be restarted on a copy of this database',
      );
      await link.redis.set(keys.logSeq, this.opts.seq());
      at = this.opts.seq();
    }
    this.sentTo = at;
    this.confirmedSeq = at;
    while (at < this.opts.seq()) {
      // Rows up to the next resize, then the resize as an entry of its own: the log keeps seq order.
      const resize = store.sizes.after(at)[0];
      const rows = store.db
        .prepare(
          'SELECT seq, x, y, color, who, addr, at, next_at AS nextAt, prev_seq AS prevSeq FROM placements WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?',
        )
        .all(at, resize?.seq ?? Number.MAX_SAFE_INTEGER, REPAIR_ROWS) as PlacementRow[];
      if (rows.length === 0) {
        if (!resize) break;
        if (!(await this.send(resize.seq, resize.seq, [], resize))) return false;
        at = resize.seq;
        continue;
      }
      const last = (rows[rows.length - 1] as PlacementRow).seq;
      if (!(await this.send(at + 1, last, rows))) return false;
      at = last;
    }
    // Changes not yet confirmed go with an entry of their own.
    if (this.opts.changes.newest() > this.readChange && !(await this.send(at + 1, at, []))) return false;
    return true;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.settle(true);
  }
}

/** A standby's copy of the grid, kept as the leader's canvas would be, and handed to it on taking over. */
export interface FollowedGrid {
  /** Its size, pixels and seq (Store.load, not listing tick changes); snapshots are its chunks. */
  canvas: Canvas;
  /** Placements after the latest snapshot (the committer of the leader this becomes counts on from it). */
  replayed: number;
}

/** What a follower tells its writer (writer.ts keeps the stats from it). */
export interface FollowerEvents {
  /** The rows of an applied entry, in seq order. */
  applied?(rows: readonly PlacementRow[]): void;
  /** Rows were dropped from the database (and the grid): whatever was counted from them is wrong. */
  truncated?(): void;
}

/**
 * A standby's side: reads the log from its start and applies every entry after its own seq to its
 * database, in one transaction per entry (placements through Store.commit, table changes through
 * ChangeLog.apply); keeps the grid to write snapshots as the leader would.
 */
export class LogFollower {
  seq: number;
  /** The log starts after this standby's seq (trimmed, or lost): it cannot catch up from it. */
  gap = false;
  private lastId = '0-0';
  /** `grid.replayed` at which the next snapshot is written. */
  private snapshotAt: number;

  constructor(
    private readonly link: RedisLink,
    private readonly keys: LogKeys,
    private readonly store: Store,
    private readonly changes: ChangeLog,
    readonly grid: FollowedGrid,
    private readonly snapshotEvery: number,
    private readonly log: Logger,
    private readonly events: FollowerEvents = {},
  ) {
    this.seq = grid.canvas.seq;
    this.snapshotAt = snapshotEvery;
  }

  /** The last seq in the log (P:log:seq); undefined when there is no log. */
  async logSeq(): Promise<number | undefined> {
    const v = await this.link.redis.get(this.keys.logSeq);
    return v === null ? undefined : Number(v);
  }

  private holds(r: PlacementRow): boolean {
    const mine = this.store.db.prepare('SELECT x, y, color, who, at FROM placements WHERE seq = ?').get(r.seq) as
      | { x: number; y: number; color: number; who: string; at: number }
      | undefined;
    return (
      mine !== undefined &&
      mine.x === r.x &&
      mine.y === r.y &&
      mine.color === r.color &&
      mine.who === r.who &&
      mine.at === r.at
    );
  }

  /**
   * Drops this database's placements after `seq` (stored but never in the log, so never acknowledged
   * while a standby relied on the log) and rebuilds the grid from what is left.
   */
  truncate(seq: number, why: string): void {
    const dropped = this.store.truncateAfter(seq);
    if (dropped === 0) return;
    this.log.warn({ dropped, after: seq, why }, 'dropped placements this writer stored but the log does not hold');
    const loaded = this.store.load(Number.MAX_SAFE_INTEGER);
    this.grid.canvas = loaded.canvas;
    this.grid.replayed = loaded.replayed;
    this.seq = loaded.seq;
    this.events.truncated?.();
  }

  /** Applies every entry the log has now; true when this standby has read it to its end. */
  async catchUp(): Promise<boolean> {
    for (;;) {
      const reply = (await this.link.redis.xreadBuffer('COUNT', 200, 'STREAMS', this.keys.log, this.lastId)) as Array<
        [Buffer, Array<[Buffer, Buffer[]]>]
      > | null;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) return !this.gap;
      for (const [id, fields] of entries) {
        this.lastId = id.toString();
        const bytes = fields[1];
        const entry = bytes ? decodeLogEntry(bytes) : undefined;
        if (!entry) {
          this.log.warn({ id: this.lastId }, 'skipped a malformed replicated log entry');
          continue;
        }
        this.apply(entry);
      }
    }
  }

  private apply(entry: LogEntry): void {
    if (entry.from > this.seq + 1) {
      if (!this.gap)
        this.log.error(
          { seq: this.seq, from: entry.from },
          'the replicated log starts after this database: cannot catch up from it',
        );
      this.gap = true;
      return;
    }
    this.gap = false;
    // Rows this database already holds must be the log's: a writer killed with a batch stored but
    // never appended (never acknowledged) holds other rows at seqs the next leader reused.
    const differs = entry.rows.find((r) => r.seq <= this.seq && !this.holds(r));
    if (differs) this.truncate(differs.seq - 1, 'it differs from the log there');
    // Likewise a resize the log has at a seq where this database holds a placement.
    const z = entry.resize;
    if (z && z.seq <= this.seq && !this.store.sizes.has(z.seq)) this.truncate(z.seq - 1, 'it has no resize there');
    const rows = entry.rows.filter((r) => r.seq > this.seq);
    const resize = entry.resize && entry.resize.seq > this.seq ? entry.resize : undefined;
    this.store.db.transaction(() => {
      if (rows.length > 0) this.store.commit(rows);
      if (resize) this.store.sizes.insert(resize);
      this.changes.apply(entry.changes);
      // Applying fired the capture triggers: what came from the log is not this writer's to ship.
      this.changes.forget(this.changes.newest());
    })();
    const { canvas } = this.grid;
    if (resize) {
      canvas.resize(resize, resize.seq);
      this.seq = resize.seq;
    }
    for (const r of rows) {
      canvas.apply(r.x, r.y, r.color, r.seq);
      this.seq = r.seq;
    }
    canvas.seq = this.seq;
    if (rows.length > 0) this.events.applied?.(rows);
    this.grid.replayed += rows.length;
    if (this.grid.replayed >= this.snapshotAt) {
      // A failed snapshot is tried again after another snapshotEvery rows, not after every entry.
      this.snapshotAt = this.grid.replayed + this.snapshotEvery;
      const chunks = canvas.takeUnsaved();
      try {
        this.store.writeSnapshot(chunks, this.seq, canvas.width, canvas.height);
        this.grid.replayed = 0;
        this.snapshotAt = this.snapshotEvery;
      } catch (err) {
        canvas.unsavedAgain(chunks);
        this.log.error({ err }, 'standby snapshot failed: the start after taking over replays more');
      }
    }
  }
}
