/**
 * A resize that takes a running canvas past 4096 a side (4000 -> 5000 wide) on a real standalone
 * server: sockets on the whole-canvas `png` and `delta` streams get `resize` (when they asked) and then
 * one `use_tiles` error, and nothing more from their stream; a region subscriber goes on with its
 * region's deltas in the new coordinates; the level-0 tiles show every pixel placed before (moved by
 * left/top) and after; `/image` answers `use_tiles`; the history answers whole past canvases before
 * the resize and regions after it; a restart with the first flags starts at the grown size, tiles only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, type ErrorMsg, type ServerMessage } from '../../protocol/messages.ts';
import { growCells } from '../canvas/canvas-size.ts';
import { decodeToIndices, httpRequest, placeEach, startTestServer, TestClient } from '../../testkit/fixture.ts';
import { level0Grid } from '../../testkit/tiles.ts';

const ADMIN = { Authorization: 'Bearer sesame' };

/** What a socket received after its `resize` (or from the start): the message types, in order. */
const typesAfter = (received: readonly ServerMessage[], from: number) => received.slice(from).map((m) => m.t);

test('a resize from 4000 to 5000 wide: whole-canvas subscribers get resize then use_tiles, a region subscriber its deltas, tiles every pixel; a restart starts grown', async (t) => {
  const config = { width: 4000, height: 64, adminToken: 'sesame', tickMs: 20 };
  let ts = await startTestServer(config);
  t.after(() => ts.dispose());
  const grow = { width: 5000, height: 80, left: 600, top: 16 };
  const before: Array<[number, number, number]> = [
    [0, 0, 3],
    [3999, 0, 4],
    [0, 63, 5],
    [3999, 63, 6],
    [2048, 31, 7],
  ];
  let grid = new Uint8Array(4000 * 64);
  for (const [x, y, c] of before) grid[y * 4000 + x] = c;
  const seq0 = Math.max(...(await placeEach(`${ts.ws}?stream=delta`, before)));

  const png = await TestClient.connect(`${ts.ws}?stream=png&resize=1`);
  t.after(() => png.close());
  // Once a tick showed the placements, every socket opened after starts from a frame holding them.
  await png.pngAtLeast(seq0);
  const delta = await TestClient.connect(`${ts.ws}?stream=delta&resize=1`);
  const older = await TestClient.connect(`${ts.ws}?stream=png`); // written before `resize` existed
  const region = await TestClient.connect(`${ts.ws}?stream=delta&resize=1`);
  const clients = [delta, older, region];
  t.after(() => Promise.all(clients.map((c) => c.close())));
  for (const c of clients) await c.pngAtLeast(seq0);
  // Tiles (0, 0) and (1, 0): in the new coordinates, x 0..511 and y 0..79.
  region.send({ t: 'subscribe', stream: 'delta', tx: 0, ty: 0, tw: 2, th: 1 });
  await region.nextOf('tiles');

  const res = await httpRequest(`${ts.http}/api/admin/resize`, {
    method: 'POST',
    body: JSON.stringify(grow),
    headers: ADMIN,
  });
  assert.equal(res.status, 200, res.body);
  const resizeSeq = Number(res.json()['seq']);
  grid = growCells(grid, 4000, 64, grow);
  const expected = { t: 'resize', seq: resizeSeq, ...grow };
  for (const c of [png, delta]) {
    const resize = await c.nextOf('resize');
    assert.deepEqual(resize, expected);
    const at = c.received.indexOf(resize);
    const refused = (await c.nextOf('error')) as ErrorMsg;
    assert.equal(refused.code, ErrorCode.USE_TILES);
    assert.equal(refused.id, undefined, 'not an answer: the stream ended');
    assert.deepEqual(typesAfter(c.received, at), ['resize', 'error']);
  }
  const refused = (await older.nextOf('error')) as ErrorMsg;
  assert.equal(refused.code, ErrorCode.USE_TILES);
  assert.ok(!older.received.some((m) => m.t === 'resize'), 'resize only to sockets that asked');
  assert.deepEqual(await region.nextOf('resize'), expected);
  assert.ok((await region.nextOf('tiles')).seq >= resizeSeq);

  // Placements after it, in the new coordinates: inside the region, and far outside it.
  const after: Array<[number, number, number]> = [
    [10, 5, 8],
    [4999, 79, 9],
    [0, 0, 10],
  ];
  const last = Math.max(...(await placeEach(`${ts.ws}?stream=delta`, after)));
  for (const [x, y, c] of after) grid[y * 5000 + x] = c;
  const got: Array<[number, number, number]> = [];
  while (got.length < 2) {
    const d = await region.nextOf('delta');
    assert.deepEqual([d.tx, d.ty], [0, 0]);
    for (let o = 0; o < d.px.length; o += 5) {
      const px = d.px as Uint8Array;
      got.push([
        (px[o] as number) | ((px[o + 1] as number) << 8),
        (px[o + 2] as number) | ((px[o + 3] as number) << 8),
        px[o + 4] as number,
      ]);
    }
  }
  assert.deepEqual(
    got.sort((a, b) => a[0] - b[0]),
    [
      [0, 0, 10],
      [10, 5, 8],
    ],
    "the region's placements only, where they were placed",
  );
  // That tick went out: the whole-canvas sockets got nothing of it, nor anything since their error.
  for (const c of [png, delta, older]) {
    const at = c.received.findIndex((m) => m.t === 'error');
    assert.deepEqual(typesAfter(c.received, at + 1), [], `${c === older ? 'older' : 'resize'} socket`);
  }

  assert.deepEqual(
    await level0Grid(ts.http, 5000, 80, ts.config.palette),
    grid,
    'tiles: every pixel, moved by left/top',
  );
  const image = await fetch(`${ts.http}/image`);
  assert.equal(image.status, 404);
  assert.equal(((await image.json()) as { error: string }).error, ErrorCode.USE_TILES);
  // The past: whole before the resize (4000 x 64 then), by region after it (coordinates of that seq).
  const before0 = new Uint8Array(4000 * 64);
  for (const [x, y, c] of before) before0[y * 4000 + x] = c;
  const past = await fetch(`${ts.http}/api/history/image?seq=${seq0}`);
  assert.equal(past.status, 200, 'a past canvas of 4000 x 64 is whole');
  const pastImage = decodeToIndices(new Uint8Array(await past.arrayBuffer()), ts.config.palette);
  assert.deepEqual([pastImage.width, pastImage.height, pastImage.grid], [4000, 64, before0]);
  const whole = await fetch(`${ts.http}/api/history/image?seq=${last}`);
  assert.equal(whole.status, 413, 'a past canvas of 5000 x 80 is asked for by region');
  const corner = await fetch(`${ts.http}/api/history/image?seq=${last}&x=4596&y=0&w=404&h=80`);
  assert.equal(corner.status, 200);
  const cornerGrid = decodeToIndices(new Uint8Array(await corner.arrayBuffer()), ts.config.palette).grid;
  const cornerExpected = new Uint8Array(404 * 80);
  for (let y = 0; y < 80; y++) cornerExpected.set(grid.subarray(y * 5000 + 4596, y * 5000 + 5000), y * 404);
  assert.deepEqual(cornerGrid, cornerExpected, 'the right edge after the resize: moved by left/top, and the new pixel');
  const info = (await httpRequest(`${ts.http}/api/canvas`)).json();
  assert.deepEqual([info['width'], info['height'], info['maxLevel']], [5000, 80, 5]);
  assert.deepEqual(info['resizes'], [{ seq: resizeSeq, ...grow }]);
  // A new socket is greeted at the new size, then told to use the tiles.
  const late = await TestClient.connect(`${ts.ws}?stream=png`);
  assert.equal((await late.nextOf('hello')).width, 5000);
  assert.equal((await late.nextOf('error')).code, ErrorCode.USE_TILES);
  await late.close();

  // A restart with the first flags: the grown size, exact, tiles only.
  await ts.stop();
  ts = await startTestServer(config, ts.dir);
  assert.deepEqual([ts.server.canvas.width, ts.server.canvas.height, ts.server.canvas.seq], [5000, 80, last]);
  assert.deepEqual(await level0Grid(ts.http, 5000, 80, ts.config.palette), grid, 'tiles after a restart');
  assert.equal((await fetch(`${ts.http}/image`)).status, 404);
});
