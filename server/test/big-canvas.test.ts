/**
 * A 16,384 x 16,384 canvas (README "Large canvases"): it starts without allocating its area, takes
 * placements in its far corners, serves them as tiles (level 0 and the pyramid's top) and region
 * deltas, refuses the whole-canvas image, streams and whole past canvases with `use_tiles` /
 * `too_large` (a past canvas by region answers), writes only the chunks it touched to its snapshot,
 * and restarts to exactly the placed pixels, from the snapshot after a clean stop and by replay after
 * a crash; an edge (real Redis) serves it the same.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { ErrorCode, type ErrorMsg } from '../../protocol/messages.ts';
import {
  decodeToIndices,
  placeEach,
  startTestServer,
  type TestServer,
  TestClient,
  tempDir,
} from '../../testkit/fixture.ts';
import { loopbackArgs, startServer } from '../../testkit/server-process.ts';
import { startCluster } from '../../testkit/cluster.ts';
import { PALETTE_2017 } from '../config/palette.ts';
import { TILE_SIZE } from '../tiles/tile-layout.ts';

const SIDE = 16_384;
const LAST = SIDE - 1;
/** Far corners, the middle, and two pixels of one chunk: `[x, y, colour]`. */
const PIXELS: ReadonlyArray<readonly [number, number, number]> = [
  [0, 0, 5],
  [LAST, 0, 6],
  [0, LAST, 7],
  [LAST, LAST, 8],
  [8192, 8191, 9],
  [8193, 8191, 10],
];
/** Chunks of 64 x 64 those pixels lie in. */
const CHUNKS = 5;

/** Level `level` tile (tx, ty) as palette indices. */
async function tile(ts: TestServer, level: number, tx: number, ty: number) {
  const res = await fetch(`${ts.http}/tiles/${level}/${tx}/${ty}.png`);
  assert.equal(res.status, 200, `tile ${level}/${tx}/${ty}`);
  return decodeToIndices(new Uint8Array(await res.arrayBuffer()), PALETTE_2017);
}

/** Every placed pixel, read from its level-0 tile as a client would, and nothing else in those tiles. */
async function assertTilesShow(
  ts: TestServer,
  pixels: ReadonlyArray<readonly [number, number, number]>,
  what: string,
): Promise<void> {
  const tileOf = (x: number, y: number) => `${Math.floor(x / TILE_SIZE)}/${Math.floor(y / TILE_SIZE)}`;
  for (const [x, y, colour] of pixels) {
    const t = await tile(ts, 0, Math.floor(x / TILE_SIZE), Math.floor(y / TILE_SIZE));
    assert.equal(t.width, TILE_SIZE);
    assert.equal(t.grid[(y % TILE_SIZE) * t.width + (x % TILE_SIZE)], colour, `${what}: (${x}, ${y})`);
    const inTile = pixels.filter(([px, py]) => tileOf(px, py) === tileOf(x, y)).length;
    assert.equal(t.grid.filter((c) => c !== 0).length, inTile, `${what}: nothing else in the tile of (${x}, ${y})`);
  }
  // The pyramid's top (level 6: one 256 x 256 tile, each pixel the top-left of a 64 x 64 block).
  const top = await tile(ts, 6, 0, 0);
  assert.equal(top.width, 256);
  assert.equal(top.grid[0], 5, `${what}: (0, 0) at level 6`);
  assert.equal(top.grid[(8192 / 64) * 256 + 8192 / 64], 0, `${what}: (8192, 8191) is not a block's top-left`);
}

