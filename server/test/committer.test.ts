/**
 * The group committer on a real SQLite file, without a server: batching by delay and by size, seqs
 * assigned at commit with no gap after a failure, per-pixel history links (prevSeq), the all-or-nothing
 * failure of a batch while another connection holds the write lock, commitNow, and shutdown.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { test, type TestContext } from 'node:test';
import { ErrorCode } from '../../protocol/messages.ts';
import type { Canvas } from '../canvas/canvas.ts';
import {
  PlacementCommitter,
  type CommitterOptions,
  type PlacementOutcome,
  type PlacementRequest,
} from '../placement/committer.ts';
import type { Store } from '../store/store.ts';
import { openTestStore, seqsOf } from '../../testkit/fixture.ts';

const W = 8;
const H = 8;

interface Rig {
  dbPath: string;
  store: Store;
  canvas: Canvas;
  committer: PlacementCommitter;
  /** Sizes of committed batches, in order. */
  committed: number[];
  /** Sizes of failed batches, in order. */
  failed: number[];
  callbackErrors: unknown[];
}

/** A store, canvas and committer on a fresh SQLite file; all of it closed and deleted after the test. */
function rig(t: TestContext, opts: Partial<CommitterOptions> = {}): Rig {
  const { dbPath, store, canvas, close } = openTestStore(W, H);
  const committed: number[] = [];
  const failed: number[] = [];
  const callbackErrors: unknown[] = [];
  const committer = new PlacementCommitter(
    store,
    canvas,
    { commitDelayMs: 60_000, commitBatch: 1000, snapshotEvery: 1e9, ...opts },
    {
      commitFailed: (_err, count) => failed.push(count),
      committed: (count) => committed.push(count),
      callbackFailed: (err) => callbackErrors.push(err),
    },
  );
  t.after(() => {
    committer.close();
    close();
  });
  return { dbPath, store, canvas, committer, committed, failed, callbackErrors };
}

function req(x: number, y: number, color: number, who = 'a'.repeat(16)): PlacementRequest {
  return { x, y, color, who, addr: 'addr-1', nextAt: 0 };
}

/** Submits and resolves with the outcome once the committer calls back. */
function submit(committer: PlacementCommitter, r: PlacementRequest): Promise<PlacementOutcome> {
  return new Promise((resolve) => committer.submit(r, resolve));
}

type Row = { seq: number; x: number; y: number; color: number; prev_seq: number };

function rows(store: Store): Row[] {
  return store.db.prepare('SELECT seq, x, y, color, prev_seq FROM placements ORDER BY seq').all() as Row[];
}

/** A second connection holding SQLite's write lock, as another process could; released by the test or after it. */
function holdWriteLock(t: TestContext, dbPath: string): { release(): void } {
  const locker = new Database(dbPath);
  locker.exec('BEGIN IMMEDIATE');
  const release = () => {
    if (locker.inTransaction) locker.exec('ROLLBACK');
  };
  t.after(() => {
    release();
    locker.close();
  });
  return { release };
}

test('placements below commitBatch wait commitDelayMs, then commit as one batch', async (t) => {
  const r = rig(t, { commitDelayMs: 40 });
  const started = performance.now();
  const outcomes = Promise.all([
    submit(r.committer, req(0, 0, 1)),
    submit(r.committer, req(1, 0, 2)),
    submit(r.committer, req(2, 0, 3)),
  ]);
  assert.deepEqual(r.committed, [], 'nothing is written before the delay');
  assert.equal(r.canvas.seq, 0);
  const done = await outcomes;
  const waited = performance.now() - started;
  assert.ok(waited >= 38, `waited ${waited.toFixed(1)} ms for a 40 ms commit delay`);
  assert.deepEqual(r.committed, [3], 'one transaction for the three');
  assert.deepEqual(
    done.map((o) => o.ok && o.seq),
    [1, 2, 3],
  );
  assert.equal(rows(r.store).length, 3);
});

test('reaching commitBatch commits at once without waiting for the delay', (t) => {
  const r = rig(t, { commitDelayMs: 60_000, commitBatch: 3 });
  const outcomes: PlacementOutcome[] = [];
  r.committer.submit(req(0, 0, 1), (o) => outcomes.push(o));
  r.committer.submit(req(1, 0, 1), (o) => outcomes.push(o));
  assert.equal(outcomes.length, 0, 'below the batch size: queued');
  r.committer.submit(req(2, 0, 1), (o) => outcomes.push(o));
  assert.equal(outcomes.length, 3, 'the third submit committed the batch synchronously');
  assert.deepEqual(r.committed, [3]);
  assert.equal(r.canvas.seq, 3);
  assert.deepEqual(
    rows(r.store).map((row) => [row.seq, row.x]),
    [
      [1, 0],
      [2, 1],
      [3, 2],
    ],
  );
});

