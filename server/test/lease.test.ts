/**
 * The writer lease (bus/lease.ts) against a real redis-server: what a standby's look tells apart. A
 * lease that expired by itself (its holder stopped renewing for a whole lease) or was released may
 * be taken at once; a key that vanished early (FLUSHALL, eviction) may belong to a live leader about
 * to put it back, so it does not count as expired.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { leaseKeys, WriterLease } from '../bus/lease.ts';
import { connectRedis, type RedisLink, whenReady } from '../bus/redis-link.ts';
import { createLogger } from '../ops/log.ts';
import { startRedis, type TestRedis } from '../../testkit/redis.ts';

const LEASE_MS = 400;
const log = createLogger('silent');
let redis: TestRedis;
const links: RedisLink[] = [];
const leases: WriterLease[] = [];

async function link(): Promise<RedisLink> {
  const l = connectRedis(redis.url, 'lease-test', log);
  links.push(l);
  await whenReady(l);
  return l;
}

async function lease(prefix: string): Promise<{ lease: WriterLease; link: RedisLink }> {
  const l = await link();
  const made = new WriterLease(l, leaseKeys(prefix), LEASE_MS, () => {});
  leases.push(made);
  return { lease: made, link: l };
}

before(async () => {
  redis = await startRedis();
});
after(async () => {
  // A holder whose connection closed still has its renew timer (a dead process has none): stopped
  // here, or it would keep this test's process alive.
  await Promise.all(leases.map((l) => l.release()));
  await Promise.all(links.map((l) => l.close().catch(() => undefined)));
  await redis?.stop();
});

test('a lease whose holder stopped renewing is seen expired once its key ran out, and is then taken with a newer epoch', async () => {
  const holder = await lease('expire');
  const standby = await lease('expire');
  assert.equal(await holder.lease.tryAcquire(0), true);
  const held = await standby.lease.look();
  assert.ok(held.held && held.epoch === 1 && held.ttlMs > 0 && held.ttlMs <= LEASE_MS, JSON.stringify(held));
  // The holder's process dies: its connection closes and nothing renews the key.
  await holder.link.close();
  let look = await standby.lease.look();
  while (look.held) {
    await sleep(look.ttlMs + 1);
    look = await standby.lease.look();
  }
  assert.deepEqual(look, { held: false, expired: true });
  assert.equal(await standby.lease.tryAcquire(1), true);
  assert.equal(standby.lease.epoch, 2);
  await standby.lease.release();
  await holder.lease.release(); // stops its renew timer (its link is closed: nothing is sent)
});

test('a key that vanished while its holder lives (FLUSHALL) is free but not expired; its holder puts it back', async () => {
  const holder = await lease('flush');
  const standby = await lease('flush');
  assert.equal(await holder.lease.tryAcquire(0), true);
  await standby.link.redis.flushall();
  assert.deepEqual(await standby.lease.look(), { held: false, expired: false });
  // The holder's next renew (every third of the lease) takes it back with the same epoch.
  let look = await standby.lease.look();
  for (let i = 0; !look.held && i < 50; i++) {
    await sleep(LEASE_MS / 10);
    look = await standby.lease.look();
  }
  assert.ok(look.held && look.epoch === holder.lease.epoch, JSON.stringify(look));
  assert.equal(holder.lease.valid, true);
  await holder.lease.release();
});

test('a released lease is expired at once: the releaser acknowledges nothing more', async () => {
  const holder = await lease('release');
  const standby = await lease('release');
  assert.equal(await holder.lease.tryAcquire(0), true);
  await holder.lease.release();
  assert.equal(holder.lease.valid, false);
  assert.deepEqual(await standby.lease.look(), { held: false, expired: true });
});
