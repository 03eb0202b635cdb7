/**
 * Stats through an edge: players place through the edge, a moderator rolls one back and wipes through
 * it, and the edge's `GET /api/stats` and `/api/stats/me` equal a recount from the writer's database,
 * also after the writer restarts on the same file. Real redis-server, writer and edge processes.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startEdge, startWriter } from '../../testkit/cluster.ts';
import { httpRequest, tempDir } from '../../testkit/fixture.ts';
import { startRedis, type TestRedis } from '../../testkit/redis.ts';
import type { StartedServer } from '../../testkit/server-process.ts';
import { recountIdentity, recountStats, statsSince } from '../../testkit/stats-recount.ts';

const ADMIN = 'stats-admin-token';
const common = { 'tick-ms': 100, 'admin-token': ADMIN, 'log-level': 'info' };
const writerFlags = { ...common, width: 16, height: 16, 'cooldown-ms': 0 };
const PALETTE_SIZE = 16;

describe('stats through an edge', () => {
  let redis: TestRedis;
  let dir = '';
  let db = '';
  let writer: StartedServer;
  let edge: StartedServer;

  before(async () => {
    redis = await startRedis();
    dir = tempDir();
    db = `${dir}/canvas.db`;
    writer = await startWriter(redis.url, db, writerFlags);
    edge = await startEdge(redis.url, common);
  });
  after(async () => {
    await Promise.all([edge?.stop(), writer?.stop()]);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown, headers: Record<string, string>) =>
    httpRequest(`${edge.http}${path}`, { method: 'POST', body: JSON.stringify(body), headers });

  async function assertRecount(ids: readonly string[]): Promise<void> {
    const { at, ...served } = await statsSince(edge.http, Date.now());
    assert.deepEqual(served, recountStats(db, at, PALETTE_SIZE));
    for (const id of ids) {
      const me = await httpRequest(`${edge.http}/api/stats/me?id=${id}`);
      assert.equal(me.status, 200, me.body);
      assert.deepEqual(me.json(), recountIdentity(db, id));
    }
  }

  test('placements, a rollback and a wipe through the edge; the edge answers what the writer recounts, before and after a writer restart', async () => {
    const players = await Promise.all(
      [1, 2, 3].map(async () => (await post('/api/session', {}, {})).json() as { id: string; token: string }),
    );
    for (let i = 0; i < 30; i++) {
      const p = players[i % 5 === 0 ? 0 : ((i % 3) as 0 | 1 | 2)] as { token: string };
      const res = await post(
        '/api/pixel',
        { x: i % 16, y: (i * 7) % 16, color: i % PALETTE_SIZE },
        {
          Cookie: `canvas_token=${p.token}`,
        },
      );
      assert.equal(res.status, 200, res.body);
    }
    const ids = players.map((p) => p.id);
    await assertRecount(ids);

    const auth = { Authorization: `Bearer ${ADMIN}` };
    const rollback = await post('/api/admin/rollback', { id: ids[1], since: 0 }, auth);
    assert.equal(rollback.status, 200, rollback.body);
    const wipe = await post('/api/admin/wipe', { x: 0, y: 0, width: 3, height: 3, color: 0 }, auth);
    assert.equal(wipe.status, 200, wipe.body);
    await assertRecount(ids);

    const me = await httpRequest(`${edge.http}/api/stats/me`, {
      headers: { Cookie: `canvas_token=${(players[0] as { token: string }).token}` },
    });
    assert.deepEqual(me.json(), recountIdentity(db, ids[0] as string));

    const cached = await httpRequest(`${edge.http}/api/stats`);
    assert.equal(cached.headers['cache-control'], 'public, max-age=1');
    const etag = cached.headers.etag ?? '';
    assert.equal((await httpRequest(`${edge.http}/api/stats`, { headers: { 'If-None-Match': etag } })).status, 304);

    await writer.stop();
    writer = await startWriter(redis.url, db, writerFlags);
    await assertRecount(ids);
  });
});
