/**
 * Tiles through an edge: the edge has no grid and forwards each tile request to the writer over the
 * bus, so it serves the writer's bytes under the writer's ETag (and its own 304s), and /api/canvas
 * says the same as the writer's. Real redis-server, writer and edge processes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type SmallCluster, startCluster } from '../../testkit/cluster.ts';
import { TestClient } from '../../testkit/fixture.ts';
import type { StartedServer } from '../../testkit/server-process.ts';

const common = { 'tick-ms': 50 };

describe('tiles through an edge', () => {
  let cluster: SmallCluster;
  let writer: StartedServer;
  let edge: StartedServer;

  before(async () => {
    cluster = await startCluster(common, { width: 700, height: 300, 'cooldown-ms': 0 });
    ({ writer, edge } = cluster);
  });
  after(() => cluster?.stop());

  test('the edge serves the same tile bytes and ETag as the writer, and answers If-None-Match itself', async () => {
    const watcher = await TestClient.connect(edge.ws);
    let seq = 0;
    for (const [x, y, color] of [
      [0, 0, 3],
      [255, 255, 4],
      [256, 256, 5],
      [699, 299, 6],
      [600, 10, 7],
    ] as const) {
      const res = await fetch(`${edge.http}/api/pixel`, {
        method: 'POST',
        body: JSON.stringify({ x, y, color }),
        headers: { 'Content-Type': 'application/json' },
      });
      assert.equal(res.status, 200, await res.clone().text());
      seq = ((await res.json()) as { seq: number }).seq;
    }
    await watcher.pngAtLeast(seq);
    await watcher.close();
    const paths = ['/tiles/0/0/0.png', '/tiles/0/1/1.png', '/tiles/0/2/1.png', '/tiles/1/1/0.png', '/tiles/2/0/0.png'];
    for (const path of paths) {
      const [fromWriter, fromEdge] = await Promise.all([fetch(`${writer.http}${path}`), fetch(`${edge.http}${path}`)]);
      assert.equal(fromEdge.status, 200, path);
      assert.equal(fromEdge.headers.get('etag'), fromWriter.headers.get('etag'), path);
      assert.equal(fromEdge.headers.get('cache-control'), 'public, max-age=1');
      assert.deepEqual(Buffer.from(await fromEdge.arrayBuffer()), Buffer.from(await fromWriter.arrayBuffer()), path);
      const etag = fromEdge.headers.get('etag') ?? '';
      const again = await fetch(`${edge.http}${path}`, { headers: { 'If-None-Match': etag } });
      assert.equal(again.status, 304, path);
    }
    const bad = await fetch(`${edge.http}/tiles/0/3/0.png`);
    assert.equal(bad.status, 404);
    assert.equal(((await bad.json()) as { error: string }).error, 'not_found');

    const [w, e] = await Promise.all([fetch(`${writer.http}/api/canvas`), fetch(`${edge.http}/api/canvas`)]);
    assert.equal(e.headers.get('etag'), w.headers.get('etag'));
    const info = (await e.json()) as Record<string, unknown>;
    assert.deepEqual(info, await w.json());
    assert.equal(info.seq, seq);
    assert.equal(info.width, 700);
  });
});
