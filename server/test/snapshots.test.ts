/**
 * Grid snapshots (by chunk), tested on the committer and a real SQLite file without a server:
 * placements replayed at startup count toward the next snapshot, a stop after such a start writes
 * one, a snapshot the disk refuses is retried with backoff, not after every batch, a snapshot writes
 * only the chunks changed since the last (all of them, the old rows deleted, after a resize), and
 * an older version's whole-grid snapshot still loads.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { PlacementCommitter, type CommitterOptions, type PlacementRequest } from '../placement/committer.ts';
import { Store } from '../store/store.ts';
import { tempDir } from '../../testkit/fixture.ts';

const SIZE = 500;

function openStore(dir: string): Store {
  return Store.open({
    path: join(dir, 'canvas.db'),
    width: SIZE,
    height: SIZE,
    paletteSize: 16,
    synchronous: 'NORMAL',
    busyTimeoutMs: 0,
  });
}

/** A store and committer as the server builds them at startup; `failures` counts failed snapshots. */
function start(dir: string, opts: Partial<CommitterOptions> = {}) {
  const store = openStore(dir);
  const loaded = store.load(16);
  const { canvas } = loaded;
  canvas.track();
  const failures: unknown[] = [];
  const committer = new PlacementCommitter(
    store,
    canvas,
    { commitDelayMs: 0, commitBatch: 1000, snapshotEvery: 100, replayed: loaded.replayed, ...opts },
    {
      commitFailed: (err, count) => count === 0 && failures.push(err),
      committed: () => {},
      callbackFailed: (err) => assert.fail(String(err)),
    },
  );
  return { store, canvas, committer, loaded, failures };
}

function latestSnapshotSeq(store: Store): number {
  return store.snapshotSeq();
}

function place(committer: PlacementCommitter, n: number, offset = 0): void {
  const reqs: PlacementRequest[] = Array.from({ length: n }, (_, i) => ({
    x: (offset + i) % SIZE,
    y: 0,
    color: 1 + (i % 15),
    who: 'a'.repeat(16),
    addr: '',
    nextAt: 0,
  }));
  for (const r of reqs) assert.ok(committer.commitNow([r]).ok);
}

