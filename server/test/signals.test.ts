/**
 * Moderators' bot-like signals: identities per address prefix, and how often an identity places the
 * moment its cooldown ends. Unit (times given) and through GET /api/admin/signals on a real server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Signals } from '../placement/signals.ts';
import { httpRequest, startTestServer } from '../../testkit/fixture.ts';

test('a script placing at the cooldown and a prefix minting identities stand out; a human does not', () => {
  const s = new Signals(5000);
  const t0 = 1_700_000_000_000;
  for (let i = 0; i < 10; i++) s.placed('b0', '203.0.113.0/24', t0 + i * 5010); // 10 ms after each cooldown
  for (const [i, gap] of [7000, 12_000, 5600, 30_000].entries()) s.placed('h1', '198.51.100.7/32', t0 + i * gap);
  for (let i = 0; i < 30; i++) s.placed(`m${i}`, '192.0.2.0/24', t0 + i);
  const top = s.top(3);
  assert.deepEqual(
    top.prefixes.map((p) => [p.prefix, p.identities]),
    [
      ['192.0.2.0/24', 30],
      ['203.0.113.0/24', 1],
      ['198.51.100.7/32', 1],
    ],
  );
  assert.equal(top.identities[0]?.id, 'b0');
  assert.equal(top.identities[0]?.atCooldownShare, 1);
  const human = top.identities.find((i) => i.id === 'h1');
  assert.ok(human && human.atCooldownShare < 0.5, JSON.stringify(human));
});

test('GET /api/admin/signals lists prefixes by identities, only for the admin', async (t) => {
  const ts = await startTestServer({ adminToken: 'sesame', addressPlacements: 100, cooldownMs: 1000 });
  t.after(() => ts.dispose());
  for (let i = 0; i < 4; i++) {
    const placed = await httpRequest(`${ts.http}/api/pixel`, {
      method: 'POST',
      body: JSON.stringify({ x: i, y: 0, color: 1 }),
      from: '127.0.0.30',
    });
    assert.equal(placed.status, 200, placed.body);
  }
  const refused = await httpRequest(`${ts.http}/api/admin/signals`);
  assert.equal(refused.status, 401);
  const res = await httpRequest(`${ts.http}/api/admin/signals?limit=5`, {
    headers: { Authorization: 'Bearer sesame' },
  });
  assert.equal(res.status, 200, res.body);
  const body = res.json() as { prefixes: Array<{ prefix: string; identities: number; placements: number }> };
  assert.deepEqual(body.prefixes[0], { ...body.prefixes[0], prefix: '127.0.0.30/32', identities: 4, placements: 4 });
});
