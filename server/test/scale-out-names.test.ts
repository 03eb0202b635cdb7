/**
 * Display names and bots in the stats through an edge: a real Redis, a writer and an edge, each the
 * CLI in its own process. A name set through the edge is the writer's (its own `/api/stats` shows
 * it), a taken name's 409 crosses the bus, a bot placing through the edge is listed with its name,
 * and a moderator's clearing through the edge reaches the writer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type SmallCluster, startCluster } from '../../testkit/cluster.ts';
import { httpRequest } from '../../testkit/fixture.ts';
import { statsSince } from '../../testkit/stats-recount.ts';

const ADMIN = 'names-edge-token';

describe('display names through an edge', () => {
  let cluster: SmallCluster;

  before(async () => {
    cluster = await startCluster({ 'tick-ms': 100, 'admin-token': ADMIN, 'cooldown-ms': 0 }, { width: 16, height: 16 });
  });
  after(() => cluster?.stop());

  const edge = () => cluster.edge.http;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    httpRequest(`${edge()}${path}`, { method: 'POST', body: JSON.stringify(body), headers });
  const admin = { Authorization: `Bearer ${ADMIN}` };

  test('a name set through the edge shows in the writer’s stats and the edge’s, beside a bot’s; 409 and a moderator’s clearing cross the bus', async () => {
    const session = async () => (await post('/api/session', {})).json() as { id: string; token: string };
    const [ada, bob] = [await session(), await session()];
    const cookie = (t: string) => ({ Cookie: `canvas_token=${t}` });
    const set = await post('/api/me/name', { name: 'Ada' }, cookie(ada.token));
    assert.equal(set.status, 200, set.body);
    assert.deepEqual(set.json(), { id: ada.id, name: 'Ada' });
    const taken = await post('/api/me/name', { name: 'ADA' }, cookie(bob.token));
    assert.equal(taken.status, 409, taken.body);
    assert.equal(taken.json().error, 'name_taken');

    for (const x of [1, 2, 3])
      assert.equal((await post('/api/pixel', { x, y: 1, color: 2 }, cookie(ada.token))).status, 200);
    const bot = (await post('/api/admin/bots', { name: 'edge-painter', everyMs: 100 }, admin)).json() as {
      id: string;
      token: string;
    };
    const placed = await post('/api/pixel', { x: 4, y: 1, color: 3 }, { Authorization: `Bearer ${bot.token}` });
    assert.equal(placed.status, 200, placed.body);
    const expected = [
      { id: ada.id, placed: 3, name: 'Ada' },
      { id: bot.id, placed: 1, bot: 'edge-painter' },
    ];
    const since = Date.now();
    assert.deepEqual((await statsSince(cluster.writer.http, since)).top, expected, "the writer's own stats");
    assert.deepEqual((await statsSince(edge(), since)).top, expected, "the edge's");
    const me = await httpRequest(`${edge()}/api/stats/me`, { headers: cookie(ada.token) });
    assert.equal(me.json().name, 'Ada');

    const cleared = await post('/api/admin/names/clear', { id: ada.id }, admin);
    assert.equal(cleared.status, 200, cleared.body);
    assert.deepEqual(cleared.json(), { cleared: ada.id, name: 'Ada' });
    const after = await statsSince(cluster.writer.http, Date.now());
    assert.deepEqual(after.top[0], { id: ada.id, placed: 3 });
    assert.equal((await post('/api/me/name', { name: 'Ada' }, cookie(bob.token))).status, 200, 'freed');
  });
});
