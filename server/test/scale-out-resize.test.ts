/**
 * A resize through an edge, with a standby: real redis-server, two writer processes (a leader and a
 * standby on databases of their own) and an edge. The edge forwards POST /api/admin/resize to the
 * leader; its sockets on both streams get `resize` and the frame of the new size; its hello and
 * /api/canvas say the new size; the standby applies the resize from the replicated log, so after the
 * leader's SIGKILL it leads with the grown canvas and every pixel. Then two resizes in one tick, each
 * listed and told at its own seq, and one past 4096 a side: the edge's whole-canvas sockets get
 * `resize` then `use_tiles`, a region subscriber its deltas, the tiles every pixel, on the edge and on
 * the standby once it leads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DeltaMsg, ErrorCode, type ErrorMsg, type PngMsg, type TilesMsg } from '../../protocol/messages.ts';
import { growCells } from '../canvas/canvas-size.ts';
import {
  healthOf,
  leaderAndStandby,
  pollUntil,
  startEdge,
  startWriterPair,
  type WriterPair,
} from '../../testkit/cluster.ts';
import { decodeToIndices, httpRequest, TestClient } from '../../testkit/fixture.ts';
import { imageAtLeast } from '../../testkit/image-probe.ts';
import { level0Grid } from '../../testkit/tiles.ts';
import type { TestRedis } from '../../testkit/redis.ts';
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
  let pair: WriterPair;
  let redis: TestRedis;
  let writers: StartedServer[] = [];
  let edge: StartedServer;

  before(async () => {
    pair = await startWriterPair(writerFlags, edgeFlags);
    ({ redis, writers, edge } = pair);
  });
  after(() => pair?.stop());

  test('edge sockets of both streams follow the resize, and the standby leads after a SIGKILL with the grown canvas', async () => {
    const { leader, standby } = await leaderAndStandby(writers, until);

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
    await until('the standby applied the log', async () => Number((await healthOf(standby)).behind ?? 0) === 0);
    const before = await imageAtLeast(edge.http, seq);
    assert.deepEqual(decodeToIndices(before.png, PALETTE_2017).grid, grid);

    leader.proc.kill('SIGKILL');
    await until('the standby leads', async () => (await healthOf(standby)).lease === 'leader');
    seq = await put(38, 18, 8);
    const afterFailover = await imageAtLeast(standby.http, seq);
    const decoded = decodeToIndices(afterFailover.png, PALETTE_2017);
    assert.deepEqual([decoded.width, decoded.height], [40, 20]);
    assert.deepEqual(decoded.grid, grid, 'the new leader has the resize and every pixel');
    const fromEdge = await imageAtLeast(edge.http, seq);
    assert.deepEqual(decodeToIndices(fromEdge.png, PALETTE_2017).grid, grid);
  });
});

/** Tiles-only past 4096: the writers start just under it, with a tick long enough for two resizes in one. */
const bigFlags = { ...flags, 'tick-ms': 1000 };

