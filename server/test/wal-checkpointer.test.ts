/**
 * WAL checkpoints in a thread (store/wal-checkpointer.ts): the main connection stops checkpointing in
 * its commits, the thread copies the WAL into the database file while commits go on, a last
 * checkpoint runs at stop, and a thread that cannot run gives the automatic checkpoint back.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../testkit/fixture.ts';
import { type PlacementRow, Store } from '../store/store.ts';
import { type CheckpointReport, WalCheckpointer } from '../store/wal-checkpointer.ts';

const W = 64;
const H = 64;

function open(path: string): Store {
  return Store.open({ path, width: W, height: H, paletteSize: 16, synchronous: 'NORMAL', busyTimeoutMs: 5000 });
}

function rows(from: number, n: number): PlacementRow[] {
  return Array.from({ length: n }, (_, i) => {
    const seq = from + i;
    return {
      seq,
      x: seq % W,
      y: (seq >> 6) % H,
      color: seq % 16,
      who: 'aaaaaaaaaaaaaaaa',
      addr: 'a',
      at: seq,
      nextAt: 0,
      prevSeq: 0,
    };
  });
}

test('the thread checkpoints while commits go on; the main connection does not; stop runs a last one', async (t) => {
  const path = join(tempDir(), 'canvas.db');
  const store = open(path);
  t.after(() => store.close());
  const reports: Array<Extract<CheckpointReport, { t: 'checkpointed' }>> = [];
  const errors: Error[] = [];
  const checkpointer = WalCheckpointer.start(store, {
    path,
    busyTimeoutMs: 5000,
    synchronous: 'NORMAL',
    everyMs: 20,
    onError: (err) => errors.push(err),
    onCheckpoint: (r) => reports.push(r),
  });
  assert.ok(checkpointer);
  assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 0, 'no checkpoint inside a commit');

  // Well past SQLite's 1,000-page automatic threshold, in batches as the committer writes them.
  let seq = 1;
  for (let batch = 0; batch < 400; batch++) {
    store.commit(rows(seq, 500));
    seq += 500;
    if (batch % 20 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  await checkpointer.stop();
  assert.deepEqual(errors, []);
  assert.ok(
    reports.some((r) => r.pages > 0),
    `the thread copied pages: ${JSON.stringify(reports.slice(-3))}`,
  );
  const last = reports.at(-1);
  assert.ok(last && last.pages === last.walPages, `the last checkpoint copied the whole WAL: ${JSON.stringify(last)}`);
  const count = store.db.prepare('SELECT COUNT(*) FROM placements').pluck().get();
  assert.equal(count, seq - 1, 'every row is there');
});

test('a checkpoint thread that cannot open the database reports it and gives the automatic checkpoint back', async (t) => {
  const dir = tempDir();
  const store = open(join(dir, 'canvas.db'));
  t.after(() => store.close());
  // The thread does not keep the process alive (a server's sockets do): this timer does, meanwhile.
  const alive = setInterval(() => {}, 1000);
  t.after(() => clearInterval(alive));
  const lost = new Promise<Error>((resolve) => {
    WalCheckpointer.start(store, {
      path: join(dir, 'missing.db'),
      busyTimeoutMs: 5000,
      synchronous: 'NORMAL',
      onError: resolve,
    });
  });
  assert.match((await lost).message, /stopped \(SQLITE_CANTOPEN\)/);
  assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 1000);
});
