/**
 * The moderation console through an edge: a real Redis, a writer and an edge, each the CLI in its own
 * process. Every console route is forwarded to the writer as an admin action (bus-messages.ts checks
 * each field) and answered through the edge with the writer's status and codes (202, 409, 413).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { type SmallCluster, startCluster } from '../../testkit/cluster.ts';
import { httpRequest } from '../../testkit/fixture.ts';
import type { StartedServer } from '../../testkit/server-process.ts';

const ADMIN = 'console-edge-token';
const SIZE = 64;

describe('the moderation console through an edge', () => {
  let cluster: SmallCluster;
  let edge: StartedServer;

  before(async () => {
    cluster = await startCluster(
      { 'tick-ms': 100, 'admin-token': ADMIN, 'cooldown-ms': 0 },
      { width: SIZE, height: SIZE },
    );
    ({ edge } = cluster);
  });
  after(() => cluster?.stop());

  const admin = (path: string, body?: unknown) =>
    httpRequest(`${edge.http}/api/admin/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headers: { Authorization: `Bearer ${ADMIN}` },
    });

  test('look, preview, rollback, its status, 409 and 413, and activity answer through the edge', async () => {
    const session = (await httpRequest(`${edge.http}/api/session`, { method: 'POST' })).json() as {
      id: string;
      token: string;
    };
    await delay(3);
    const since = Date.now();
    for (let i = 0; i < 10; i++) {
      const res = await httpRequest(`${edge.http}/api/pixel`, {
        method: 'POST',
        body: JSON.stringify({ x: i, y: 3, color: 4 }),
        headers: { Cookie: `canvas_token=${session.token}` },
      });
      assert.equal(res.status, 200, res.body);
    }
    const look = await admin(`placements?x=0&y=0&width=${SIZE}&height=${SIZE}&since=${since}&limit=4`);
    assert.equal(look.status, 200, look.body);
    const page = look.json() as { placements: Array<{ x: number; who: string }>; next: number | null };
    assert.deepEqual(
      page.placements.map((p) => p.x),
      [9, 8, 7, 6],
    );
    assert.equal(typeof page.next, 'number');
    const who = (look.json()['identities'] as Array<Record<string, unknown>>)[0];
    assert.equal(who?.['id'], session.id);
    assert.equal(who?.['here'], 10);

    const area = { x: 0, y: 0, width: SIZE, height: SIZE, since, ids: [session.id] };
    const preview = await admin('rollback/preview', area);
    assert.equal(preview.status, 200, preview.body);
    assert.equal(preview.json()['pixels'], 10);
    assert.match(String(preview.json()['after']), /^iVBOR/, 'a base64 PNG');

    // A wipe to roll back, large enough that the second request arrives while the first runs.
    const wipedAt = Date.now();
    assert.equal((await admin('wipe', { x: 0, y: 0, width: SIZE, height: SIZE, color: 7 })).status, 200);
    const wipeArea = { x: 0, y: 0, width: SIZE, height: SIZE, since: wipedAt };
    const [first, second] = await Promise.all([admin('rollback', wipeArea), admin('rollback', wipeArea)]);
    const statuses = [first.status, second.status].sort();
    assert.ok(statuses[0] === 202 && (statuses[1] === 409 || statuses[1] === 202), `${first.body} / ${second.body}`);
    if (statuses[1] === 409)
      assert.equal([first, second].find((r) => r.status === 409)?.json()['error'], 'rollback_running');
    let status: Record<string, unknown>;
    do status = (await admin('rollback')).json();
    while (status['state'] === 'running');
    assert.equal(status['state'], 'done', JSON.stringify(status));

    const tooLarge = await admin('rollback/preview', { x: 0, y: 0, width: 2000, height: 1, since: 0 });
    assert.equal(tooLarge.status, 413, tooLarge.body);
    assert.equal(tooLarge.json()['error'], 'too_large');

    const activity = await admin('activity');
    assert.equal(activity.status, 200, activity.body);
    assert.deepEqual(activity.json()['topPlacers'], [{ id: session.id, n: 10 }]);
  });
});
