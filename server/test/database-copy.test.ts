/**
 * A standby the replicated log cannot bring up to date (started empty beside a leader whose log was
 * trimmed to --log-max-len) asks the leader for a copy of its database through Redis
 * (bus/database-copy.ts), puts it in place, follows the log from there, and can take over: every
 * placement the leader acknowledged is on its canvas.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { healthOf, pollUntil, startWriter } from '../../testkit/cluster.ts';
import { httpRequest, tempDir } from '../../testkit/fixture.ts';
import { startRedis, type TestRedis } from '../../testkit/redis.ts';
import type { StartedServer } from '../../testkit/server-process.ts';

const SIZE = 64;
const writerFlags = {
  'tick-ms': 200,
  'cooldown-ms': 0,
  'log-level': 'info',
  width: SIZE,
  height: SIZE,
  'lease-ms': 1000,
  'log-max-len': 100,
};

const until = pollUntil(30_000);

let redis: TestRedis;
let dir = '';
const writers: StartedServer[] = [];

before(async () => {
  redis = await startRedis();
  dir = tempDir();
});
after(async () => {
  await Promise.all(writers.map((w) => w.stop()));
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a standby started empty beside a trimmed log takes a copy of the leader database, catches up and leads with every ack', async () => {
  const a = await startWriter(redis.url, `${dir}/a.db`, writerFlags);
  writers.push(a);
  const acked = new Map<number, { x: number; y: number; color: number }>();
  const place = async (i: number) => {
    const p = { x: i % SIZE, y: Math.floor(i / SIZE) % SIZE, color: i % 16 };
    const r = await httpRequest(`${a.http}/api/pixel`, { method: 'POST', body: JSON.stringify(p) });
    assert.equal(r.status, 200, r.body);
    acked.set(Number(r.json().seq), p);
  };
  // One placement per batch, so one log entry each: far more than --log-max-len 100 keeps.
  for (let i = 0; i < 400; i++) await place(i);
  const client = new Redis(redis.url);
  try {
    const [first] = (await client.xrange('canvas:log', '-', '+', 'COUNT', 1)) as Array<[string, string[]]>;
    assert.ok(first, 'the log has entries');
    assert.ok((await client.xlen('canvas:log')) < 400, 'the log was trimmed');
  } finally {
    client.disconnect();
  }
  const b = await startWriter(redis.url, `${dir}/b.db`, writerFlags);
  writers.push(b);
  await until('the empty standby took a copy and caught up', async () => {
    const h = (await healthOf(b)) as { lease?: string; behind?: number; seq?: number };
    return h.lease === 'standby' && h.behind === 0 && h.seq === (await healthOf(a)).seq;
  });
  assert.ok(
    b.lines().some((l) => l.includes('received a copy of the leader database')),
    'the standby says it took a copy',
  );
  // Placements after the copy come through the log.
  for (let i = 400; i < 420; i++) await place(i);
  await until('the standby follows the log after the copy', async () => (await healthOf(b)).seq === 420);
  await a.kill();
  writers.splice(writers.indexOf(a), 1);
  await until('the copied standby leads', async () => (await healthOf(b)).lease === 'leader');
  await b.stop();
  writers.splice(writers.indexOf(b), 1);
  const db = new Database(`${dir}/b.db`, { readonly: true });
  try {
    const row = db.prepare('SELECT x, y, color FROM placements WHERE seq = ?');
    for (const [seq, p] of acked) assert.deepEqual(row.get(seq), p, `acked seq ${seq}`);
  } finally {
    db.close();
  }
});
