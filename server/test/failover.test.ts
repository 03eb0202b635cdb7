/**
 * Writer failover with real processes on a real redis-server: two `--role writer` processes on one
 * prefix (each its own database) and an edge. Exactly one writer leads (bus/lease.ts); the canvas is
 * never split; a leader frozen past its lease (SIGSTOP) acknowledges nothing once thawed; the edge
 * follows the new leader's epoch; the keys come back after a FLUSHALL.
 */
import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  healthOf,
  leaderAndStandby,
  pollUntil,
  startEdge,
  startWriter,
  startWriterPair,
  type WriterPair,
} from '../../testkit/cluster.ts';
import { httpRequest, tempDir } from '../../testkit/fixture.ts';
import { image } from '../../testkit/image-probe.ts';
import { startRedis, type TestRedis } from '../../testkit/redis.ts';
import { loopbackArgs, spawnServer, type StartedServer } from '../../testkit/server-process.ts';

const SIZE = 32;
const LEASE_MS = 1000;
const flags = { 'tick-ms': 200, 'cooldown-ms': 0, 'log-level': 'info' };
const writerFlags = { ...flags, width: SIZE, height: SIZE, 'lease-ms': LEASE_MS };
const edgeFlags = { ...flags, 'writer-timeout-ms': 1500 };

// A new connection per request: a writer that changes role listens anew on its port, and a
// keep-alive connection would stay with the listener it had (uWS.js v20.30.0 cannot close them).
/** POST /api/pixel; status 0 when the connection failed (a writer between its two listeners). */
const place = (server: StartedServer, x: number, y: number, color: number) =>
  httpRequest(`${server.http}/api/pixel`, { method: 'POST', body: JSON.stringify({ x, y, color }), fresh: true }).catch(
    () => ({ status: 0, body: '', json: (): Record<string, unknown> => ({}) }),
  );

const until = pollUntil(15_000);

/** Places through `edge` until one is acked; returns its seq. */
async function placeAcked(edge: StartedServer, x: number, y: number, color: number): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = await place(edge, x, y, color);
    if (r.status === 200) return Number(r.json().seq);
    if (Date.now() > deadline) throw new Error(`no ack within 15 s: ${r.status} ${r.body}`);
    await sleep(50);
  }
}

describe('writer failover: the lease', () => {
  let pair: WriterPair;
  let redis: TestRedis;
  let writers: StartedServer[] = [];
  let edge: StartedServer;

  before(async () => {
    pair = await startWriterPair(writerFlags, edgeFlags);
    ({ redis, writers, edge } = pair);
  });
  after(async () => {
    for (const w of writers) w.proc.kill('SIGCONT');
    await pair?.stop();
  });

  async function roles(): Promise<string[]> {
    const out: string[] = [];
    for (const w of writers) out.push(String((await healthOf(w)).lease));
    return out;
  }

  const leader = () => leaderAndStandby(writers, until);

  test('two writers started at once: one leads, the other stands by and answers nothing but health', async () => {
    const { leader: l, standby } = await leader();
    const lh = await healthOf(l);
    const sh = await healthOf(standby);
    assert.equal(lh.writer, true);
    assert.ok(Number(lh.epoch) >= 1);
    assert.equal(sh.epoch, lh.epoch, 'the standby reports the epoch it sees');
    assert.equal((await place(standby, 1, 1, 1)).status, 503);
    const metrics = (await httpRequest(`${standby.http}/metrics`, { fresh: true })).body;
    assert.match(metrics, /^canvas_writer_leader 0$/m);
    assert.match((await httpRequest(`${l.http}/metrics`, { fresh: true })).body, /^canvas_writer_leader 1$/m);
  });

  test('the canvas is not split: seqs acked through the edge are contiguous and the edge serves one canvas', async () => {
    const { leader: l } = await leader();
    const seqs: number[] = [];
    for (let i = 0; i < 20; i++) seqs.push(await placeAcked(edge, i, 2, 3));
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], (seqs[i - 1] as number) + 1, `seqs ${seqs}`);
    await until(
      'the edge serves the leader frame',
      async () => (await image(edge.http)).etag === (await image(l.http)).etag,
    );
  });

  test('a leader frozen past its lease (SIGSTOP): the standby leads, the edge follows; thawed, it acknowledges nothing', async () => {
    const { leader: old, standby } = await leader();
    const oldEpoch = Number((await healthOf(old)).epoch);
    old.proc.kill('SIGSTOP');
    let thawed = false;
    try {
      await until('the standby leads', async () => (await healthOf(standby)).lease === 'leader');
      const h = await healthOf(standby);
      assert.ok(Number(h.epoch) > oldEpoch, `epoch ${h.epoch} after ${oldEpoch}`);
      await placeAcked(edge, 5, 5, 4);
      await until(
        'the edge serves the new leader frame',
        async () => (await image(edge.http)).etag === (await image(standby.http)).etag,
      );
      old.proc.kill('SIGCONT');
      thawed = true;
      // The first thing it is asked after waking: refused, never acked.
      const r = await place(old, 6, 6, 4);
      assert.notEqual(r.status, 200, `the old leader acked after losing its lease: ${r.body}`);
      await until('the old leader stands by', async () => (await healthOf(old)).lease === 'standby');
      assert.equal((await healthOf(old)).epoch, h.epoch);
      assert.equal((await place(old, 6, 6, 4)).status, 503);
      // The edge still follows the new leader.
      const seq = await placeAcked(edge, 7, 7, 5);
      await until('the edge shows it', async () => (await image(edge.http)).seq >= seq);
      assert.equal((await image(edge.http)).etag, (await image(standby.http)).etag);
      const logged = old.lines().some((line) => line.includes('lost the writer lease'));
      assert.ok(logged, 'the old leader said it lost the lease');
    } finally {
      if (!thawed) old.proc.kill('SIGCONT');
    }
  });

  test('FLUSHALL: the leader writes its keys again and a new edge starts within seconds', async () => {
    const { leader: l } = await leader();
    const client = new Redis(redis.url);
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
    const started = Date.now();
    const fresh = await startEdge(redis.url, edgeFlags);
    try {
      assert.ok(Date.now() - started < 10_000);
      const seq = await placeAcked(fresh, 9, 9, 6);
      await until('the new edge shows it', async () => (await image(fresh.http)).seq >= seq);
      assert.equal((await healthOf(l)).lease, 'leader', 'the leader kept its lease through the FLUSHALL');
      assert.deepEqual((await roles()).sort(), ['leader', 'standby']);
    } finally {
      await fresh.stop();
    }
  });
});