function dir(t: TestContext): string {
  const d = tempDir();
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('placements replayed at startup count toward the next snapshot', (t) => {
  const d = dir(t);
  const first = start(d);
  place(first.committer, 60);
  first.store.close(); // a crash: no close(), no snapshot
  const second = start(d);
  assert.equal(second.loaded.replayed, 60);
  place(second.committer, 40, 60);
  assert.equal(latestSnapshotSeq(second.store), 100, '60 replayed + 40 new reach snapshotEvery=100');
  second.store.close();
});

test('a graceful stop after a start that replayed history writes a snapshot', (t) => {
  const d = dir(t);
  const first = start(d);
  place(first.committer, 30);
  first.store.close(); // crash
  const second = start(d);
  second.committer.close(); // nothing new placed
  assert.equal(latestSnapshotSeq(second.store), 30);
  second.store.close();
  const third = start(d);
  assert.equal(third.loaded.replayed, 0, 'the next start replays nothing');
  third.store.close();
});

test('a snapshot the disk refuses is retried with backoff, not after every batch', (t) => {
  const d = dir(t);
  let clock = 1_000_000;
  const s = start(d, { snapshotEvery: 10, now: () => clock });
  // A real SQLITE_FULL: the database may grow by 64 pages (256 KiB): room for placements, not for a
  // snapshot of a painted 500 x 500 grid (64 dense chunks, 1.3 MB with their per-pixel seqs).
  s.canvas.paint(Uint8Array.from({ length: SIZE * SIZE }, (_, i) => 1 + (i % 15)));
  const pages = s.store.db.pragma('page_count', { simple: true }) as number;
  s.store.db.pragma(`max_page_count = ${pages + 64}`);
  place(s.committer, 200);
  assert.equal(s.failures.length, 1, 'one attempt while the backoff runs, not one per batch');
  assert.match(String(s.failures[0]), /full/i);
  clock += 1_000;
  place(s.committer, 1, 200);
  assert.equal(s.failures.length, 2, 'retried once the first backoff (1 s) passed');
  clock += 1_000;
  place(s.committer, 1, 201);
  assert.equal(s.failures.length, 2, 'the second backoff is longer (2 s)');
  s.store.db.pragma('max_page_count = 1073741823');
  clock += 1_000;
  place(s.committer, 1, 202);
  assert.equal(s.failures.length, 2);
  assert.equal(latestSnapshotSeq(s.store), 203, 'written once the disk has room');
  s.store.close();
});

test('a snapshot writes only the chunks changed since the last one, and a start reads them back exact', (t) => {
  const d = dir(t);
  const first = start(d, { snapshotEvery: 1_000_000 });
  place(first.committer, 300); // row 0, x 0..299: chunks 0..4 of chunk row 0
  first.committer.snapshot();
  const count = () => (first.store.db.prepare('SELECT COUNT(*) AS n FROM chunks').get() as { n: number }).n;
  const versions = () => first.store.db.prepare('SELECT cx, cy, seq FROM chunks ORDER BY cx').all();
  assert.equal(count(), 5);
  assert.ok(first.committer.commitNow([{ x: 499, y: 499, color: 3, who: 'b'.repeat(16), addr: '', nextAt: 0 }]).ok);
  first.committer.snapshot();
  assert.deepEqual(
    versions(),
    [
      { cx: 0, cy: 0, seq: 300 },
      { cx: 1, cy: 0, seq: 300 },
      { cx: 2, cy: 0, seq: 300 },
      { cx: 3, cy: 0, seq: 300 },
      { cx: 4, cy: 0, seq: 300 },
      { cx: 7, cy: 7, seq: 301 },
    ],
    'the second snapshot wrote the one chunk that changed',
  );
  const grid = first.canvas.toGrid();
  first.store.close();
  const second = start(d);
  assert.equal(second.loaded.replayed, 0);
  assert.equal(second.canvas.seq, 301);
  assert.deepEqual(second.canvas.toGrid(), grid);
  assert.equal(second.canvas.lastSeqAt(499, 499), 301);
  second.store.close();
});

test('a whole-grid snapshot of an older version seeds the load; the first chunk snapshot replaces it', (t) => {
  const d = dir(t);
  const first = start(d, { snapshotEvery: 1_000_000 });
  place(first.committer, 20);
  // What an older version wrote at seq 20: the grid and per-cell seqs as two blobs, then no chunks.
  const grid = first.canvas.toGrid();
  const seqs = new Uint32Array(SIZE * SIZE);
  for (let x = 0; x < 20; x++) seqs[x] = x + 1;
  grid[SIZE * SIZE - 1] = 9; // a pixel only the old snapshot has: proof the load started from it
  seqs[SIZE * SIZE - 1] = 20;
  first.store.db
    .prepare('INSERT INTO snapshots (seq, width, height, grid, last_seq, at) VALUES (20, ?, ?, ?, ?, 0)')
    .run(SIZE, SIZE, Buffer.from(grid), Buffer.from(seqs.buffer));
  place(first.committer, 5, 20);
  first.store.close();
  const second = start(d, { snapshotEvery: 1_000_000 });
  assert.equal(second.loaded.replayed, 5, 'placements after the old snapshot only');
  assert.equal(second.canvas.get(SIZE - 1, SIZE - 1), 9);
  assert.equal(second.canvas.get(22, 0), first.canvas.get(22, 0));
  second.committer.snapshot();
  assert.equal(
    (second.store.db.prepare('SELECT COUNT(*) AS n FROM snapshots').get() as { n: number }).n,
    0,
    'the chunks hold everything now',
  );
  second.store.close();
  const third = start(d);
  assert.equal(third.loaded.replayed, 0);
  assert.equal(third.canvas.get(SIZE - 1, SIZE - 1), 9, 'every chunk the old snapshot filled was written');
  third.store.close();
});

test('after a resize the next snapshot replaces every chunk row; a start before or after it reads the grown canvas exact', async (t) => {
  const d = dir(t);
  const first = start(d, { snapshotEvery: 1_000_000 });
  place(first.committer, 300); // row 0: sparse chunks
  for (let i = 0; i < 600; i++) {
    const x = 128 + (i % 64);
    const y = 128 + Math.floor(i / 64);
    assert.ok(first.committer.commitNow([{ x, y, color: 1 + (i % 15), who: 'c'.repeat(16), addr: '', nextAt: 0 }]).ok);
  }
  assert.equal(first.canvas.footprint().dense, 1);
  first.committer.snapshot();
  // As a version before resizes wrote chunks: no size stored with them (they are of the size at their seq).
  first.store.db.prepare("DELETE FROM meta WHERE key = 'chunks_size'").run();
  const grown = await first.committer.resize({ width: 700, height: 600, left: 70, top: 100 }, 'mod:resize');
  assert.ok(grown.ok);
  const grid = first.canvas.toGrid();
  // The chunks on disk are still of 500 x 500 at seq 900: a start replays the resize over them.
  const mid = openStore(d);
  const fromOld = mid.load(16);
  assert.deepEqual([fromOld.canvas.width, fromOld.canvas.height, fromOld.seq], [700, 600, grown.seq]);
  assert.deepEqual(fromOld.canvas.toGrid(), grid);
  mid.close();
  first.committer.snapshot();
  const rows = first.store.db.prepare('SELECT cx, cy, seq FROM chunks').all() as {
    cx: number;
    cy: number;
    seq: number;
  }[];
  assert.ok(
    rows.every((r) => r.seq === grown.seq),
    'no row of the old layout is left',
  );
  assert.equal(rows.length, first.canvas.footprint().chunks);
  assert.ok(first.committer.commitNow([{ x: 699, y: 599, color: 4, who: 'b'.repeat(16), addr: '', nextAt: 0 }]).ok);
  const after = first.canvas.toGrid();
  first.store.close();
  const second = start(d);
  assert.equal(second.loaded.replayed, 1);
  assert.deepEqual([second.canvas.width, second.canvas.height], [700, 600]);
  assert.deepEqual(second.canvas.toGrid(), after);
  assert.equal(second.canvas.get(70, 100), 1, 'the pixel placed first at (0, 0)');
  assert.equal(second.canvas.lastSeqAt(70 + 128, 100 + 128), 301);
  second.store.close();
});

/** One placement in every chunk of the 500 x 500 canvas (8 x 8 chunks of 64), colour by round. */
function placeEveryChunk(committer: PlacementCommitter, round: number): void {
  for (let cy = 0; cy < 8; cy++)
    for (let cx = 0; cx < 8; cx++) {
      const x = cx * 64 + ((round * 7) % 52);
      const y = cy * 64 + ((round * 11) % 52);
      const req = { x, y, color: 1 + ((round + cx + cy) % 15), who: 'd'.repeat(16), addr: '', nextAt: 0 };
      assert.ok(committer.commitNow([req]).ok);
    }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Every pixel's colour and last seq, for comparing a loaded canvas with the live one. */
function state(canvas: { toGrid(): Uint8Array; lastSeqAt(x: number, y: number): number }): [Uint8Array, number[]] {
  const seqs: number[] = [];
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) seqs.push(canvas.lastSeqAt(x, y));
  return [canvas.toGrid(), seqs];
}

test('a snapshot of many chunks is written in slices across turns; the previous one serves a start until the last slice', async (t) => {
  const d = dir(t);
  // 64 chunks change per round, 4 per slice: 16 turns.
  const s = start(d, { snapshotEvery: 1_000_000, snapshotSliceChunks: 4 });
  placeEveryChunk(s.committer, 0);
  s.committer.snapshot(); // the first is whole: it lays out the chunks of this size
  const firstSeq = latestSnapshotSeq(s.store);
  assert.equal(firstSeq, 64);
  const sliced = start(d, { snapshotEvery: 64, snapshotSliceChunks: 4 });
  s.store.close();
  placeEveryChunk(sliced.committer, 1); // 64 placements: a snapshot begins, sliced
  const begunAt = sliced.canvas.seq;
  let turns = 0;
  let crashCopy: Buffer | undefined;
  const rowsNewerThan = (seq: number) =>
    (sliced.store.db.prepare('SELECT COUNT(*) AS n FROM chunks WHERE seq > ?').get(seq) as { n: number }).n;
  while (latestSnapshotSeq(sliced.store) === firstSeq) {
    await turn();
    turns++;
    assert.ok(turns < 100, 'the sliced snapshot ends');
    if (turns === 5) {
      // Placements between slices land in chunks written already and in chunks not yet written.
      placeEveryChunk(sliced.committer, 2);
      assert.ok(rowsNewerThan(firstSeq) > 0, 'some slices are written');
      assert.equal(latestSnapshotSeq(sliced.store), firstSeq, 'the previous snapshot still serves a start');
      // What a crash now leaves on disk: a mix of chunk rows older and newer than the live grid.
      sliced.store.db.pragma('wal_checkpoint(TRUNCATE)');
      crashCopy = sliced.store.db.serialize();
    }
  }
  assert.ok(turns >= 15, `written over ${turns} turns`);
  assert.equal(latestSnapshotSeq(sliced.store), begunAt, 'the snapshot holds the canvas at the seq it began at');
  const live = state(sliced.canvas);
  sliced.committer.close();
  sliced.store.close();

  const after = start(d);
  assert.equal(after.loaded.replayed, 0, 'the stop wrote the chunks changed during the slices');
  assert.deepEqual(state(after.canvas), live);
  after.store.close();

  // The crash copy: the mix of rows plus replay from the previous snapshot's seq is exact too.
  assert.ok(crashCopy);
  const crashed = dir(t);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(crashed, 'canvas.db'), crashCopy);
  const fromCrash = start(crashed);
  assert.equal(fromCrash.loaded.replayed, 128, 'rounds 1 and 2 replayed over the mixed rows');
  const want = start(d); // the same history, loaded cleanly
  assert.deepEqual(state(fromCrash.canvas), state(want.canvas));
  fromCrash.store.close();
  want.store.close();
});

