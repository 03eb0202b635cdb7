/**
 * Writer and edges over Redis, all real: Debian's redis-server on a free port, one writer and two
 * edges, each the CLI in its own process. What a client does through one edge is seen through every
 * other, with the same bytes, the same identities, the same cooldowns and bans.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { applyDeltaPixels } from '../../protocol/delta.ts';
import type { DeltaMsg, ErrorMsg, HelloMsg } from '../../protocol/messages.ts';
import { startEdge, startWriter } from '../../testkit/cluster.ts';
import { decodeToIndices, httpRequest, TestClient, tempDir } from '../../testkit/fixture.ts';
import { startRedis, type TestRedis } from '../../testkit/redis.ts';
import type { StartedServer } from '../../testkit/server-process.ts';
import { imageAt, imageAtLeast } from '../../testkit/image-probe.ts';

const ADMIN = 'scale-out-admin-token';
const SIZE = 64;
const TICK_MS = 200;
const common = { 'tick-ms': TICK_MS, 'admin-token': ADMIN, 'log-level': 'info' };

describe('writer and edges over Redis', () => {
  let redis: TestRedis;
  let dir = '';
  let writer: StartedServer;
  let edgeA: StartedServer;
  let edgeB: StartedServer;
  let palette: number[] = [];
  /** Each test places from its own loopback address: the address cooldown (60 s) never collides. */
  let nextAddress = 10;
  const address = () => `127.0.0.${nextAddress++}`;

  before(async () => {
    redis = await startRedis();
    dir = tempDir();
    writer = await startWriter(redis.url, `${dir}/canvas.db`, {
      ...common,
      width: SIZE,
      height: SIZE,
      'cooldown-ms': 60_000,
    });
    // The edges' own size flags are ignored: the canvas is the writer's.
    [edgeA, edgeB] = await Promise.all([startEdge(redis.url, { ...common, width: 5 }), startEdge(redis.url, common)]);
    const hello = await TestClient.connect(edgeA.ws).then(async (c) => {
      const h = await c.nextOf('hello');
      await c.close();
      return h;
    });
    palette = hello.palette;
  });
  after(async () => {
    await Promise.all([edgeA?.stop(), edgeB?.stop(), writer?.stop()]);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an edge says hello with the writer canvas, whatever its own flags', async (t) => {
    const c = await TestClient.connect(edgeA.ws);
    t.after(() => c.close());
    const hello = await c.nextOf('hello');
    assert.equal(hello.width, SIZE);
    assert.equal(hello.height, SIZE);
    assert.equal(hello.cooldownMs, 60_000);
    assert.equal(hello.tickMs, TICK_MS);
  });

  test('a placement through edge A is acked and reaches edge B: its /image and its delta subscribers', async (t) => {
    const watcher = await TestClient.connect(`${edgeB.ws}?stream=delta`);
    t.after(() => watcher.close());
    const start = await watcher.nextOf('png');
    const grid = decodeToIndices(start.png, palette).grid;
    let seq = start.seq;
    const placer = await TestClient.connect(edgeA.ws, { from: address() });
    t.after(() => placer.close());
    await placer.nextOf('hello');
    placer.send({ t: 'place', id: 1, x: 7, y: 9, c: 5 });
    const ack = await placer.nextOf('ack');
    assert.ok(ack.seq > start.seq);
    // Follow B's delta stream up to the acked seq: the pixel is there.
    while (seq < ack.seq) {
      const m = await watcher.next((x) => x.t === 'delta' || x.t === 'png');
      if (m.t === 'png') {
        grid.set(decodeToIndices(m.png, palette).grid);
        seq = m.seq;
      } else {
        const d = m as DeltaMsg;
        assert.equal(d.fromSeq, seq, 'edge B sent a delta that does not follow the previous one');
        assert.ok(applyDeltaPixels(d.px, grid, SIZE, SIZE));
        seq = d.toSeq;
      }
    }
    assert.equal(grid[9 * SIZE + 7], 5);
    const img = await imageAtLeast(edgeB.http, ack.seq);
    assert.equal(decodeToIndices(img.png, palette).grid[9 * SIZE + 7], 5);
  });

  test('the writer and every edge serve identical /image bytes and ETags', async () => {
    const placed = await httpRequest(`${edgeB.http}/api/pixel`, {
      method: 'POST',
      body: JSON.stringify({ x: 1, y: 1, color: 3 }),
      from: address(),
    });
    assert.equal(placed.status, 200, placed.body);
    const seq = Number(placed.json().seq);
    const images = await Promise.all([writer, edgeA, edgeB].map((s) => imageAt(s.http, seq)));
    const [w, a, b] = images as [(typeof images)[0], (typeof images)[0], (typeof images)[0]];
    assert.equal(a.etag, w.etag);
    assert.equal(b.etag, w.etag);
    assert.ok(Buffer.from(a.png).equals(Buffer.from(w.png)));
    assert.ok(Buffer.from(b.png).equals(Buffer.from(w.png)));
    // A CDN in front of several edges revalidates with the ETag any of them gave.
    const revalidated = await fetch(`${edgeA.http}/image`, { headers: { 'If-None-Match': b.etag } });
    assert.equal(revalidated.status, 304);
  });

  test('a token minted by an edge is valid on the writer and on the other edge', async (t) => {
    const session = await httpRequest(`${edgeA.http}/api/session`, { method: 'POST' });
    const { id, token } = session.json() as { id: string; token: string };
    for (const server of [writer, edgeB]) {
      const c = await TestClient.connect(`${server.ws}?token=${encodeURIComponent(token)}`);
      t.after(() => c.close());
      const hello = (await c.nextOf('hello')) as HelloMsg;
      assert.equal(hello.you, id);
      assert.equal(hello.token, undefined, 'a valid token is not replaced');
    }
  });

  test('one identity cooldown holds across edges, and hello on the other edge reports it', async (t) => {
    const first = await TestClient.connect(edgeA.ws, { from: address() });
    t.after(() => first.close());
    const hello = await first.nextOf('hello');
    first.send({ t: 'place', id: 1, x: 2, y: 2, c: 2 });
    await first.nextOf('ack');
    // Same identity, another address (so only the identity's cooldown applies), another edge.
    const second = await TestClient.connect(`${edgeB.ws}?token=${encodeURIComponent(hello.token ?? '')}`, {
      from: address(),
    });
    t.after(() => second.close());
    const hello2 = await second.nextOf('hello');
    assert.equal(hello2.you, hello.you);
    assert.ok((hello2.wait ?? 0) > 50_000, `hello.wait ${hello2.wait}`);
    second.send({ t: 'place', id: 2, x: 3, y: 3, c: 2 });
    const refused = (await second.nextOf('error')) as ErrorMsg;
    assert.equal(refused.code, 'cooldown');
    assert.ok((refused.wait ?? 0) > 50_000);
  });

  test('a ban made on the writer holds on every edge; an unban through an edge lifts it', async () => {
    const session = await httpRequest(`${edgeA.http}/api/session`, { method: 'POST' });
    const { id, token } = session.json() as { id: string; token: string };
    const admin = { Authorization: `Bearer ${ADMIN}` };
    const ban = await httpRequest(`${writer.http}/api/admin/ban`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ id, reason: 'test' }),
    });
    assert.equal(ban.status, 200, ban.body);
    const place = (server: StartedServer) =>
      httpRequest(`${server.http}/api/pixel`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
        body: JSON.stringify({ x: 4, y: 4, color: 1 }),
        from: address(),
      });
    for (const server of [edgeA, edgeB]) {
      const refused = await place(server);
      assert.equal(refused.status, 403, refused.body);
      assert.equal(refused.json().error, 'banned');
    }
    const unban = await httpRequest(`${edgeB.http}/api/admin/unban`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ id }),
    });
    assert.equal(unban.status, 200, unban.body);
    assert.equal((await place(edgeA)).status, 200);
    // The audit log, read through an edge, has both actions.
    const audit = await httpRequest(`${edgeA.http}/api/admin/audit?limit=5`, { headers: admin });
    const actions = (audit.json().entries as Array<{ action: string }>).map((e) => e.action);
    assert.ok(actions.includes('ban') && actions.includes('unban'), JSON.stringify(actions));
  });

  test('a wipe requested through an edge reaches the delta subscribers of the other edge', async (t) => {
    const watcher = await TestClient.connect(`${edgeA.ws}?stream=delta`);
    t.after(() => watcher.close());
    const start = await watcher.nextOf('png');
    const wipe = await httpRequest(`${edgeB.http}/api/admin/wipe`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ x: 40, y: 40, width: 4, height: 3, color: 6 }),
    });
    assert.equal(wipe.status, 200, wipe.body);
    const seq = Number(wipe.json().seq);
    const grid = decodeToIndices(start.png, palette).grid;
    let at = start.seq;
    while (at < seq) {
      const d = await watcher.nextOf('delta');
      assert.equal(d.fromSeq, at);
      applyDeltaPixels(d.px, grid, SIZE, SIZE);
      at = d.toSeq;
    }
    for (let y = 40; y < 43; y++) for (let x = 40; x < 44; x++) assert.equal(grid[y * SIZE + x], 6);
  });

  test('pixel lookup through an edge names who placed the pixel', async () => {
    const session = await httpRequest(`${edgeB.http}/api/session`, { method: 'POST' });
    const { id, token } = session.json() as { id: string; token: string };
    const placed = await httpRequest(`${edgeB.http}/api/pixel`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      body: JSON.stringify({ x: 20, y: 21, color: 9 }),
      from: address(),
    });
    assert.equal(placed.status, 200, placed.body);
    const lookup = await httpRequest(`${edgeA.http}/api/pixel?x=20&y=21`);
    assert.equal(lookup.status, 200);
    assert.deepEqual(
      { ...lookup.json(), at: null },
      { x: 20, y: 21, color: 9, who: id, at: null, seq: placed.json().seq },
    );
    const outside = await httpRequest(`${edgeA.http}/api/pixel?x=${SIZE}&y=0`);
    assert.equal(outside.status, 400);
    assert.equal(outside.json().error, 'out_of_bounds');
  });

  test('a delta client resumes with since on another edge and gets only the deltas it missed', async (t) => {
    const first = await TestClient.connect(`${edgeA.ws}?stream=delta`);
    const start = await first.nextOf('png');
    await first.close();
    const placer = await TestClient.connect(edgeA.ws, { from: address() });
    t.after(() => placer.close());
    await placer.nextOf('hello');
    placer.send({ t: 'place', id: 1, x: 30, y: 31, c: 7 });
    const ack = await placer.nextOf('ack');
    await imageAtLeast(edgeB.http, ack.seq);
    const resumed = await TestClient.connect(`${edgeB.ws}?stream=delta&since=${start.seq}`);
    t.after(() => resumed.close());
    await resumed.nextOf('hello');
    const first2 = await resumed.next((m) => m.t === 'delta' || m.t === 'png');
    assert.equal(first2.t, 'delta', 'resume on another edge sent a snapshot instead of the missing deltas');
    assert.equal((first2 as DeltaMsg).fromSeq, start.seq);
  });

  test('the online count is the whole deployment: clients of the writer and of every edge', async (t) => {
    const clients = await Promise.all(
      [edgeA.ws, edgeB.ws, edgeB.ws, writer.ws].map((url) => TestClient.connect(`${url}?online=1`)),
    );
    t.after(() => Promise.all(clients.map((c) => c.close())));
    // Every edge reports its clients once per tick; the writer adds them up and tells every edge.
    await Promise.all(clients.map((c) => c.next((m) => m.t === 'online' && m.n === 4, 10_000)));
  });

  test('history through an edge: the same past canvas as the writer, then from the edge cache', async () => {
    const placed = await httpRequest(`${edgeA.http}/api/pixel`, {
      method: 'POST',
      body: JSON.stringify({ x: 11, y: 12, color: 13 }),
      from: address(),
    });
    const seq = Number(placed.json().seq);
    const path = `/api/history/image?seq=${seq}`;
    const [viaEdge, viaWriter] = await Promise.all([fetch(`${edgeB.http}${path}`), fetch(`${writer.http}${path}`)]);
    assert.equal(viaEdge.status, 200);
    assert.equal(viaEdge.headers.get('etag'), viaWriter.headers.get('etag'));
    assert.equal(viaEdge.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const bytes = Buffer.from(await viaEdge.arrayBuffer());
    assert.ok(bytes.equals(Buffer.from(await viaWriter.arrayBuffer())));
    assert.equal(decodeToIndices(bytes, palette).grid[12 * SIZE + 11], 13);
    const forwarded = async () =>
      Number(
        /canvas_bus_forwarded_total\{kind="history"\} (\d+)/.exec(
          (await httpRequest(`${edgeB.http}/metrics`)).body,
        )?.[1],
      );
    const before = await forwarded();
    const again = await fetch(`${edgeB.http}${path}`, {
      headers: { 'If-None-Match': viaEdge.headers.get('etag') ?? '' },
    });
    assert.equal(again.status, 304);
    assert.equal(await forwarded(), before, 'the edge answered from its cache');
    const future = await fetch(`${edgeB.http}/api/history/image?seq=${seq + 1000}`);
    assert.equal(future.status, 400);
  });

  test('/healthz and /metrics say the role and whether Redis and the writer are reachable', async () => {
    const health = (await httpRequest(`${edgeA.http}/healthz`)).json();
    assert.equal(health.role, 'edge');
    assert.equal(health.redis, true);
    assert.equal(health.writer, true);
    assert.equal(typeof health.busLagMs, 'number', 'the lag of the last tick, once one has arrived');
    const writerHealth = (await httpRequest(`${writer.http}/healthz`)).json();
    assert.equal(writerHealth.role, 'writer');
    assert.equal(writerHealth.redis, true);
    const metrics = (await httpRequest(`${edgeA.http}/metrics`)).body;
    assert.match(metrics, /canvas_role\{role="edge"\} 1/);
    assert.match(metrics, /canvas_bus_writer_up 1/);
    assert.match(metrics, /canvas_bus_redis_up 1/);
    assert.match(metrics, /canvas_bus_forwarded_total\{kind="place"\} [1-9]/);
    assert.match(metrics, /canvas_bus_lag_seconds_count [1-9]/);
  });
});
