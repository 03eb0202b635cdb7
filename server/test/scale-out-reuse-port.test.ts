/**
 * Several edges on one machine share one port with --reuse-port, so every core serves clients: this
 * uWS build (v20.30.0) listens with SO_REUSEPORT unless told to listen exclusively, and the kernel
 * spreads new connections across the listeners. Without the flag a second edge is refused, as a
 * second standalone server is (listen-exclusive.test.ts).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startEdge, startWriter } from '../../testkit/cluster.ts';
import { tempDir } from '../../testkit/fixture.ts';
import { freePort } from '../../testkit/processes.ts';
import { startRedis, type TestRedis } from '../../testkit/redis.ts';
import type { StartedServer } from '../../testkit/server-process.ts';
import { healthOnNewConnection } from './scale-out-kit.ts';

describe('edges sharing a port', () => {
  let redis: TestRedis;
  let writer: StartedServer;
  let dir = '';
  const edges: StartedServer[] = [];

  before(async () => {
    redis = await startRedis();
    dir = tempDir();
    writer = await startWriter(redis.url, `${dir}/canvas.db`, { width: 16, height: 16, 'log-level': 'info' });
  });
  after(async () => {
    await Promise.all([...edges.map((e) => e.stop()), writer?.stop()]);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('with --reuse-port two edges listen on one port and both get connections', async () => {
    const port = await freePort();
    const flags = { port, 'reuse-port': true as const, 'log-level': 'info' };
    edges.push(...(await Promise.all([startEdge(redis.url, flags), startEdge(redis.url, flags)])));
    const seen = new Set<string>();
    // The kernel hashes each connection's addresses to a listener: 64 connections all landing on one
    // of two listeners would be a 1 in 2^63 chance.
    for (let i = 0; i < 64 && seen.size < 2; i++) {
      const health = await healthOnNewConnection(port);
      assert.ok(health, `nothing answers on port ${port}`);
      seen.add(String(health.edge));
    }
    assert.equal(seen.size, 2, 'every connection went to the same edge');
  });

  test('without --reuse-port a second edge on a taken port stops with a one-line error', async () => {
    const port = await freePort();
    const first = await startEdge(redis.url, { port, 'log-level': 'info' });
    edges.push(first);
    await assert.rejects(startEdge(redis.url, { port, 'log-level': 'info' }), /cannot listen on 127\.0\.0\.1:\d+/);
  });
});