/** A copy of the database file as a crash now would leave it, opened as a start would. */
async function startFromCopy(t: TestContext, store: Store) {
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const copy = dir(t);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(copy, 'canvas.db'), store.db.serialize());
  return start(copy);
}

const tableExists = (store: Store, name: string) =>
  store.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

test('the first snapshot of a canvas is a new layout written in slices; a crash before its end starts from the log', async (t) => {
  const d = dir(t);
  const s = start(d, { snapshotEvery: 64, snapshotSliceChunks: 4 });
  placeEveryChunk(s.committer, 0); // 64 chunks, none stored: a new layout, sliced
  await turn();
  await turn();
  assert.ok(tableExists(s.store, 'chunks_next'));
  assert.equal(latestSnapshotSeq(s.store), 0, 'no snapshot a start would use yet');
  const live = state(s.canvas);
  const crashed = await startFromCopy(t, s.store);
  assert.equal(crashed.loaded.replayed, 64);
  assert.deepEqual(state(crashed.canvas), live);
  crashed.store.close();
  while (latestSnapshotSeq(s.store) === 0) await turn();
  assert.equal(latestSnapshotSeq(s.store), 64);
  assert.ok(!tableExists(s.store, 'chunks_next'), 'swapped in');
  assert.equal((s.store.db.prepare('SELECT COUNT(*) AS n FROM chunks').get() as { n: number }).n, 64);
  s.store.close();
  const again = start(d);
  assert.equal(again.loaded.replayed, 0);
  assert.deepEqual(state(again.canvas), live);
  again.store.close();
});

