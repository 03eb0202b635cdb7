/**
 * Cooldowns survive a failover: the standby keeps the cooldown window's placements as it follows the
 * log (placement/recent-placements.ts) and the leader it becomes starts from them. Real processes:
 * two `--role writer` processes on a real redis-server, an edge; the leader is SIGKILLed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { healthOf, leaderAndStandby, pollUntil, startWriterPair, type WriterPair } from '../../testkit/cluster.ts';
import { httpRequest } from '../../testkit/fixture.ts';

const COOLDOWN_MS = 120_000;
const flags = { 'tick-ms': 200, 'cooldown-ms': COOLDOWN_MS, 'address-placements': 1, 'log-level': 'info' };
const until = pollUntil(20_000);

let pair: WriterPair;

before(async () => {
  pair = await startWriterPair(
    { ...flags, width: 32, height: 32, 'lease-ms': 1000 },
    { ...flags, 'writer-timeout-ms': 1500 },
  );
});
after(() => pair?.stop());

/** POST /api/pixel through the edge from `from` (each address its own network key). */
const place = (from: string, x: number) =>
  httpRequest(`${pair.edge.http}/api/pixel`, {
    method: 'POST',
    body: JSON.stringify({ x, y: 1, color: 3 }),
    from,
    fresh: true,
  }).catch(() => ({ status: 0, body: '', json: (): Record<string, unknown> => ({}) }));

test('a new leader holds back the addresses and identities whose cooldown ran on the old leader', async () => {
  const { leader, standby } = await leaderAndStandby(pair.writers, until);
  const first = await place('127.0.0.1', 1);
  assert.equal(first.status, 200, first.body);
  const { seq, next } = first.json() as { seq: number; next: number };
  const held = await place('127.0.0.1', 2);
  assert.equal(held.status, 429, 'the address is in its cooldown');
  await until('the standby followed the placement', async () => Number((await healthOf(standby)).seq) >= seq);

  await leader.kill();
  await until('the standby leads', async () => (await healthOf(standby)).lease === 'leader');
  // Another address places at once: the new leader takes placements (retried while the edge learns of it).
  const deadline = Date.now() + 20_000;
  let other = await place('127.0.0.2', 3);
  while (other.status !== 200 && Date.now() < deadline) {
    await sleep(100);
    other = await place('127.0.0.2', 3);
  }
  assert.equal(other.status, 200, other.body);
  const again = await place('127.0.0.1', 4);
  assert.equal(again.status, 429, again.body);
  const refusal = again.json() as { error: string; wait?: number; limit?: string };
  assert.equal(refusal.error, 'cooldown');
  assert.equal(refusal.limit, 'network');
  const ends = Date.now() + Number(refusal.wait);
  assert.ok(Math.abs(ends - next) < 2_000, `the cooldown ends ${ends - next} ms from where the old leader put it`);
});