test('a writer whose database holds another canvas refuses to start beside the leader, with one line', async () => {
  const redis = await startRedis();
  const dir = tempDir();
  const servers: StartedServer[] = [];
  try {
    // A canvas of its own, with a placement, made under another prefix.
    const other = await startWriter(redis.url, `${dir}/other.db`, { ...writerFlags, 'redis-prefix': 'other' });
    servers.push(other);
    assert.equal((await place(other, 1, 1, 1)).status, 200);
    await other.stop();
    servers.push(await startWriter(redis.url, `${dir}/leader.db`, writerFlags));
    const refused = spawnServer({
      name: 'writer',
      args: loopbackArgs(`${dir}/other.db`, { ...writerFlags, role: 'writer', redis: redis.url }),
    });
    assert.equal(await refused.exited, 1);
    assert.match(refused.stderr(), /holds canvas \w+, but the leader on Redis prefix "canvas" serves canvas \w+/);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('writer failover: a writer restarted on an older copy of its database', () => {
  let redis: TestRedis;
  let dir = '';
  let edge: StartedServer | undefined;
  const servers: StartedServer[] = [];
  before(async () => {
    redis = await startRedis();
    dir = tempDir();
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A writer on `db` placing 1 pixel, stopped, copied to `copy`, restarted, placing 3 more, killed. */
  async function olderCopy(
    db: string,
    copy: string,
  ): Promise<{ edge: StartedServer; last: number; newest: number; epoch: number }> {
    const first = await startWriter(redis.url, db, writerFlags);
    if (!edge) {
      edge = await startEdge(redis.url, edgeFlags);
      servers.push(edge);
    }
    const e = edge;
    await placeAcked(e, 1, 1, 2);
    await first.stop();
    copyFileSync(db, copy);
    const second = await startWriter(redis.url, db, writerFlags);
    const last = await placeAcked(e, 2, 2, 3);
    await placeAcked(e, 3, 3, 3);
    const newest = await placeAcked(e, 4, 4, 3);
    await until('the edge shows the newest', async () => (await image(e.http)).seq >= newest);
    const epoch = Number((await healthOf(second)).epoch);
    await second.kill();
    return { edge: e, last, newest, epoch };
  }

  test('catches up from the replicated log before leading: nothing acked is lost, seqs continue', async () => {
    const { edge, newest, epoch } = await olderCopy(`${dir}/a.db`, `${dir}/a-old.db`);
    const old = await startWriter(redis.url, `${dir}/a-old.db`, writerFlags);
    servers.push(old);
    await until('the old copy leads', async () => (await healthOf(old)).lease === 'leader');
    const h = await healthOf(old);
    assert.ok(Number(h.epoch) > epoch, `epoch ${h.epoch} after ${epoch}`);
    assert.equal(h.rollback, undefined);
    assert.equal(h.seq, newest, 'caught up to the last acked seq');
    assert.equal(await placeAcked(edge, 5, 5, 1), newest + 1);
    await old.stop();
    servers.splice(servers.indexOf(old), 1);
  });

  test('without the log (lost): leads with a new epoch, the edge follows at once, /healthz says a rollback and by how many seqs', async () => {
    const { edge, last, newest, epoch } = await olderCopy(`${dir}/b.db`, `${dir}/b-old.db`);
    const client = new Redis(redis.url);
    try {
      await client.del('canvas:log', 'canvas:log:seq');
    } finally {
      client.disconnect();
    }
    const old = await startWriter(redis.url, `${dir}/b-old.db`, writerFlags);
    servers.push(old);
    await until('the old copy leads', async () => (await healthOf(old)).lease === 'leader');
    const h = await healthOf(old);
    assert.ok(Number(h.epoch) > epoch, `epoch ${h.epoch} after ${epoch}`);
    assert.deepEqual(h.rollback, { from: newest, to: last - 1, seqs: newest - last + 1 });
    // The edge serves the old copy's canvas although its seq is lower than what the edge had.
    await until(
      'the edge follows the new epoch',
      async () => (await image(edge.http)).etag === (await image(old.http)).etag,
    );
    assert.equal((await image(edge.http)).seq, last - 1);
  });
});