test('a resize stops a sliced snapshot; the next lays the new size out in slices; a stop finishes one', async (t) => {
  const d = dir(t);
  const s = start(d, { snapshotEvery: 64, snapshotSliceChunks: 4 });
  placeEveryChunk(s.committer, 0);
  s.committer.snapshot(); // finishes the first (a new layout) at once
  assert.equal(latestSnapshotSeq(s.store), 64);
  placeEveryChunk(s.committer, 1); // sliced
  await turn();
  await turn();
  const grown = await s.committer.resize({ width: 600, height: 520, left: 30, top: 0 }, 'mod:resize');
  assert.ok(grown.ok);
  for (let i = 0; i < 20; i++) await turn();
  assert.equal(latestSnapshotSeq(s.store), 64, 'the slices stopped at the resize');
  placeEveryChunk(s.committer, 2); // the first placement begins one: a new layout (600 x 520), sliced
  const begunAt = grown.seq + 1;
  await turn();
  await turn();
  assert.equal(latestSnapshotSeq(s.store), 64, 'the 500 x 500 snapshot serves a start until the last slice');
  const live = state(s.canvas);
  const crashed = await startFromCopy(t, s.store);
  assert.deepEqual([crashed.canvas.width, crashed.canvas.height], [600, 520]);
  assert.deepEqual(crashed.canvas.toGrid(), live[0]);
  crashed.store.close();
  while (latestSnapshotSeq(s.store) === 64) await turn();
  assert.equal(latestSnapshotSeq(s.store), begunAt);
  const sizes = s.store.db.prepare("SELECT value FROM meta WHERE key = 'chunks_size'").get() as { value: string };
  assert.equal(sizes.value, '600x520');
  assert.equal(
    (s.store.db.prepare('SELECT COUNT(*) AS n FROM chunks').get() as { n: number }).n,
    s.canvas.footprint().chunks,
    'every chunk holding pixels, of the new layout',
  );
  s.committer.snapshot(); // all covered: the next begins after 64 more
  placeEveryChunk(s.committer, 3); // sliced again, now that the stored rows are of this size
  const lastBegun = s.canvas.seq;
  await turn();
  s.committer.close(); // finishes the slices on this turn, then covers nothing more (none placed since)
  assert.equal(latestSnapshotSeq(s.store), lastBegun);
  const grid = s.canvas.toGrid();
  s.store.close();
  const again = start(d);
  assert.equal(again.loaded.replayed, 0);
  assert.deepEqual(again.canvas.toGrid(), grid);
  again.store.close();
});

test('a writer dropping placements past the log also drops chunk rows a sliced snapshot wrote past it', async (t) => {
  const d = dir(t);
  const s = start(d, { snapshotEvery: 64, snapshotSliceChunks: 4 });
  placeEveryChunk(s.committer, 0);
  s.committer.snapshot();
  const logSeq = s.canvas.seq; // what the replicated log holds
  const want = s.canvas.toGrid();
  placeEveryChunk(s.committer, 1); // never in the log; a sliced snapshot writes rows of it
  for (let i = 0; i < 3; i++) await turn();
  assert.equal(latestSnapshotSeq(s.store), logSeq);
  s.store.close(); // the writer stops (its lease lost)
  const store = openStore(d);
  assert.equal(store.truncateAfter(logSeq), 64);
  const loaded = store.load(16);
  assert.deepEqual(loaded.canvas.toGrid(), want, 'no pixel of the dropped placements is left');
  store.close();
});
