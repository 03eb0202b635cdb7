/**
 * Region subscriptions of the delta stream (PROTOCOL.md "Region subscriptions"): a client subscribed
 * to some level-0 tiles gets `tiles`, then per tick one `delta` per changed tile of its region, with
 * exactly the placements inside it; its tiles (X-Seq) plus those deltas give the canvas's pixels
 * there; a tick too large for a delta says `tiles` again; bad regions are refused; through an edge too.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DELTA_RECORD_BYTES } from '../../protocol/delta.ts';
import type { DeltaMsg, ErrorMsg } from '../../protocol/messages.ts';
import { startCluster } from '../../testkit/cluster.ts';
import { decodeToIndices, placeEach, startTestServer, TestClient } from '../../testkit/fixture.ts';
import { Rng } from '../../testkit/rng.ts';
import { PALETTE_2017 } from '../config/palette.ts';
import { TILE_SIZE } from '../tiles/tile-layout.ts';

const WIDTH = 600;
const HEIGHT = 520;
/** Tiles (1, 0) and (2, 0): x 256..599, y 0..255 (the second is cropped to 88 wide). */
const REGION = { tx: 1, ty: 0, tw: 2, th: 1 };
const inRegion = (x: number, y: number) => x >= 256 && y < 256;

/** Placements on both sides of the region's edges and at random, `[x, y, colour]`. */
function placements(seed: number, n: number): Array<[number, number, number]> {
  const rng = new Rng(seed);
  const edges: Array<[number, number, number]> = [
    [255, 10, 3],
    [256, 10, 4],
    [300, 255, 5],
    [300, 256, 6],
    [599, 0, 7],
    [599, 519, 8],
    [0, 0, 9],
  ];
  const random = Array.from(
    { length: n },
    () => [rng.u32() % WIDTH, rng.u32() % HEIGHT, 1 + (rng.u32() % 15)] as [number, number, number],
  );
  return [...edges, ...random];
}

/** Level-0 tile (tx, ty) as palette indices, with the seq its X-Seq header says. */
async function tile(http: string, tx: number, ty: number): Promise<{ seq: number; w: number; px: Uint8Array }> {
  const res = await fetch(`${http}/tiles/0/${tx}/${ty}.png`);
  assert.equal(res.status, 200);
  const seq = Number(res.headers.get('x-seq'));
  assert.ok(Number.isInteger(seq) && seq >= 0, `X-Seq: ${String(res.headers.get('x-seq'))}`);
  const image = decodeToIndices(new Uint8Array(await res.arrayBuffer()), PALETTE_2017);
  assert.equal(image.width, Math.min(TILE_SIZE, WIDTH - tx * TILE_SIZE));
  return { seq, w: image.width, px: image.grid };
}

/**
 * As a client would: subscribe to REGION, load its tiles, let `place` run, then apply region deltas
 * until each tile has shown its last placement (one placed in each tile at the end). Returns the
 * region's pixels as the client sees them and every record it was sent.
 */
async function checkRegion(http: string, wsUrl: string, placeUrl: string): Promise<void> {
  const ws = await TestClient.connect(`${wsUrl}?stream=delta`);
  await ws.nextOf('hello');
  ws.send({ t: 'subscribe', stream: 'delta', ...REGION });
  const tiles = await ws.nextOf('tiles');
  assert.ok(Number.isInteger(tiles.seq));
  const grid = new Map<string, number>();
  const shown = new Map<string, number>();
  /** Loads the region's tiles, as a client does at first and on every `tiles`. */
  const loadTiles = async () => {
    for (let tx = REGION.tx; tx < REGION.tx + REGION.tw; tx++) {
      const t = await tile(http, tx, 0);
      if (t.seq < (shown.get(`${tx},0`) ?? 0)) continue; // a delta already brought it further
      shown.set(`${tx},0`, t.seq);
      for (let i = 0; i < t.px.length; i++)
        grid.set(`${tx * TILE_SIZE + (i % t.w)},${Math.floor(i / t.w)}`, t.px[i] as number);
    }
  };
  await loadTiles();
  // The last two placements are one in each tile, (1, 0) then (2, 0): each tile's last delta has a
  // toSeq at or past its seq. (Both once lay in tile (1, 0): tile (2, 0) then waited for a random
  // placement in the last tick, and timed out when none fell there.)
  const list = [
    ...placements(7, 300),
    [400, 100, 2] as [number, number, number],
    [550, 100, 2] as [number, number, number],
  ];
  const seqs = await placeEach(placeUrl, list);
  const last = { '1,0': seqs[list.length - 2] as number, '2,0': seqs[list.length - 1] as number };

  const records: Array<[number, number, number, DeltaMsg]> = [];
  let reloads = 0;
  while ((shown.get('1,0') ?? 0) < last['1,0'] || (shown.get('2,0') ?? 0) < last['2,0']) {
    const m = await ws.next((x) => x.t === 'delta' || x.t === 'tiles', 10_000);
    // A tick the server could not send as deltas (replaced by a newer one while a slow fan-out ran,
    // as on a loaded machine): load the tiles again, as the protocol says.
    if (m.t === 'tiles') {
      reloads++;
      await loadTiles();
      continue;
    }
    const d = m as DeltaMsg;
    assert.ok(d.tx !== undefined && d.ty !== undefined, 'a region delta names its tile');
    const key = `${d.tx},${d.ty}`;
    const newer = d.toSeq > (shown.get(key) ?? 0);
    for (let o = 0; o < d.px.length; o += DELTA_RECORD_BYTES) {
      const x = (d.px[o] as number) | ((d.px[o + 1] as number) << 8);
      const y = (d.px[o + 2] as number) | ((d.px[o + 3] as number) << 8);
      records.push([x, y, d.px[o + 4] as number, d]);
      if (newer) grid.set(`${x},${y}`, d.px[o + 4] as number);
    }
    if (newer) shown.set(key, d.toSeq);
  }
  await ws.close();

  for (const [x, y, , d] of records) {
    assert.ok(inRegion(x, y), `record (${x}, ${y}) lies in the region`);
    assert.equal(Math.floor(x / TILE_SIZE), d.tx, `record (${x}, ${y}) lies in its delta's tile`);
    assert.equal(Math.floor(y / TILE_SIZE), d.ty);
  }
  const placedInside = new Set(list.filter(([x, y]) => inRegion(x, y)).map(([x, y]) => `${x},${y}`));
  const sent = new Set(records.map(([x, y]) => `${x},${y}`));
  // Each placement in the region came as a delta, unless a reload brought it in its tile instead.
  if (reloads === 0)
    for (const p of placedInside) assert.ok(sent.has(p), `placement at ${p} reached the region subscriber`);
  assert.ok(sent.size <= placedInside.size, 'nothing else was sent');

  const image = await fetch(`${http}/image`);
  const now = decodeToIndices(new Uint8Array(await image.arrayBuffer()), PALETTE_2017).grid;
  for (let y = 0; y < 256; y++)
    for (let x = 256; x < WIDTH; x++)
      assert.equal(grid.get(`${x},${y}`), now[y * WIDTH + x], `tiles + deltas = the canvas at (${x}, ${y})`);
}

