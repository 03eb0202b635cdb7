/**
 * `npm run cluster` (deploy/cluster.ts): a writer and N edges against a given Redis on one machine,
 * the edges sharing one port. Started here as an operator would, against a real redis-server.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../../testkit/fixture.ts';
import { freePort, startChild, tsxCommand } from '../../testkit/processes.ts';
import { REPO_ROOT } from '../../testkit/paths.ts';
import { startRedis } from '../../testkit/redis.ts';
import { healthOnNewConnection as health } from './scale-out-kit.ts';

test('npm run cluster starts a writer and two edges sharing one port, and stops them on SIGTERM', async (t) => {
  const redis = await startRedis();
  const dir = tempDir();
  t.after(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const [port, writerPort] = [await freePort(), await freePort()];
  const [file, ...args] = tsxCommand('deploy/cluster.ts', [
    '--redis',
    redis.url,
    '--edges',
    '2',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--writer-port',
    String(writerPort),
    '--db',
    `${dir}/canvas.db`,
    '--',
    '--width',
    '16',
    '--height',
    '16',
  ]) as [string, ...string[]];
  const cluster = startChild('cluster', file, args, { cwd: REPO_ROOT });
  t.after(() => cluster.stop());

  const edges = new Set<string>();
  const deadline = Date.now() + 60_000;
  while (edges.size < 2 && Date.now() < deadline) {
    const h = await health(port);
    if (h?.role === 'edge') edges.add(String(h.edge));
    else await sleep(100);
  }
  assert.equal(edges.size, 2, `edges seen on port ${port}: ${[...edges].join(', ')}\n${cluster.stdout().slice(-2000)}`);
  // The writer publishes the canvas the edges wait for only once both its Redis links are up.
  const writer = await health(writerPort);
  assert.equal(writer?.role, 'writer', cluster.stdout().slice(-3000));
  assert.equal(writer?.redis, true, JSON.stringify(writer));
  assert.equal(await cluster.stop(), 0, cluster.stdout().slice(-2000));
  assert.equal(await health(port), undefined, 'an edge outlived the cluster command');
});