test('seqs are consecutive across batches, in submission order, and the grid follows them', async (t) => {
  const r = rig(t, { commitDelayMs: 5 });
  const first = await Promise.all([submit(r.committer, req(0, 0, 1)), submit(r.committer, req(0, 1, 2))]);
  const second = await Promise.all([
    submit(r.committer, req(0, 2, 3)),
    submit(r.committer, req(0, 3, 4)),
    submit(r.committer, req(0, 0, 5)),
  ]);
  assert.deepEqual(r.committed, [2, 3]);
  assert.deepEqual(
    [...first, ...second].map((o) => o.ok && o.seq),
    [1, 2, 3, 4, 5],
  );
  assert.deepEqual(
    rows(r.store).map((row) => row.seq),
    [1, 2, 3, 4, 5],
  );
  assert.equal(r.canvas.seq, 5);
  assert.equal(r.canvas.get(0, 0), 5, 'the later placement of (0, 0) wins');
  assert.equal(r.canvas.lastSeqOf(0), 5);
});

test('prevSeq links each placement to the previous one at its pixel, including earlier rows of the same batch', (t) => {
  const r = rig(t);
  assert.ok(r.committer.commitNow([req(3, 3, 1)]).ok); // seq 1
  const cell = 3 * W + 3;
  assert.ok(r.committer.commitNow([req(3, 3, 2), req(4, 4, 2), req(3, 3, 3), req(3, 3, 4)]).ok); // seqs 2..5
  assert.deepEqual(
    rows(r.store).map((row) => [row.seq, row.prev_seq]),
    [
      [1, 0],
      [2, 1],
      [3, 0],
      [4, 2],
      [5, 4],
    ],
  );
  assert.equal(r.canvas.lastSeqOf(cell), 5);
  assert.equal(r.canvas.get(3, 3), 4);
});

test(
  'a batch the database refuses fails whole with store_failed, ' +
    'uses no seq, leaves the grid alone; the next batch gets the next seq',
  (t) => {
    const r = rig(t, { commitBatch: 3 });
    assert.ok(r.committer.commitNow([req(0, 0, 1)]).ok);
    r.canvas.takeChanges();
    const gridBefore = r.canvas.toGrid();
    const lastSeqBefore = seqsOf(r.canvas);

    const lock = holdWriteLock(t, r.dbPath);
    const outcomes: PlacementOutcome[] = [];
    for (const x of [1, 2, 0]) r.committer.submit(req(x, 5, 9), (o) => outcomes.push(o));
    assert.equal(outcomes.length, 3);
    for (const o of outcomes) {
      assert.equal(o.ok, false);
      assert.equal(!o.ok && o.code, ErrorCode.STORE_FAILED);
      assert.match(!o.ok ? o.message : '', /locked|busy/i);
    }
    assert.deepEqual(r.failed, [3], 'one failed batch of three');
    assert.equal(r.canvas.seq, 1, 'no seq consumed');
    assert.deepEqual(r.canvas.toGrid(), gridBefore, 'grid untouched');
    assert.deepEqual(seqsOf(r.canvas), lastSeqBefore);
    assert.deepEqual(r.canvas.takeChanges(), [], 'no cell marked changed for the next tick');

    lock.release();
    const after: PlacementOutcome[] = [];
    for (const x of [1, 2, 3]) r.committer.submit(req(x, 6, 4), (o) => after.push(o));
    assert.deepEqual(
      after.map((o) => o.ok && o.seq),
      [2, 3, 4],
      'no gap left by the failed batch',
    );
    assert.deepEqual(
      rows(r.store).map((row) => row.seq),
      [1, 2, 3, 4],
    );
  },
);

test('commitNow commits after everything queued, in one transaction of its own', (t) => {
  const r = rig(t, { commitDelayMs: 60_000 });
  let queued: PlacementOutcome | undefined;
  r.committer.submit(req(7, 7, 1), (o) => (queued = o));
  const ok = r.committer.commitNow([req(0, 0, 2), req(1, 0, 2), req(2, 0, 2)]);
  assert.equal(queued?.ok && queued.seq, 1, 'queued before commitNow: committed before it');
  assert.equal(ok.ok && ok.seq, 4, 'the outcome of the last request');
  assert.deepEqual(Array.from(r.canvas.toGrid().subarray(0, 3)), [2, 2, 2]);
  assert.deepEqual(r.committed, [1, 3], 'the queued batch, then commitNow as one batch');
  const empty = r.committer.commitNow([]);
  assert.equal(empty.ok && empty.seq, 4, 'nothing to commit: the current seq');
});

