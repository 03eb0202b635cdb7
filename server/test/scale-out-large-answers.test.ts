/**
 * A history answer larger than Redis's pub/sub output-buffer limit: published as it is, it would make
 * Redis disconnect the edge's subscriber (the answer lost, the client waiting for a timeout, every
 * placement in flight answered `unavailable`). The writer stores such answers under a key and the
 * edge reads them from there. Redis here runs with its pub/sub limit scaled down from 32 MB to 16 KB,
 * and the canvas holds noise, so its PNG is larger than that.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { PALETTE_2017 } from '../config/palette.ts';
import { Store, type PlacementRow } from '../store/store.ts';
import { startEdge, startWriter } from '../../testkit/cluster.ts';
import { httpRequest, tempDir } from '../../testkit/fixture.ts';
import { startRedis } from '../../testkit/redis.ts';
import { Rng } from '../../testkit/rng.ts';

const SIZE = 200;
const PLACEMENTS = 40_000;

/** A database whose canvas is random noise: its PNG barely compresses (about 20 KB). */
function noisyCanvas(path: string): void {
  const store = Store.open({
    path,
    width: SIZE,
    height: SIZE,
    paletteSize: PALETTE_2017.length,
    synchronous: 'NORMAL',
    busyTimeoutMs: 1000,
  });
  const rng = new Rng(7);
  const rows: PlacementRow[] = [];
  for (let seq = 1; seq <= PLACEMENTS; seq++) {
    const x = rng.int(SIZE);
    const y = rng.int(SIZE);
    const color = rng.int(PALETTE_2017.length);
    rows.push({ seq, x, y, color, who: 'n0153', addr: '', at: 1_700_000_000_000 + seq, nextAt: 0, prevSeq: 0 });
  }
  store.commit(rows);
  store.close();
}

test('a history answer over the pub/sub limit reaches the client through an edge, and the edge keeps following', async (t) => {
  const redis = await startRedis(undefined, undefined, undefined, [
    '--client-output-buffer-limit',
    'pubsub 16kb 8kb 60',
  ]);
  const dir = tempDir();
  const db = `${dir}/canvas.db`;
  noisyCanvas(db);
  const writer = await startWriter(redis.url, db, { width: SIZE, height: SIZE, 'tick-ms': 200, 'cooldown-ms': 0 });
  const edge = await startEdge(redis.url, { 'writer-timeout-ms': 3000 });
  t.after(async () => {
    await Promise.all([edge.stop(), writer.stop()]);
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const path = `/api/history/image?seq=${PLACEMENTS}`;
  const direct = await fetch(`${writer.http}${path}`);
  assert.equal(direct.status, 200);
  const expected = Buffer.from(await direct.arrayBuffer());
  assert.ok(expected.length > 16 * 1024, `the answer (${expected.length} bytes) must be over the limit`);

  const viaEdge = await fetch(`${edge.http}${path}`);
  assert.equal(viaEdge.status, 200, await viaEdge.clone().text());
  assert.ok(Buffer.from(await viaEdge.arrayBuffer()).equals(expected), 'the same bytes as the writer');

  // The edge's subscriber was not cut off: its health says Redis and the writer are up, and it
  // still places. Health is read first: the placement's own tick is a frame with this canvas's
  // ~20 KB PNG, which the scaled-down limit cuts off in turn (a limit no real deployment has), so a
  // health read after it raced that tick.
  const health = (await httpRequest(`${edge.http}/healthz`)).json();
  assert.equal(health.redis, true);
  assert.equal(health.writer, true);
  const placed = await httpRequest(`${edge.http}/api/pixel`, {
    method: 'POST',
    body: JSON.stringify({ x: 1, y: 1, color: 2 }),
  });
  assert.equal(placed.status, 200, placed.body);
});
