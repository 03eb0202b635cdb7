/**
 * Edges may follow the writer from a Redis replica (--redis-replica): Redis replicates PUBLISH, so
 * the primary sends each tick once per replica instead of once per edge, while requests still go to
 * the primary. Real primary and replica processes.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { startEdge, startWriter } from '../../testkit/cluster.ts';
import { httpRequest, tempDir } from '../../testkit/fixture.ts';
import { startRedis } from '../../testkit/redis.ts';
import { image, imageAtLeast } from '../../testkit/image-probe.ts';

test('an edge following a replica serves the writer frames and forwards placements to the primary', async (t) => {
  const primary = await startRedis();
  const replica = await startRedis(undefined, primary.port);
  const dir = tempDir();
  const writer = await startWriter(primary.url, `${dir}/canvas.db`, {
    width: 16,
    height: 16,
    'tick-ms': 200,
    'cooldown-ms': 0,
  });
  const edge = await startEdge(primary.url, { 'redis-replica': replica.url, 'tick-ms': 200 });
  const clients = [new Redis(primary.url), new Redis(replica.url)];
  t.after(async () => {
    for (const c of clients) c.disconnect();
    await Promise.all([edge.stop(), writer.stop()]);
    await Promise.all([replica.stop(), primary.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const placed = await httpRequest(`${edge.http}/api/pixel`, {
    method: 'POST',
    body: JSON.stringify({ x: 1, y: 2, color: 3 }),
  });
  assert.equal(placed.status, 200, placed.body);
  const seq = Number(placed.json().seq);
  const [fromEdge, fromWriter] = [await imageAtLeast(edge.http, seq), await imageAtLeast(writer.http, seq)];
  assert.equal(fromEdge.etag, fromWriter.etag);
  assert.ok(Buffer.from(fromEdge.png).equals(Buffer.from((await image(writer.http)).png)));

  // The edge listens for ticks on the replica only.
  const subscribers = await Promise.all(
    clients.map((c) => c.pubsub('NUMSUB', 'canvas:ticks') as Promise<[string, number]>),
  );
  assert.deepEqual(
    subscribers.map(([, n]) => n),
    [0, 1],
  );
});