test('commitNow is all or nothing: a database that fills up in the middle stores and applies none of it', (t) => {
  const r = rig(t);
  assert.ok(r.committer.commitNow([req(0, 0, 1)]).ok);
  // A real SQLITE_FULL part-way through: the file may grow by 4 pages (16 KiB) and the batch needs
  // about 50 (100 rows of 2 KB each).
  const pages = r.store.db.pragma('page_count', { simple: true }) as number;
  r.store.db.pragma(`max_page_count = ${pages + 4}`);
  const big = Array.from({ length: 100 }, (_, i) => req(i % W, 1 + (i % (H - 1)), 3, 'w'.repeat(2000)));
  const gridBefore = r.canvas.toGrid();

  const refused = r.committer.commitNow(big);
  assert.equal(!refused.ok && refused.code, ErrorCode.STORE_FAILED);
  assert.match(!refused.ok ? refused.message : '', /full/i);
  assert.deepEqual(
    rows(r.store).map((row) => row.seq),
    [1],
    'not one row of the batch stored',
  );
  assert.equal(r.canvas.seq, 1);
  assert.deepEqual(r.canvas.toGrid(), gridBefore, 'not one pixel applied');

  r.store.db.pragma('max_page_count = 1073741823');
  const ok = r.committer.commitNow(big);
  assert.equal(ok.ok && ok.seq, 101);
  assert.equal(rows(r.store).length, 101);
});

test('commitNow while another connection holds the write lock fails with store_failed, with what was queued', (t) => {
  const r = rig(t, { commitDelayMs: 60_000 });
  let queued: PlacementOutcome | undefined;
  r.committer.submit(req(7, 7, 1), (o) => (queued = o));
  const lock = holdWriteLock(t, r.dbPath);
  const refused = r.committer.commitNow([req(0, 0, 2), req(1, 0, 2)]);
  assert.equal(!refused.ok && refused.code, ErrorCode.STORE_FAILED);
  assert.equal(
    !queued?.ok && queued?.code,
    ErrorCode.STORE_FAILED,
    'the queued placement went first, into the same locked database',
  );
  assert.deepEqual(r.failed, [1, 2]);
  assert.equal(r.canvas.seq, 0);
  assert.deepEqual(Array.from(r.canvas.toGrid().subarray(0, 2)), [0, 0]);
  lock.release();
  const ok = r.committer.commitNow([req(0, 0, 2), req(1, 0, 2)]);
  assert.equal(ok.ok && ok.seq, 2, 'the seqs the failure did not use');
});

test('close commits what is queued, then submit answers shutting_down at once and stores nothing', (t) => {
  const r = rig(t, { commitDelayMs: 60_000 });
  const outcomes: PlacementOutcome[] = [];
  r.committer.submit(req(1, 1, 1), (o) => outcomes.push(o));
  r.committer.close();
  assert.equal(outcomes.length, 1, 'queued before close: answered by close');
  assert.equal(outcomes[0]?.ok && outcomes[0].seq, 1);
  r.committer.submit(req(2, 2, 2), (o) => outcomes.push(o));
  assert.equal(outcomes.length, 2, 'answered synchronously, not queued');
  const late = outcomes[1] as PlacementOutcome;
  assert.equal(!late.ok && late.code, ErrorCode.SHUTTING_DOWN);
  assert.equal(rows(r.store).length, 1);
  assert.equal(r.canvas.get(2, 2), 0);
});

test('a callback that throws does not stop the other callbacks of its batch', (t) => {
  const r = rig(t, { commitBatch: 3 });
  const seen: number[] = [];
  const boom = new Error('caller bug');
  r.committer.submit(req(0, 0, 1), (o) => seen.push(o.ok ? o.seq : -1));
  r.committer.submit(req(1, 0, 1), () => {
    throw boom;
  });
  r.committer.submit(req(2, 0, 1), (o) => seen.push(o.ok ? o.seq : -1));
  assert.deepEqual(seen, [1, 3], 'the callbacks before and after the throwing one ran');
  assert.deepEqual(r.callbackErrors, [boom]);
  assert.equal(r.canvas.seq, 3, 'the batch stays committed');
});
