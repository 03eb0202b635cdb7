/**
 * Opening a database written by an older version: the placements table without addr, next_at and
 * prev_seq (and with the old secondary indexes), snapshots without last_seq. Store.open brings it to
 * the current schema, Store.load gives back the exact grid and seq, and a second open changes nothing.
 * The old schema is the current one minus those columns, built here by hand with better-sqlite3.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { PlacementLog } from '../store/placement-log.ts';
import { Store } from '../store/store.ts';
import { seqsOf, tempDir } from '../../testkit/fixture.ts';

const W = 6;
const H = 4;
const PALETTE = 16;
const OLD_ID = 'o1d1d0a1';

/** Old placements: [seq, x, y, color, who, at]; (2, 1) is placed twice. */
const OLD_PLACEMENTS: Array<[number, number, number, number, string, number]> = [
  [1, 0, 0, 3, 'alice', 1_700_000_000_000],
  [2, 2, 1, 5, 'bob', 1_700_000_001_000],
  [3, 5, 3, 15, 'alice', 1_700_000_002_000],
  [4, 2, 1, 7, 'carol', 1_700_000_003_000],
  [5, 4, 0, 1, 'bob', 1_700_000_004_000],
];

/** Writes a database as an older version left it; `snapshot` adds a snapshot row without last_seq. */
function writeOldDatabase(path: string, opts: { snapshot?: { seq: number; grid: Uint8Array } } = {}): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE placements (
      seq INTEGER PRIMARY KEY, x INTEGER NOT NULL, y INTEGER NOT NULL, color INTEGER NOT NULL,
      who TEXT NOT NULL, at INTEGER NOT NULL);
    CREATE INDEX placements_xy ON placements (x, y);
    CREATE INDEX placements_who ON placements (who);
    CREATE TABLE snapshots (
      seq INTEGER PRIMARY KEY, width INTEGER NOT NULL, height INTEGER NOT NULL, grid BLOB NOT NULL,
      at INTEGER NOT NULL);
  `);
  const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
  for (const [k, v] of [
    ['canvas_id', OLD_ID],
    ['width', String(W)],
    ['height', String(H)],
    ['palette_size', String(PALETTE)],
  ])
    meta.run(k, v);
  const insert = db.prepare('INSERT INTO placements (seq, x, y, color, who, at) VALUES (?, ?, ?, ?, ?, ?)');
  for (const row of OLD_PLACEMENTS) insert.run(...row);
  if (opts.snapshot) {
    db.prepare('INSERT INTO snapshots (seq, width, height, grid, at) VALUES (?, ?, ?, ?, ?)').run(
      opts.snapshot.seq,
      W,
      H,
      Buffer.from(opts.snapshot.grid),
      1_700_000_005_000,
    );
  }
  db.close();
}

function dbPath(t: TestContext): string {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'canvas.db');
}

/** How the server opens a database of this canvas. */
function storeOptions(path: string) {
  return { path, width: W, height: H, paletteSize: PALETTE, synchronous: 'NORMAL' as const, busyTimeoutMs: 0 };
}

function open(t: TestContext, path: string): Store {
  const store = Store.open(storeOptions(path));
  t.after(() => store.close());
  return store;
}

/** The grid and per-cell seqs the old placements describe, computed here without the store. */
function expectedState(): { grid: Uint8Array; lastSeq: Uint32Array } {
  const grid = new Uint8Array(W * H);
  const lastSeq = new Uint32Array(W * H);
  for (const [seq, x, y, color] of OLD_PLACEMENTS) {
    grid[y * W + x] = color;
    lastSeq[y * W + x] = seq;
  }
  return { grid, lastSeq };
}

function columns(db: Database.Database, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
}

/** Every schema object and every row: what a no-op open must leave as it was. */
function dump(db: Database.Database): unknown {
  return {
    schema: db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all(),
    meta: db.prepare('SELECT * FROM meta ORDER BY key').all(),
    placements: db.prepare('SELECT * FROM placements ORDER BY seq').all(),
    snapshots: db.prepare('SELECT * FROM snapshots ORDER BY seq').all(),
  };
}

test(
  'opening an old database adds addr, next_at, prev_seq and last_seq, ' +
    'drops the old indexes, and keeps its canvas id',
  (t) => {
    const path = dbPath(t);
    writeOldDatabase(path);
    const store = open(t, path);
    assert.deepEqual(columns(store.db, 'placements'), [
      'seq',
      'x',
      'y',
      'color',
      'who',
      'at',
      'addr',
      'next_at',
      'prev_seq',
    ]);
    assert.deepEqual(columns(store.db, 'snapshots'), ['seq', 'width', 'height', 'grid', 'at', 'last_seq']);
    const indexes = store.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'placements_%'")
      .all();
    assert.deepEqual(indexes, [], 'no secondary index on placements');
    assert.deepEqual(
      store.db
        .prepare('SELECT seq, who, addr, next_at, prev_seq FROM placements WHERE seq IN (1, 4) ORDER BY seq')
        .all(),
      [
        { seq: 1, who: 'alice', addr: '', next_at: 0, prev_seq: 0 },
        { seq: 4, who: 'carol', addr: '', next_at: 0, prev_seq: 2 },
      ],
      'old rows keep their values, get the defaults, and are linked to the earlier placement at their pixel',
    );
    assert.equal(store.canvasId, OLD_ID);
  },
);

test('an old database loads to exactly the grid, per-cell seqs and seq its placements describe', (t) => {
  const path = dbPath(t);
  writeOldDatabase(path);
  const loaded = open(t, path).load(PALETTE);
  const expected = expectedState();
  assert.equal(loaded.seq, 5);
  assert.equal(loaded.replayed, OLD_PLACEMENTS.length);
  assert.deepEqual(loaded.canvas.toGrid(), expected.grid);
  assert.deepEqual(seqsOf(loaded.canvas), expected.lastSeq);
  assert.equal(loaded.canvas.get(2, 1), 7, 'the later of two placements at (2, 1)');
});

test('a snapshot without last_seq does not seed the load: every placement is replayed', (t) => {
  const path = dbPath(t);
  // A snapshot at seq 3 whose grid disagrees with the placements (colour 9 at a cell no placement
  // touched): if it seeded the load, that cell would show 9 and only seqs 4 and 5 would be replayed.
  const stale = new Uint8Array(W * H);
  stale[3 * W + 0] = 9;
  writeOldDatabase(path, { snapshot: { seq: 3, grid: stale } });
  const loaded = open(t, path).load(PALETTE);
  const expected = expectedState();
  assert.equal(loaded.replayed, 5);
  assert.equal(loaded.seq, 5);
  assert.deepEqual(loaded.canvas.toGrid(), expected.grid);
  assert.deepEqual(
    seqsOf(loaded.canvas),
    expected.lastSeq,
    'every cell has its seq, which an old snapshot cannot give',
  );
});

test('a migrated database takes new placements and loads them after the old ones', (t) => {
  const path = dbPath(t);
  writeOldDatabase(path);
  const store = open(t, path);
  store.commit([
    {
      seq: 6,
      x: 2,
      y: 1,
      color: 11,
      who: 'dave',
      addr: '10.0.0.0/24',
      at: 1_700_000_006_000,
      nextAt: 1_700_000_066_000,
      prevSeq: 4,
    },
  ]);
  const loaded = store.load(PALETTE);
  assert.equal(loaded.seq, 6);
  assert.equal(loaded.canvas.get(2, 1), 11);
  assert.equal(loaded.canvas.lastSeqAt(2, 1), 6);
  assert.deepEqual(store.db.prepare('SELECT addr, next_at, prev_seq FROM placements WHERE seq = 6').get(), {
    addr: '10.0.0.0/24',
    next_at: 1_700_000_066_000,
    prev_seq: 4,
  });
});

test('opening a migrated database again changes nothing', (t) => {
  const path = dbPath(t);
  writeOldDatabase(path, { snapshot: { seq: 3, grid: new Uint8Array(W * H) } });
  const first = Store.open(storeOptions(path));
  const loadedFirst = first.load(PALETTE);
  const before = dump(first.db);
  first.close();

  const second = open(t, path);
  assert.deepEqual(dump(second.db), before);
  assert.deepEqual(second.load(PALETTE), loadedFirst);
  assert.equal(second.canvasId, OLD_ID);
});

test(
  'rows written before prev_seq existed are linked into each pixel history, ' +
    'so a rollback finds the earlier colour',
  (t) => {
    const path = dbPath(t);
    writeOldDatabase(path);
    const store = open(t, path);
    const prev = store.db.prepare('SELECT seq, prev_seq AS prev FROM placements ORDER BY seq').all() as Array<{
      seq: number;
      prev: number;
    }>;
    assert.deepEqual(
      prev.map((r) => [r.seq, r.prev]),
      [
        [1, 0],
        [2, 0],
        [3, 0],
        [4, 2], // (2, 1): carol's placement follows bob's
        [5, 0],
      ],
    );
    const { canvas } = store.load(PALETTE);
    const targets = new PlacementLog(store.db).rollbackTargets('carol', 0, (x, y) => canvas.lastSeqAt(x, y));
    assert.deepEqual(targets, [{ x: 2, y: 1, color: 5 }], "rolling carol back shows bob's colour again");
  },
);
