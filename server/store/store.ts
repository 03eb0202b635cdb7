/**
 * Durable storage in SQLite (better-sqlite3, WAL): the placement history, grid snapshots and canvas
 * metadata. Startup state = latest snapshot + replay of later placements.
 */
import Database from 'better-sqlite3';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Canvas, type ChunkImage } from '../canvas/canvas.ts';
import { SizeHistory } from '../canvas/canvas-size.ts';
import { OperatorError } from '../ops/operator-error.ts';
import { SizeStore } from './size-store.ts';

/** A validated placement on its way to the store: what the placer asked for and who asked. */
export interface PlacementRequest {
  x: number;
  y: number;
  color: number;
  /** Identity id of the placer, or `mod:<action>` for moderation changes. */
  who: string;
  /** Rate-limit key of the placer's address ('' for moderation). */
  addr: string;
  /** Unix ms from which this identity and address may place again (persisted so cooldowns survive restarts). */
  nextAt: number;
}

/** A placement as stored: the request plus what the commit assigns. */
export interface PlacementRow extends PlacementRequest {
  seq: number;
  /** Unix ms. */
  at: number;
  /** Seq of the previous placement at this pixel (0: none): each pixel's history is a linked list. */
  prevSeq: number;
}

export interface StoreOptions {
  path: string;
  width: number;
  height: number;
  paletteSize: number;
  synchronous: 'NORMAL' | 'FULL';
  busyTimeoutMs: number;
}

export interface LoadedState {
  /** The grid and per-pixel last seq, in chunks, at the size of the last resize (size-store.ts); not
   * yet listing changes for ticks (`track()`). */
  canvas: Canvas;
  seq: number;
  /** Placements replayed on top of the snapshot. */
  replayed: number;
}

/** `meta` key: the seq at which the `chunks` table holds the canvas (absent: no chunk snapshot yet). */
const CHUNKS_SEQ = 'chunks_seq';
/** `meta` key: the size (`WxH`) the `chunks` rows are laid out for (absent: older rows, of the first size). */
const CHUNKS_SIZE = 'chunks_size';

export class Store {
  private id: string;
  /** Shared with the sibling stores (moderation-store.ts) that keep their own tables in this file. */
  readonly db: Database.Database;
  /** The resizes, each at its own seq (canvas/canvas-size.ts). */
  readonly sizes: SizeStore;
  private readonly insertPlacement: Database.Statement<
    [number, number, number, number, string, string, number, number, number]
  >;
  private readonly commitRows: (rows: readonly PlacementRow[]) => void;