test('a 16,384 x 16,384 canvas takes placements in its far corners, serves them as tiles and restarts exact', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = { width: SIDE, height: SIDE, tickMs: 20 };
  let ts = await startTestServer(config, dir);
  try {
    const empty = ts.server.canvas.footprint();
    assert.deepEqual([empty.chunks, empty.placed], [0, 0], 'nothing placed yet');
    assert.ok(
      empty.sparseBytes < 20_000,
      `${empty.sparseBytes} bytes of sparse tables: the declared area costs nothing`,
    );
    const seq = Math.max(...(await placeEach(`${ts.ws}?stream=delta`, PIXELS)));
    assert.equal(seq, PIXELS.length);
    const { chunks, dense, placed } = ts.server.canvas.footprint();
    assert.deepEqual({ chunks, dense, placed }, { chunks: CHUNKS, dense: 0, placed: PIXELS.length });
    await assertTilesShow(ts, PIXELS, 'live');

    // No whole-canvas image, stream or history: each says where to look instead.
    const image = await fetch(`${ts.http}/image`);
    assert.equal(image.status, 404);
    assert.equal(((await image.json()) as { error: string }).error, ErrorCode.USE_TILES);
    const past = await fetch(`${ts.http}/api/history/image?seq=1`);
    assert.equal(past.status, 413);
    assert.match(((await past.json()) as { message: string }).message, /needs a region x, y, w, h of at most 4096/);
    // A past canvas by region: the far corner's 2 x 2 at the last seq, and at seq 3 (before it was placed).
    const corner = async (at: number) => {
      const res = await fetch(`${ts.http}/api/history/image?seq=${at}&x=${LAST - 1}&y=${LAST - 1}&w=2&h=2`);
      assert.equal(res.status, 200);
      return [...decodeToIndices(new Uint8Array(await res.arrayBuffer()), PALETTE_2017).grid];
    };
    assert.deepEqual(await corner(seq), [0, 0, 0, 8], 'the far corner, by region');
    assert.deepEqual(await corner(3), [0, 0, 0, 0], 'before its placement');
    const info = (await (await fetch(`${ts.http}/api/canvas`)).json()) as { width: number; seq: number };
    assert.equal(info.width, SIDE);

    const c = await TestClient.connect(`${ts.ws}?stream=png`);
    assert.equal((await c.nextOf('hello')).width, SIDE);
    const refused = (await c.nextOf('error')) as ErrorMsg;
    assert.equal(refused.code, ErrorCode.USE_TILES);
    c.send({ t: 'subscribe', stream: 'delta' });
    assert.equal((await c.nextOf('error')).code, ErrorCode.USE_TILES, 'a whole-canvas delta stream neither');
    // The bottom-right tile's region: its deltas, and only its own.
    c.send({ t: 'subscribe', stream: 'delta', tx: 63, ty: 63, tw: 1, th: 1 });
    await c.nextOf('tiles');
    await placeEach(`${ts.ws}?stream=delta`, [
      [100, 100, 11],
      [LAST - 1, LAST, 12],
    ]);
    const delta = await c.nextOf('delta');
    assert.deepEqual([delta.tx, delta.ty, delta.n], [63, 63, 1]);
    assert.deepEqual([...delta.px], [(LAST - 1) & 0xff, (LAST - 1) >> 8, LAST & 0xff, LAST >> 8, 12]);
    assert.equal(c.received.filter((m) => m.t === 'png').length, 0, 'never a whole-canvas PNG');
    await c.close();
    // Back as they were, so the checks after the restarts stay the same.
    await placeEach(`${ts.ws}?stream=delta`, [
      [100, 100, 0],
      [LAST - 1, LAST, 0],
    ]);
    await ts.stop();

    // A clean stop wrote a snapshot of the touched chunks only, and the restart reads it.
    const db = new Database(`${dir}/canvas.db`, { readonly: true });
    const rows = db.prepare('SELECT COUNT(*) AS n, SUM(LENGTH(cells)) AS bytes FROM chunks').get() as {
      n: number;
      bytes: number;
    };
    db.close();
    assert.equal(rows.n, CHUNKS + 1, 'the touched chunks, (100, 100) among them');
    assert.ok(rows.bytes < 1000, `${rows.bytes} bytes of chunks: sparse, not 5 bytes a pixel`);
    ts = await startTestServer(config, dir);
    assert.equal(ts.server.canvas.seq, PIXELS.length + 4);
    assert.equal(ts.server.canvas.footprint().chunks, CHUNKS + 1);
    await assertTilesShow(ts, PIXELS, 'after a restart from the snapshot');
    await ts.stop();

    // A crash: placements after the snapshot are only in the placements table; the restart replays them.
    const child = await startServer({
      args: loopbackArgs(`${dir}/canvas.db`, { width: SIDE, height: SIDE, 'cooldown-ms': 0 }),
    });
    try {
      await placeEach(`${child.ws}?stream=delta`, [
        [LAST, LAST, 13],
        [1, 1, 14],
      ]);
    } finally {
      await child.kill();
    }
    ts = await startTestServer(config, dir);
    assert.equal(ts.server.canvas.seq, PIXELS.length + 6);
    const after = [...PIXELS.filter(([x, y]) => x !== LAST || y !== LAST), [LAST, LAST, 13], [1, 1, 14]] as const;
    await assertTilesShow(ts, after, 'after a crash, replayed');
  } finally {
    await ts.stop();
  }
});

test('through an edge, a 16,384 x 16,384 canvas is tiles, region deltas and past regions, and no whole-canvas image', async (t) => {
  const cluster = await startCluster({ 'tick-ms': 50 }, { width: SIDE, height: SIDE, 'cooldown-ms': 0 });
  t.after(() => cluster.stop());
  const { edge } = cluster;
  const c = await TestClient.connect(`${edge.ws}?stream=delta`);
  assert.equal((await c.nextOf('hello')).width, SIDE);
  assert.equal((await c.nextOf('error')).code, ErrorCode.USE_TILES);
  c.send({ t: 'subscribe', stream: 'delta', tx: 63, ty: 0, tw: 1, th: 1 });
  await c.nextOf('tiles');
  c.send({ t: 'place', id: 1, x: LAST, y: 3, c: 7 });
  const ack = await c.nextOf('ack');
  const delta = await c.nextOf('delta');
  assert.deepEqual([delta.tx, delta.ty, delta.toSeq], [63, 0, ack.seq]);
  assert.deepEqual([...delta.px], [LAST & 0xff, LAST >> 8, 3, 0, 7]);
  await c.close();
  const image = await fetch(`${edge.http}/image`);
  assert.equal(image.status, 404);
  assert.equal(((await image.json()) as { error: string }).error, ErrorCode.USE_TILES);
  const t0 = await fetch(`${edge.http}/tiles/0/63/0.png`);
  assert.equal(t0.status, 200);
  const decoded = decodeToIndices(new Uint8Array(await t0.arrayBuffer()), PALETTE_2017);
  assert.equal(decoded.grid[3 * decoded.width + (LAST % TILE_SIZE)], 7);
  // The past by region, forwarded to the writer like every history request.
  const past = await fetch(`${edge.http}/api/history/image?seq=${ack.seq}&x=${LAST - 3}&y=0&w=4&h=4`);
  assert.equal(past.status, 200);
  const region = decodeToIndices(new Uint8Array(await past.arrayBuffer()), PALETTE_2017).grid;
  assert.deepEqual([...region], [...Array(15).fill(0), 7], 'the placement at the region corner, through the edge');
});
