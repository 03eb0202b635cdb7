/**
 * A resize through an edge, with a standby: real redis-server, two writer processes (a leader and a
 * standby on databases of their own) and an edge. The edge forwards POST /api/admin/resize to the
 * leader; its sockets on both streams get `resize` and the frame of the new size; its hello and
 * /api/canvas say the new size; the standby applies the resize from the replicated log, so after the
 * leader's SIGKILL it leads with the grown canvas and every pixel.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PngMsg } from '../../protocol/messages.ts';
import { growCells } from '../canvas/canvas-size.ts';
import { healthOf, pollUntil, startEdge, startWriter } from '../../testkit/cluster.ts';
import { decodeToIndices, httpRequest, tempDir, TestClient } from '../../testkit/fixture.ts';
import { imageAtLeast } from '../../testkit/image-probe.ts';
import { startRedis, type TestRedis } from '../../testkit/redis.ts';
import type { StartedServer } from '../../testkit/server-process.ts';
import { PALETTE_2017 } from '../config/palette.ts';

const ADMIN = 'sesame';
const flags = { 'tick-ms': 100, 'cooldown-ms': 0, 'admin-token': ADMIN };
const writerFlags = { ...flags, width: 24, height: 16, 'lease-ms': 1000 };
const edgeFlags = { ...flags, 'writer-timeout-ms': 1500 };

const post = (server: StartedServer, path: string, body: unknown, auth = false) =>
  httpRequest(`${server.http}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    fresh: true,
    headers: auth ? { Authorization: `Bearer ${ADMIN}` } : {},
  }).catch(() => ({ status: 0, body: '', json: (): Record<string, unknown> => ({}) }));

const until = pollUntil(20_000);

/** Places through `edge` until acked (a failover answers 503 meanwhile); returns its seq. */
async function placeAcked(edge: StartedServer, x: number, y: number, color: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await post(edge, '/api/pixel', { x, y, color });
    if (r.status === 200) return Number(r.json()['seq']);
    if (Date.now() > deadline) throw new Error(`no ack within 20 s: ${r.status} ${r.body}`);
    await sleep(50);
  }
}