  private constructor(db: Database.Database, canvasId: string) {
    this.db = db;
    this.id = canvasId;
    this.sizes = new SizeStore(db);
    this.insertPlacement = db.prepare(
      'INSERT INTO placements (seq, x, y, color, who, addr, at, next_at, prev_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    // One transaction per batch: this is the group commit that makes 50k placements/s affordable.
    this.commitRows = db.transaction((rows: readonly PlacementRow[]) => {
      for (const r of rows)
        this.insertPlacement.run(r.seq, r.x, r.y, r.color, r.who, r.addr, r.at, r.nextAt, r.prevSeq);
    });
  }

  static open(opts: StoreOptions): Store {
    let db: Database.Database;
    try {
      if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
      db = new Database(opts.path, { timeout: opts.busyTimeoutMs });
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.synchronous}`);
      db.exec(`
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS placements (
          seq INTEGER PRIMARY KEY, x INTEGER NOT NULL, y INTEGER NOT NULL, color INTEGER NOT NULL,
          who TEXT NOT NULL, at INTEGER NOT NULL, addr TEXT NOT NULL DEFAULT '',
          next_at INTEGER NOT NULL DEFAULT 0, prev_seq INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS snapshots (
          seq INTEGER PRIMARY KEY, width INTEGER NOT NULL, height INTEGER NOT NULL, grid BLOB NOT NULL,
          at INTEGER NOT NULL, last_seq BLOB);
        CREATE TABLE IF NOT EXISTS chunks (
          cx INTEGER NOT NULL, cy INTEGER NOT NULL, cells BLOB NOT NULL, seq INTEGER NOT NULL,
          PRIMARY KEY (cx, cy)) WITHOUT ROWID;
      `);
      Store.migrate(db);
    } catch (err) {
      throw new OperatorError(`cannot open database "${opts.path}": ${(err as Error).message}`);
    }
    const canvasId = Store.checkMeta(db, opts);
    return new Store(db, canvasId);
  }

  /**
   * Brings databases created by older versions up to the current schema. The placements table has
   * no secondary index on purpose: random-order index inserts made commits 12x slower (24k vs 292k
   * rows/s with 400k rows, measured with the store alone). Pixel history is a linked list through
   * `prev_seq` instead, and time ranges are seq ranges (seq and `at` grow together).
   */
  private static migrate(db: Database.Database): void {
    const columns = (table: string) =>
      new Set((db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name));
    const placements = columns('placements');
    if (!placements.has('addr')) db.exec("ALTER TABLE placements ADD COLUMN addr TEXT NOT NULL DEFAULT ''");
    if (!placements.has('next_at')) db.exec('ALTER TABLE placements ADD COLUMN next_at INTEGER NOT NULL DEFAULT 0');
    if (!placements.has('prev_seq')) {
      // Each pixel's history is a list linked by prev_seq (rollback walks it): link the rows written
      // before the column existed too, or a rollback would stop at the oldest new row and paint 0.
      db.exec(`ALTER TABLE placements ADD COLUMN prev_seq INTEGER NOT NULL DEFAULT 0;
        WITH prev AS (SELECT seq, LAG(seq, 1, 0) OVER (PARTITION BY x, y ORDER BY seq) AS p FROM placements)
        UPDATE placements SET prev_seq = prev.p FROM prev WHERE placements.seq = prev.seq;`);
    }
    if (!columns('snapshots').has('last_seq')) db.exec('ALTER TABLE snapshots ADD COLUMN last_seq BLOB');
    db.exec('DROP INDEX IF EXISTS placements_xy; DROP INDEX IF EXISTS placements_who;');
  }

  /**
   * Records the canvas shape on first start; refuses to reinterpret an existing grid differently.
   * `meta` keeps the first size: a canvas grown since starts with the flags it was first started with
   * (or with its grown size), and load() applies the stored resizes.
   */
  private static checkMeta(db: Database.Database, opts: StoreOptions): string {
    const get = (k: string) =>
      (db.prepare('SELECT value FROM meta WHERE key = ?').get(k) as { value: string } | undefined)?.value;
    const existing = get('canvas_id');
    if (existing === undefined) {
      const id = randomUUID().slice(0, 8);
      const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      db.transaction(() => {
        put.run('canvas_id', id);
        put.run('width', String(opts.width));
        put.run('height', String(opts.height));
        put.run('palette_size', String(opts.paletteSize));
      })();
      return id;
    }
    const w = Number(get('width'));
    const h = Number(get('height'));
    const grown = new SizeStore(db).all().at(-1);
    const first = w === opts.width && h === opts.height;
    const now = grown !== undefined && grown.width === opts.width && grown.height === opts.height;
    if (!first && !now) {
      db.close();
      const since = grown ? ` (grown to ${grown.width} x ${grown.height} since)` : '';
      throw new OperatorError(
        `database "${opts.path}" holds a ${w} x ${h} canvas${since}, but ${opts.width} x ${opts.height} was configured`,
      );
    }
    return existing;
  }

  /** The first size (meta) and every resize since: the size at any seq. */
  sizeHistory(): SizeHistory {
    const get = (k: string) =>
      Number((this.db.prepare('SELECT value FROM meta WHERE key = ?').get(k) as { value: string }).value);
    return new SizeHistory({ width: get('width'), height: get('height') }, this.sizes.all());
  }

  /**
   * The stored chunks (the chunk snapshot, at the size stored with them) plus replay of every later
   * placement and resize, in seq order: the exact grid, its size, per-pixel last seq and seq at the
   * last commit. A database from before chunk snapshots starts from its latest whole-grid snapshot
   * instead (and marks every chunk unsaved, so the next snapshot writes them all). Refuses a grid
   * holding colours the configured palette lacks.
   */
  load(paletteSize: number): LoadedState {
    const sizes = this.sizeHistory();
    const badColour = (c: number) =>
      new OperatorError(`the stored canvas uses colour ${c}, but the palette has only ${paletteSize} colours`);
    let canvas: Canvas;
    let seq = 0;
    const chunksSeq = this.meta(CHUNKS_SEQ);
    if (chunksSeq !== undefined) {
      seq = Number(chunksSeq);
      const { width, height } = this.chunksSize() as { width: number; height: number };
      canvas = new Canvas(width, height, paletteSize, 0, false);
      const rows = this.db.prepare('SELECT cx, cy, cells FROM chunks').raw();
      for (const [cx, cy, cells] of rows.iterate() as Iterable<[number, number, Buffer]>) {
        let maxColour: number;
        try {
          maxColour = canvas.restoreChunk(cx, cy, cells);
        } catch (err) {
          throw new OperatorError(`the stored canvas is damaged: ${(err as Error).message}`);
        }
        if (maxColour >= paletteSize) throw badColour(maxColour);
      }
    } else {
      ({ canvas, seq } = this.loadWholeSnapshot(sizes.initial, paletteSize));
      canvas.unsaveAll();
    }
    // Placements are stored in the coordinates of their time: each resize applies before the rows after it.
    const resizes = sizes.between(seq, Number.MAX_SAFE_INTEGER);
    let replayed = 0;
    const rows = this.db.prepare('SELECT seq, x, y, color FROM placements WHERE seq > ? ORDER BY seq').raw();
    for (const row of rows.iterate(seq) as Iterable<[number, number, number, number]>) {
      const [s, x, y, color] = row;
      while (resizes.length > 0 && (resizes[0] as { seq: number }).seq < s) {
        const e = resizes.shift() as (typeof resizes)[number];
        canvas.resize(e, e.seq);
      }
      if (color >= paletteSize) throw badColour(color);
      canvas.apply(x, y, color, s);
      seq = s;
      replayed++;
    }
    for (const e of resizes) {
      canvas.resize(e, e.seq);
      seq = e.seq;
    }
    canvas.seq = seq;
    return { canvas, seq, replayed };
  }

  /**
   * A canvas from the whole-grid snapshot older versions wrote (`snapshots`), at its size and seq; an
   * empty one of the first size at seq 0 when there is none or it predates per-pixel seqs (then
   * everything is replayed).
   */
  private loadWholeSnapshot(
    initial: { width: number; height: number },
    paletteSize: number,
  ): { canvas: Canvas; seq: number } {
    const snap = this.db
      .prepare('SELECT seq, width, height, grid, last_seq FROM snapshots ORDER BY seq DESC LIMIT 1')
      .get() as { seq: number; width: number; height: number; grid: Buffer; last_seq: Buffer | null } | undefined;
    if (!snap?.last_seq) return { canvas: new Canvas(initial.width, initial.height, paletteSize, 0, false), seq: 0 };
    const { width, height } = snap;
    const canvas = new Canvas(width, height, paletteSize, snap.seq, false);
    const seqs = new Uint32Array(width * height);
    new Uint8Array(seqs.buffer).set(snap.last_seq);
    for (let cell = 0; cell < width * height; cell++) {
      const colour = snap.grid[cell] as number;
      const s = seqs[cell] as number;
      if (s === 0 && colour === 0) continue;
      if (colour >= paletteSize)
        throw new OperatorError(
          `the stored canvas uses colour ${colour}, but the palette has only ${paletteSize} colours`,
        );
      canvas.setQuiet(cell % width, Math.floor(cell / width), colour, s);
    }
    return { canvas, seq: snap.seq };
  }

  /** Writes all rows in one transaction; throws (and writes nothing) if SQLite cannot commit. */
  commit(rows: readonly PlacementRow[]): void {
    this.commitRows(rows);
  }

  /**
   * A snapshot: the chunks changed since the last one (`Canvas.takeUnsaved`), as of `seq`, of a
   * `width` x `height` canvas. The chunks not written did not change since, so the table then holds
   * the whole canvas at `seq`: the work follows the chunks placements touched, not the canvas's area.
   * When the size changed since the last one (a resize re-lays every chunk and lists all that hold
   * pixels as unsaved) the old rows all go first: they are of the old layout. The first one also drops
   * the whole-grid snapshots of older versions (the chunks now hold everything).
   */
  writeSnapshot(chunks: readonly ChunkImage[], seq: number, width: number, height: number): void {
    const put = this.db.prepare('INSERT OR REPLACE INTO chunks (cx, cy, cells, seq) VALUES (?, ?, ?, ?)');
    const setMeta = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    this.db.transaction(() => {
      const stored = this.chunksSize();
      if (stored && (stored.width !== width || stored.height !== height)) this.db.prepare('DELETE FROM chunks').run();
      for (const c of chunks) put.run(c.cx, c.cy, c.bytes, seq);
      setMeta.run(CHUNKS_SEQ, String(seq));
      setMeta.run(CHUNKS_SIZE, `${width}x${height}`);
      this.db.prepare('DELETE FROM snapshots').run();
    })();
  }

  /**
   * Whether a snapshot of a `width` x `height` canvas may be written a slice at a time: the stored
   * chunks are of that size (so every row, old or new, is of one layout) and hold the canvas at a
   * seq. Until the slices end, `chunks_seq` stays at the previous snapshot's seq; a start meanwhile
   * (or after a crash) restores the mix of older and newer chunk rows and replays from that seq:
   * every row stored after it is applied again in order, which leaves each pixel as its last
   * placement left it, whatever version of its chunk was stored.
   */
  canSlice(width: number, height: number): boolean {
    if (this.meta(CHUNKS_SEQ) === undefined) return false;
    const stored = this.chunksSize();
    return stored !== undefined && stored.width === width && stored.height === height;
  }

  /**
   * A snapshot of a new layout (the first, or the first after a resize) written in slices: into a
   * table of its own, `chunks_next`, which replaces `chunks` only when the last slice is written
   * (`finishSlicedSnapshot`), so until then a start still reads the previous snapshot whole. A
   * `chunks_next` left by a crash or a failed run is dropped here.
   */
  beginRelayout(): void {
    this.db.exec(`
      DROP TABLE IF EXISTS chunks_next;
      CREATE TABLE chunks_next (
        cx INTEGER NOT NULL, cy INTEGER NOT NULL, cells BLOB NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (cx, cy)) WITHOUT ROWID;
    `);
  }

  /**
   * A slice of a snapshot: chunk rows as of `seq`, in one transaction (`chunks_seq` unchanged), into
   * `chunks` or, for a new layout, `chunks_next`.
   */
  writeChunks(chunks: readonly ChunkImage[], seq: number, relayout = false): void {
    const table = relayout ? 'chunks_next' : 'chunks';
    const put = this.db.prepare(`INSERT OR REPLACE INTO ${table} (cx, cy, cells, seq) VALUES (?, ?, ?, ?)`);
    this.db.transaction(() => {
      for (const c of chunks) put.run(c.cx, c.cy, c.bytes, seq);
    })();
  }

  /**
   * The slices of a snapshot begun at `seq` are all written: the chunks hold the canvas at `seq`
   * (some rows newer, which replay makes no difference to, as `canSlice` says). A new layout's
   * table takes the place of the old one (a rename: the rows are not copied) with its size.
   */
  finishSlicedSnapshot(seq: number, relayout?: { width: number; height: number }): void {
    const setMeta = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    this.db.transaction(() => {
      if (relayout) {
        this.db.exec('DROP TABLE chunks; ALTER TABLE chunks_next RENAME TO chunks;');
        setMeta.run(CHUNKS_SIZE, `${relayout.width}x${relayout.height}`);
      }
      setMeta.run(CHUNKS_SEQ, String(seq));
      this.db.prepare('DELETE FROM snapshots').run();
    })();
  }

  /**
   * The size the stored chunks are laid out for; undefined when there are none. Rows written before
   * the size was stored (no `chunks_size`) are of the size at their seq.
   */
  private chunksSize(): { width: number; height: number } | undefined {
    const v = this.meta(CHUNKS_SIZE);
    if (v === undefined) {
      const seq = this.meta(CHUNKS_SEQ);
      return seq === undefined ? undefined : this.sizeHistory().at(Number(seq));
    }
    const [width, height] = v.split('x').map(Number) as [number, number];
    return { width, height };
  }

  /** The seq the stored chunks hold the canvas at (0: no chunk snapshot yet). */
  snapshotSeq(): number {
    return Number(this.meta(CHUNKS_SEQ) ?? 0);
  }

  private meta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  get canvasId(): string {
    return this.id;
  }

  /**
   * Makes this database hold the canvas `canvasId` (a writer's standby, bus/replication-log.ts): a
   * database with nothing placed takes the id; one holding another canvas's history is refused.
   */
  adoptCanvas(canvasId: string, describe: string): void {
    if (canvasId === this.canvasId) return;
    const placed = this.db.prepare('SELECT EXISTS (SELECT 1 FROM placements) AS any').get() as { any: number };
    if (placed.any === 1)
      throw new OperatorError(
        `database "${this.db.name}" holds canvas ${this.canvasId}, but ${describe} serves canvas ${canvasId}: start this writer on an empty database or a copy of the leader's`,
      );
    this.db.prepare("UPDATE meta SET value = ? WHERE key = 'canvas_id'").run(canvasId);
    this.id = canvasId;
  }

  /** Keeps the identity secret `hex` unless one is stored (a standby takes the leader's). */
  adoptSecret(hex: string): void {
    this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('secret', ?)").run(hex);
  }

  /**
   * Deletes every placement after `seq`, and the snapshots, keyframes and stats checkpoint taken
   * after it: a writer that lost its lease drops what it stored but never got into the replicated
   * log (never acknowledged), before it follows the new leader's log from `seq`.
   */
  truncateAfter(seq: number): number {
    return this.db.transaction(() => {
      const { changes } = this.db.prepare('DELETE FROM placements WHERE seq > ?').run(seq);
      this.db.prepare('DELETE FROM snapshots WHERE seq > ?').run(seq);
      // The chunks hold the canvas at one seq only (rows of a sliced snapshot may be newer, up to the
      // seq they were written at): past `seq`, they go, and the next start replays.
      const newest = (this.db.prepare('SELECT MAX(seq) AS s FROM chunks').get() as { s: number | null }).s ?? 0;
      this.db.exec('DROP TABLE IF EXISTS chunks_next'); // a new layout's slices (beginRelayout) go too
      if (this.snapshotSeq() > seq || newest > seq) {
        this.db.prepare('DELETE FROM chunks').run();
        this.db.prepare('DELETE FROM meta WHERE key IN (?, ?)').run(CHUNKS_SEQ, CHUNKS_SIZE);
      }
      for (const table of ['keyframes', 'stats_checkpoint', 'canvas_sizes']) {
        const exists = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
        if (exists) this.db.prepare(`DELETE FROM ${table} WHERE seq > ?`).run(seq);
      }
      return changes;
    })();
  }

  /** The HMAC secret for identity tokens: the configured one, else generated once and kept in `meta`. */
  identitySecret(configured: string): Buffer {
    if (configured !== '') return Buffer.from(configured, 'utf8');
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'secret'").get() as { value: string } | undefined;
    if (row) return Buffer.from(row.value, 'hex');
    const fresh = randomBytes(32);
    this.db.prepare("INSERT INTO meta (key, value) VALUES ('secret', ?)").run(fresh.toString('hex'));
    return fresh;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