describe('two resizes in one tick, then past 4096 a side, through an edge, with a standby', () => {
  let pair: WriterPair;
  let writers: StartedServer[] = [];
  let edge: StartedServer;

  before(async () => {
    // Beats come once a tick interval: the writer counts as down only after a few are missed.
    pair = await startWriterPair(
      { ...bigFlags, width: 3000, height: 64, 'lease-ms': 1000 },
      { ...bigFlags, 'writer-timeout-ms': 3500 },
    );
    ({ writers, edge } = pair);
  });
  after(() => pair?.stop());

  test('each resize of a tick is listed and told at its own seq; past 4096 the whole-canvas streams end in use_tiles, regions and tiles go on, and the standby leads with the grown canvas', async (t) => {
    const { leader, standby } = await leaderAndStandby(writers, until);

    let size = { width: 3000, height: 64 };
    let grid = new Uint8Array(size.width * size.height);
    const put = async (x: number, y: number, c: number) => {
      const seq = await placeAcked(edge, x, y, c);
      grid[y * size.width + x] = c;
      return seq;
    };
    const grow = (to: { width: number; height: number; left: number; top: number }) => {
      grid = growCells(grid, size.width, size.height, to);
      size = { width: to.width, height: to.height };
    };
    await put(0, 0, 3);
    await put(2999, 0, 4);
    await put(0, 63, 5);
    const seq = await put(2999, 63, 6);
    await imageAtLeast(edge.http, seq);

    const pngs = await TestClient.connect(`${edge.ws}?stream=png&resize=1`);
    const deltas = await TestClient.connect(`${edge.ws}?stream=delta&resize=1`);
    const region = await TestClient.connect(`${edge.ws}?stream=delta&resize=1`);
    t.after(() => Promise.all([pngs.close(), deltas.close(), region.close()]));
    for (const c of [pngs, deltas, region]) await c.pngAtLeast(seq);
    region.send({ t: 'subscribe', stream: 'delta', tx: 0, ty: 0, tw: 2, th: 1 });
    await region.nextOf('tiles');

    // Two resizes one right after the other: with a 1 s tick they fall in one tick (almost always).
    const r1 = { width: 3500, height: 70, left: 100, top: 2 };
    const r2 = { width: 4000, height: 80, left: 50, top: 3 };
    const a1 = await post(edge, '/api/admin/resize', r1, true);
    const a2 = await post(edge, '/api/admin/resize', r2, true);
    assert.equal(a1.status, 200, a1.body);
    assert.equal(a2.status, 200, a2.body);
    const listed = [
      { seq: Number(a1.json()['seq']), ...r1 },
      { seq: Number(a2.json()['seq']), ...r2 },
    ];
    grow(r1);
    grow(r2);
    for (const c of [pngs, deltas]) {
      const told = [await c.nextOf('resize'), await c.nextOf('resize')];
      assert.deepEqual(
        told,
        listed.map((e) => ({ t: 'resize', ...e })),
        'each resize with its own seq and left/top',
      );
      const png = await c.next<PngMsg>((m) => m.t === 'png' && m.seq >= Number(a2.json()['seq']));
      const decoded = decodeToIndices(png.png, PALETTE_2017);
      assert.deepEqual([decoded.width, decoded.height], [4000, 80]);
      assert.deepEqual(decoded.grid, grid);
      const [one, two] = told;
      if (one && c.received[c.received.indexOf(one) + 1] !== two)
        t.diagnostic('the two resizes fell in two ticks this time');
    }
    for (const server of [edge, leader]) {
      const info = (await httpRequest(`${server.http}/api/canvas`, { fresh: true })).json();
      assert.deepEqual([info['width'], info['height'], info['resizes']], [4000, 80, listed]);
    }

    // Past 4096 a side: tiles and region deltas only.
    const r3 = { width: 5000, height: 96, left: 600, top: 8 };
    const a3 = await post(edge, '/api/admin/resize', r3, true);
    assert.equal(a3.status, 200, a3.body);
    const seq3 = Number(a3.json()['seq']);
    grow(r3);
    for (const c of [pngs, deltas]) {
      const resize = await c.next((m) => m.t === 'resize' && m.seq === seq3);
      assert.deepEqual(resize, { t: 'resize', seq: seq3, ...r3 });
      const refused = (await c.nextOf('error')) as ErrorMsg;
      assert.deepEqual([refused.code, refused.id], [ErrorCode.USE_TILES, undefined]);
      assert.equal(c.received.indexOf(refused), c.received.indexOf(resize) + 1, 'use_tiles right after the resize');
    }
    assert.deepEqual(await region.next((m) => m.t === 'resize' && m.seq === seq3), { t: 'resize', seq: seq3, ...r3 });
    assert.ok((await region.next<TilesMsg>((m) => m.t === 'tiles' && m.seq >= seq3)).seq >= seq3);
    // In the region (tile 0, 0) and far outside it.
    const inside = await put(10, 5, 7);
    await put(4999, 95, 8);
    const d = await region.next<DeltaMsg>((m) => m.t === 'delta' && m.toSeq >= inside);
    assert.deepEqual([d.tx, d.ty, [...d.px]], [0, 0, [10, 0, 5, 0, 7]]);
    for (const c of [pngs, deltas]) {
      const after = c.received.slice(c.received.findIndex((m) => m.t === 'error') + 1);
      assert.deepEqual(after, [], 'nothing more from the whole-canvas stream');
    }
    const image = await httpRequest(`${edge.http}/image`, { fresh: true });
    assert.deepEqual([image.status, image.json()['error']], [404, ErrorCode.USE_TILES]);
    const last = await put(4998, 94, 9);
    await until('the edge serves the last tick', async () => (await healthOf(edge)).seq === last);
    assert.deepEqual(await level0Grid(edge.http, 5000, 96, PALETTE_2017), grid, 'the edge: every pixel in its tile');

    // The standby follows the resizes from the log and leads with the grown canvas after a SIGKILL.
    await until('the standby applied the log', async () => Number((await healthOf(standby)).behind ?? 0) === 0);
    leader.proc.kill('SIGKILL');
    await until('the standby leads', async () => (await healthOf(standby)).lease === 'leader');
    const afterFailover = await put(1, 1, 10);
    await until('the edge follows the new leader', async () => Number((await healthOf(edge)).seq) >= afterFailover);
    const info = (await httpRequest(`${standby.http}/api/canvas`, { fresh: true })).json();
    assert.deepEqual([info['width'], info['height'], info['resizes']], [5000, 96, [...listed, { seq: seq3, ...r3 }]]);
    assert.deepEqual(await level0Grid(standby.http, 5000, 96, PALETTE_2017), grid, 'the new leader: every pixel');
    assert.deepEqual(await level0Grid(edge.http, 5000, 96, PALETTE_2017), grid, 'the edge, from the new leader');
  });
});