describe('a resize through an edge, with a standby', () => {
  let redis: TestRedis;
  let dir = '';
  let writers: StartedServer[] = [];
  let edge: StartedServer;

  before(async () => {
    redis = await startRedis();
    dir = tempDir();
    writers = await Promise.all([
      startWriter(redis.url, `${dir}/a.db`, writerFlags),
      startWriter(redis.url, `${dir}/b.db`, writerFlags),
    ]);
    edge = await startEdge(redis.url, edgeFlags);
  });
  after(async () => {
    await Promise.all([edge?.stop(), ...writers.map((w) => w.stop())]);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('edge sockets of both streams follow the resize, and the standby leads after a SIGKILL with the grown canvas', async () => {
    let leader: StartedServer | undefined;
    let standby: StartedServer | undefined;
    await until('one leader and one standby', async () => {
      const roles = await Promise.all(writers.map(async (w) => String((await healthOf(w)).lease)));
      const i = roles.indexOf('leader');
      if (i < 0 || !roles.includes('standby')) return false;
      leader = writers[i];
      standby = writers[1 - i];
      return true;
    });
    assert.ok(leader && standby);

    let width = 24;
    let height = 16;
    let grid = new Uint8Array(width * height);
    const put = async (x: number, y: number, c: number) => {
      const seq = await placeAcked(edge, x, y, c);
      grid[y * width + x] = c;
      return seq;
    };
    await put(0, 0, 3);
    await put(23, 0, 4);
    await put(0, 15, 5);
    let seq = await put(23, 15, 6);
    await imageAtLeast(edge.http, seq);

    const pngs = await TestClient.connect(`${edge.ws}?stream=png&resize=1`);
    const deltas = await TestClient.connect(`${edge.ws}?stream=delta&resize=1`);
    const region = await TestClient.connect(`${edge.ws}?stream=delta&resize=1`);
    try {
      await pngs.pngAtLeast(seq);
      await deltas.pngAtLeast(seq);
      await region.pngAtLeast(seq);
      region.send({ t: 'subscribe', stream: 'delta', tx: 0, ty: 0, tw: 1, th: 1 });
      await region.nextOf('tiles');

      const res = await post(edge, '/api/admin/resize', { width: 40, height: 20, left: 6, top: 1 }, true);
      assert.equal(res.status, 200, res.body);
      const resizeSeq = Number(res.json()['seq']);
      assert.equal(resizeSeq, seq + 1);
      grid = growCells(grid, width, height, { width: 40, height: 20, left: 6, top: 1 });
      width = 40;
      height = 20;
      for (const c of [pngs, deltas]) {
        const resize = await c.nextOf('resize');
        assert.deepEqual([resize.width, resize.height, resize.left, resize.top], [40, 20, 6, 1]);
        const png = await c.next<PngMsg>((m) => m.t === 'png' && m.seq >= resizeSeq);
        const decoded = decodeToIndices(png.png, PALETTE_2017);
        assert.deepEqual([decoded.width, decoded.height], [40, 20]);
        assert.deepEqual(decoded.grid, grid);
      }
      // A region subscriber is told the size, then to load its tiles again.
      const resize = await region.nextOf('resize');
      assert.equal(resize.width, 40);
      const reload = await region.nextOf('tiles');
      assert.ok(reload.seq >= resizeSeq);
    } finally {
      await Promise.all([pngs.close(), deltas.close(), region.close()]);
    }
    const info = (await httpRequest(`${edge.http}/api/canvas`, { fresh: true })).json();
    assert.deepEqual([info['width'], info['height']], [40, 20]);
    assert.deepEqual(info['resizes'], [{ seq: seq + 1, width: 40, height: 20, left: 6, top: 1 }]);
    const late = await TestClient.connect(edge.ws);
    const hello = await late.nextOf('hello');
    assert.deepEqual([hello.width, hello.height], [40, 20]);
    await late.close();

    // An edge started after the resize takes the grown size from the writer's keys.
    const lateEdge = await startEdge(redis.url, edgeFlags);
    try {
      const lateInfo = (await httpRequest(`${lateEdge.http}/api/canvas`, { fresh: true })).json();
      assert.deepEqual([lateInfo['width'], lateInfo['height']], [40, 20]);
      assert.deepEqual(lateInfo['resizes'], info['resizes']);
      const c = await TestClient.connect(lateEdge.ws);
      assert.deepEqual([(await c.nextOf('hello')).width, (await c.nextOf('png')).seq >= seq + 1], [40, true]);
      await c.close();
    } finally {
      await lateEdge.stop();
    }

    // New coordinates from now on: the far corner exists.
    seq = await put(39, 19, 7);
    await until(
      'the standby applied the log',
      async () => Number((await healthOf(standby as StartedServer)).behind ?? 0) === 0,
    );
    const before = await imageAtLeast(edge.http, seq);
    assert.deepEqual(decodeToIndices(before.png, PALETTE_2017).grid, grid);

    leader.proc.kill('SIGKILL');
    await until('the standby leads', async () => (await healthOf(standby as StartedServer)).lease === 'leader');
    seq = await put(38, 18, 8);
    const afterFailover = await imageAtLeast(standby.http, seq);
    const decoded = decodeToIndices(afterFailover.png, PALETTE_2017);
    assert.deepEqual([decoded.width, decoded.height], [40, 20]);
    assert.deepEqual(decoded.grid, grid, 'the new leader has the resize and every pixel');
    const fromEdge = await imageAtLeast(edge.http, seq);
    assert.deepEqual(decodeToIndices(fromEdge.png, PALETTE_2017).grid, grid);
  });
});