test('a region subscriber gets tiles, then exactly its tiles\u2019 placements; tiles + deltas equal the canvas', async (t) => {
  const ts = await startTestServer({ width: WIDTH, height: HEIGHT, tickMs: 50 });
  t.after(() => ts.dispose());
  await checkRegion(ts.http, ts.ws, ts.ws);
});

test('bad regions are refused; resync and a tick too large for a delta say tiles', async (t) => {
  const ts = await startTestServer({ width: WIDTH, height: HEIGHT, tickMs: 50, deltaMaxPercent: 0 });
  t.after(() => ts.dispose());
  const ws = await TestClient.connect(`${ts.ws}?stream=delta`);
  t.after(() => ws.close());
  await ws.nextOf('hello');
  const refusals: Array<[Record<string, unknown>, string]> = [
    [{ tx: 0, ty: 0, tw: 1 }, 'invalid_field'],
    [{ tx: 0, ty: 0, tw: 1, th: 1, since: 0 }, 'invalid_field'],
    [{ tx: 0, ty: 0, tw: 1.5, th: 1 }, 'invalid_field'],
    [{ tx: 0, ty: 0, tw: 0, th: 1 }, 'invalid_field'],
    [{ tx: 0, ty: 0, tw: 17, th: 16 }, 'invalid_field'],
    [{ tx: 2, ty: 0, tw: 2, th: 1 }, 'out_of_bounds'],
    [{ tx: 0, ty: 3, tw: 1, th: 1 }, 'out_of_bounds'],
  ];
  for (const [region, code] of refusals) {
    ws.send({ t: 'subscribe', stream: 'delta', ...region });
    const err = (await ws.nextOf('error')) as ErrorMsg;
    assert.equal(err.code, code, JSON.stringify(region));
  }
  ws.send({ t: 'subscribe', stream: 'png', ...REGION });
  assert.equal(((await ws.nextOf('error')) as ErrorMsg).code, 'invalid_field', 'a region is for the delta stream');

  const subscribedAt = ws.received.length;
  ws.send({ t: 'subscribe', stream: 'delta', ...REGION });
  await ws.nextOf('tiles');
  ws.send({ t: 'resync' });
  await ws.nextOf('tiles');
  // --delta-max-percent 0: every changed tick is too large for a delta: the region reloads its tiles.
  const [seq] = await placeEach(ts.ws, [[300, 10, 5]]);
  const again = await ws.next((m) => m.t === 'tiles' && m.seq >= (seq as number));
  assert.ok(again);
  assert.equal(
    ws.received.slice(subscribedAt).filter((m) => m.t === 'png' || m.t === 'delta').length,
    0,
    'a region subscriber is never sent the whole canvas',
  );
});

test('through an edge: the edge cuts the writer\u2019s ticks by tile for its region subscribers', async (t) => {
  const { edge, writer, stop } = await startCluster(
    { 'tick-ms': 100 },
    { width: WIDTH, height: HEIGHT, 'cooldown-ms': 0 },
  );
  t.after(stop);
  // Placements go to the writer, the region subscriber and its tiles are the edge's.
  await checkRegion(edge.http, edge.ws, writer.ws);
});
