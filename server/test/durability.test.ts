import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../protocol/messages.ts';
import { fetchImageGrid, startTestServer, tempDir, TestClient } from '../../testkit/fixture.ts';
import { rmSync } from 'node:fs';

async function placeMany(ws: string, count: number, width: number, height: number): Promise<number> {
  const c = await TestClient.connect(ws);
  let lastSeq = 0;
  for (let i = 0; i < count; i++) {
    c.send({ t: 'place', id: i, x: (i * 7) % width, y: (i * 13) % height, c: (i * 3) % 16 });
  }
  for (let i = 0; i < count; i++) lastSeq = Math.max(lastSeq, (await c.nextOf('ack')).seq);
  await c.close();
  return lastSeq;
}

for (const snapshotEvery of [100_000, 97]) {
  test(`restart restores the exact grid and seq (snapshot every ${snapshotEvery})`, async (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const first = await startTestServer({ width: 37, height: 23, snapshotEvery }, dir);
    const lastSeq = await placeMany(first.ws, 500, 37, 23);
    const grid = first.server.canvas.toGrid();
    assert.equal(first.server.canvas.seq, lastSeq);
    await first.stop();

    const second = await startTestServer({ width: 37, height: 23, snapshotEvery }, dir);
    assert.equal(second.server.canvas.seq, lastSeq);
    assert.deepEqual(second.server.canvas.toGrid(), grid);
    assert.deepEqual(await fetchImageGrid(second), grid, 'the served PNG matches too');
    // History continues without a gap.
    const c = await TestClient.connect(second.ws);
    c.send({ t: 'place', id: 1, x: 0, y: 0, c: 1 });
    assert.equal((await c.nextOf('ack')).seq, lastSeq + 1);
    await c.close();
    await second.stop();
  });
}

test('a placement whose commit fails (database locked) is not acked and not shown; the server recovers', async (t) => {
  const ts = await startTestServer({ width: 16, height: 16, busyTimeoutMs: 20 });
  const blocker = new Database(ts.config.db);
  t.after(async () => {
    blocker.close();
    await ts.dispose();
  });
  const c = await TestClient.connect(ts.ws);
  c.send({ t: 'place', id: 1, x: 2, y: 3, c: 4 });
  assert.equal((await c.nextOf('ack')).seq, 1);
  await c.pngAtLeast(1);

  blocker.exec('BEGIN IMMEDIATE'); // holds SQLite's write lock, as another process could
  c.send({ t: 'place', id: 2, x: 5, y: 5, c: 9 });
  const err = await c.nextOf('error');
  assert.equal(err.code, ErrorCode.STORE_FAILED);
  assert.equal(err.id, 2);
  assert.ok(!c.received.some((m) => m.t === 'ack' && m.id === 2), 'never acked');
  assert.equal(ts.server.canvas.seq, 1, 'seq unchanged');
  assert.equal(ts.server.canvas.get(5, 5), 0, 'grid unchanged');
  blocker.exec('ROLLBACK');

  // A tick passes without the failed pixel; then the same placement succeeds once the lock is gone.
  const etag = (await fetch(`${ts.http}/image`)).headers.get('etag');
  assert.equal((await fetchImageGrid(ts))[5 * 16 + 5], 0);
  c.send({ t: 'place', id: 3, x: 5, y: 5, c: 9 });
  const ack = await c.nextOf('ack');
  assert.equal(ack.seq, 2, 'no gap left by the failed batch');
  await c.pngAtLeast(2);
  assert.notEqual((await fetch(`${ts.http}/image`)).headers.get('etag'), etag);
  assert.equal((await fetchImageGrid(ts))[5 * 16 + 5], 9);
  const rows = blocker.prepare('SELECT seq, x, y, color FROM placements ORDER BY seq').all();
  assert.deepEqual(
    rows,
    [
      { seq: 1, x: 2, y: 3, color: 4 },
      { seq: 2, x: 5, y: 5, color: 9 },
    ],
    'history holds exactly the acked placements',
  );
  await c.close();
});
