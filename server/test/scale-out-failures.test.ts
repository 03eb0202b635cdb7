/**
 * Failures of the writer/edge deployment with real processes killed by SIGKILL: an edge, the
 * writer, Redis. Edges never go silent: they keep serving the last frame and answer placements with
 * `unavailable` until the writer (or Redis) is back, then placing resumes by itself; no acked
 * placement is ever lost; clients of a dead edge resume on another with `since`.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pack, unpack } from 'msgpackr';
import type { ErrorMsg } from '../../protocol/messages.ts';
import { startEdge, startWriter } from '../../testkit/cluster.ts';
import { decodeToIndices, httpRequest, TestClient, tempDir } from '../../testkit/fixture.ts';
import { startRedis, type TestRedis } from '../../testkit/redis.ts';
import type { StartedServer } from '../../testkit/server-process.ts';
import { image, imageAtLeast } from '../../testkit/image-probe.ts';

const SIZE = 32;
const flags = { 'tick-ms': 200, 'cooldown-ms': 0, 'log-level': 'info' };
const edgeFlags = { ...flags, 'writer-timeout-ms': 1500 };

const place = (server: StartedServer, x: number, y: number, color: number) =>
  httpRequest(`${server.http}/api/pixel`, { method: 'POST', body: JSON.stringify({ x, y, color }) });

/** Places until the answer is not `unavailable` (the writer or Redis is back); returns that answer. */
async function placeWhenBack(server: StartedServer, x: number, y: number, color: number, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await place(server, x, y, color);
    if ((r.status !== 503 && r.status !== 504) || Date.now() > deadline) return r;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Asks /healthz until `key` has `value`, for up to 10 s; returns how long that took. */
async function msUntilHealth(server: StartedServer, key: string, value: unknown): Promise<number> {
  const started = Date.now();
  while ((await httpRequest(`${server.http}/healthz`)).json()[key] !== value && Date.now() - started < 10_000) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Date.now() - started;
}

/** Places until an `unavailable` answer comes; returns how long that took. */
async function msUntilUnavailable(server: StartedServer, timeoutMs = 15_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const r = await place(server, 0, 0, 1);
    // Refused at once (503 unavailable), or forwarded while the writer went away (504 outcome_unknown).
    if (r.status === 503 || r.status === 504) {
      assert.equal(r.json().error, r.status === 503 ? 'unavailable' : 'outcome_unknown');
      return Date.now() - started;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`still ${r.status} after ${timeoutMs} ms: ${r.body}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('writer/edge failures', () => {
  let redis: TestRedis;
  let dir = '';
  let writer: StartedServer;
  let edges: StartedServer[] = [];
  let db = '';
  let palette: number[] = [];
  /** Every acked placement, to check after each failure that none was lost. */
  const acked: Array<{ seq: number; x: number; y: number; color: number }> = [];

  before(async () => {
    redis = await startRedis();
    dir = tempDir();
    db = `${dir}/canvas.db`;
    writer = await startWriter(redis.url, db, { ...flags, width: SIZE, height: SIZE });
    edges = await Promise.all([startEdge(redis.url, edgeFlags), startEdge(redis.url, edgeFlags)]);
    const c = await TestClient.connect(edges[0]?.ws ?? '');
    palette = (await c.nextOf('hello')).palette;
    await c.close();
  });
  after(async () => {
    await Promise.all([...edges.map((e) => e.stop()), writer?.stop()]);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function placeAcked(server: StartedServer, x: number, y: number, color: number): Promise<number> {
    const r = await place(server, x, y, color);
    assert.equal(r.status, 200, r.body);
    const seq = Number(r.json().seq);
    acked.push({ seq, x, y, color });
    return seq;
  }

  /** The writer's /image holds the colour of the last acked placement of every pixel. */
  async function assertNoAckLost(): Promise<void> {
    const last = Math.max(...acked.map((a) => a.seq));
    const grid = decodeToIndices((await imageAtLeast(writer.http, last)).png, palette).grid;
    const latest = new Map<number, { seq: number; color: number }>();
    for (const a of acked) {
      const k = a.y * SIZE + a.x;
      if ((latest.get(k)?.seq ?? -1) < a.seq) latest.set(k, a);
    }
    for (const [k, a] of latest) assert.equal(grid[k], a.color, `acked seq ${a.seq} lost at cell ${k}`);
  }

  test('malformed bus messages are dropped: edges and writer keep serving and placing', async (t) => {
    const [edge] = edges as [StartedServer];
    const canvasId = (await image(edge.http)).etag.slice(1).split('-')[0];
    const redisClient = new Redis(redis.url);
    t.after(() => redisClient.disconnect());
    const bad = [
      Buffer.from([0xc1]), // not MessagePack
      pack({ k: 'tick', canvasId, seq: 1e9, etag: '"x"', png: 5, at: 0 }), // a tick whose png is no bytes
      pack({ edge: 'nobody', reqs: [{ i: 1, k: 'place' }, null] }), // requests without their fields
    ];
    for (const message of bad) {
      await redisClient.publish('canvas:ticks', message);
      await redisClient.publish('canvas:requests', message);
    }
    const seq = await placeAcked(edge, 12, 12, 3);
    await imageAtLeast(edge.http, seq);
    assert.equal((await httpRequest(`${writer.http}/healthz`)).status, 200);
  });

  test("a forged tick with a huge seq does not wedge the edges: the writer's beats bring them back", async (t) => {
    const [edge] = edges as [StartedServer];
    const canvasId = (await image(edge.http)).etag.slice(1).split('-')[0];
    const redisClient = new Redis(redis.url);
    t.after(() => redisClient.disconnect());
    const notAPng = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(9)]);
    const forged = { k: 'tick', canvasId, seq: 2 ** 31, etag: '"forged"', png: notAPng, at: Date.now() };
    await redisClient.publish('canvas:ticks', pack(forged));
    // Within a few beats (200 ms each here) the edge serves the writer's frame again, and follows it.
    const deadline = Date.now() + 10_000;
    while ((await image(edge.http)).etag === '"forged"' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.notEqual((await image(edge.http)).etag, '"forged"', 'the edge still serves the forged frame');
    const seq = await placeAcked(edge, 13, 13, 6);
    const img = await imageAtLeast(edge.http, seq, 10_000);
    assert.equal(decodeToIndices(img.png, palette).grid[13 * SIZE + 13], 6);
  });

  test('forged and type-confused forwarded requests fail alone: their honest batch-mates are committed', async (t) => {
    const pub = new Redis(redis.url);
    const sub = new Redis(redis.url);
    t.after(() => {
      pub.disconnect();
      sub.disconnect();
    });
    // Refusals are answered at once, the committed ones after their commit: several answer batches.
    const byId = new Map<number, Record<string, unknown>>();
    const answered = new Promise<void>((resolve) => {
      sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
        for (const a of unpack(message).ans as Array<{ i: number; r: Record<string, unknown> }>) byId.set(a.i, a.r);
        if (byId.size === 6) resolve();
      });
    });
    await sub.subscribe('canvas:answers:forger');
    const who = { identityId: 'f0f0f0f0f0f0f0f0', addressKey: '192.0.2.1/32' };
    const honest = (i: number, x: number) => ({ i, k: 'place', ...who, addressKey: `192.0.2.${i}/32`, x, y: 9, c: 4 });
    const reqs = [
      honest(1, 20),
      { i: 2, k: 'place', ...who, x: '7', y: 9, c: 4 }, // stored at one cell, applied at another, once
      { i: 3, k: 'place', ...who, x: 21, y: 9, c: 2.5 }, // stored as REAL, once
      { i: 4, k: 'place', identityId: {}, addressKey: 'x', x: 22, y: 9, c: 4 }, // failed the whole batch, once
      { i: 5, k: 'admin', a: { op: 'wipe', actor: 'x', rect: { x: 0, y: 0, width: '32', height: 32 }, color: 1 } },
      honest(6, 23),
    ];
    await pub.publish('canvas:requests', pack({ edge: 'forger', reqs }));
    await answered;
    for (const i of [2, 3, 4, 5]) assert.equal(byId.get(i)?.code, 'invalid_field', `request ${i}`);
    for (const [i, x] of [
      [1, 20],
      [6, 23],
    ] as const) {
      const r = byId.get(i);
      assert.equal(r?.ok, true, `honest request ${i}: ${JSON.stringify(r)}`);
      acked.push({ seq: Number(r?.seq), x, y: 9, color: 4 });
    }
    await assertNoAckLost();
    const grid = decodeToIndices((await image(writer.http)).png, palette).grid;
    for (const x of [7, 21, 22]) assert.notEqual(grid[9 * SIZE + x], 4, `forged pixel at (${x}, 9) applied`);
  });

  test('an edge killed: the other edge carries on, and its delta clients resume there with since', async (t) => {
    const [doomed, survivor] = edges as [StartedServer, StartedServer];
    const client = await TestClient.connect(`${doomed.ws}?stream=delta`);
    const start = await client.nextOf('png');
    await doomed.kill();
    await client.closed;
    const seq = await placeAcked(survivor, 3, 3, 4);
    await imageAtLeast(survivor.http, seq);
    const resumed = await TestClient.connect(`${survivor.ws}?stream=delta&since=${start.seq}`);
    t.after(() => resumed.close());
    await resumed.nextOf('hello');
    const first = await resumed.next((m) => m.t === 'delta' || m.t === 'png');
    assert.equal(first.t, 'delta');
    edges = [survivor, await startEdge(redis.url, edgeFlags)];
  });

  test('the writer killed: edges answer unavailable within seconds and keep serving /image; restarted: placing resumes with seqs continuing', async (t) => {
    const [edge] = edges as [StartedServer];
    const before = await placeAcked(edge, 5, 5, 2);
    await imageAtLeast(edge.http, before);
    const ws = await TestClient.connect(edge.ws);
    t.after(() => ws.close());
    await ws.nextOf('hello');

    await writer.kill();
    const ms = await msUntilUnavailable(edge);
    assert.ok(ms < 10_000, `took ${ms} ms to say unavailable`);
    ws.send({ t: 'place', id: 7, x: 1, y: 1, c: 1 });
    const refused = (await ws.nextOf('error')) as ErrorMsg;
    assert.equal(refused.code, 'unavailable');
    assert.equal(refused.id, 7);
    const stale = await image(edge.http);
    assert.ok(stale.seq >= before, 'the edge still serves the last frame');
    const health = (await httpRequest(`${edge.http}/healthz`)).json();
    assert.equal(health.writer, false);
    assert.equal(health.redis, true);

    writer = await startWriter(redis.url, db, { ...flags, width: SIZE, height: SIZE });
    const back = await placeWhenBack(edge, 6, 6, 3);
    assert.equal(back.status, 200, back.body);
    const seq = Number(back.json().seq);
    assert.ok(seq > before, `seq ${seq} does not continue after ${before}`);
    acked.push({ seq, x: 6, y: 6, color: 3 });
    // The same socket places again without reconnecting.
    ws.send({ t: 'place', id: 8, x: 2, y: 2, c: 2 });
    const ack = await ws.nextOf('ack');
    acked.push({ seq: ack.seq, x: 2, y: 2, color: 2 });
    await assertNoAckLost();
  });

  test('Redis frozen (SIGSTOP): /healthz says so within seconds and placements are refused; thawed: placing resumes', async () => {
    const [edge] = edges as [StartedServer];
    await placeAcked(edge, 11, 11, 4);
    redis.child.proc.kill('SIGSTOP');
    try {
      // The TCP connections stay open: only the unanswered PINGs tell (2 s, checked every 0.5 s).
      for (const server of [edge, writer]) {
        const ms = await msUntilHealth(server, 'redis', false);
        assert.ok(ms < 10_000, `${server.http} still said redis up after ${ms} ms`);
      }
      const refused = await place(edge, 12, 12, 4);
      assert.equal(refused.status, 503, refused.body);
      assert.equal(refused.json().error, 'unavailable');
    } finally {
      redis.child.proc.kill('SIGCONT');
    }
    const back = await placeWhenBack(edge, 12, 12, 5);
    assert.equal(back.status, 200, back.body);
    acked.push({ seq: Number(back.json().seq), x: 12, y: 12, color: 5 });
    assert.equal((await httpRequest(`${edge.http}/healthz`)).json().redis, true);
    await assertNoAckLost();
  });

  test('Redis killed: edges answer unavailable and keep serving; back: they resync from the stored frame', async () => {
    const [edge] = edges as [StartedServer];
    const before = await placeAcked(edge, 8, 8, 5);
    await imageAtLeast(edge.http, before);
    await redis.kill();
    const ms = await msUntilUnavailable(edge);
    assert.ok(ms < 10_000, `took ${ms} ms to say unavailable`);
    assert.equal((await httpRequest(`${edge.http}/healthz`)).json().redis, false);
    // The writer serves its own clients while Redis is away; the edges cannot see these yet.
    const during = await placeAcked(writer, 9, 9, 6);
    // Its tick is published while Redis is away (and lost): only a resync can bring it to the edge.
    await imageAtLeast(writer.http, during);
    assert.ok((await image(edge.http)).seq < during);

    redis = await startRedis(redis.port);
    // Back: the edge catches up to the writer's frame (placed while Redis was away) without a new tick.
    const img = await imageAtLeast(edge.http, during, 15_000);
    assert.equal(decodeToIndices(img.png, palette).grid[9 * SIZE + 9], 6);
    const back = await placeWhenBack(edge, 10, 10, 7);
    assert.equal(back.status, 200, back.body);
    acked.push({ seq: Number(back.json().seq), x: 10, y: 10, color: 7 });
    await assertNoAckLost();
  });
});
