/**
 * Tiles and canvas info on a real server (port 0): level-0 tiles decode to exactly the grid /image
 * shows (pixels placed on both sides of every tile edge and on the canvas edges), pyramid tiles to
 * the documented top-left sampling, ETag/304/max-age, a new ETag only for tiles whose pixels
 * changed, one encode for many concurrent requests, and the refusals of bad tile paths.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeToIndices, startTestServer, TestClient, type TestServer } from '../../testkit/fixture.ts';
import { parseTilePath, TILE_SIZE, TileLayout } from '../tiles/tile-layout.ts';

const WIDTH = 600;
const HEIGHT = 520;

test('tile layout: cropped edge tiles, levels up to one tile, one URL per tile', () => {
  const layout = new TileLayout(WIDTH, HEIGHT);
  assert.equal(layout.maxLevel, 2);
  assert.deepEqual([layout.across(0), layout.down(0)], [3, 3]);
  assert.deepEqual([layout.across(1), layout.down(1)], [2, 2]);
  assert.deepEqual([layout.across(2), layout.down(2)], [1, 1]);
  assert.deepEqual(layout.sizeOf({ level: 0, tx: 2, ty: 2 }), { width: 88, height: 8 });
  assert.deepEqual(layout.sizeOf({ level: 1, tx: 1, ty: 1 }), { width: 44, height: 4 });
  assert.deepEqual(layout.sizeOf({ level: 2, tx: 0, ty: 0 }), { width: 150, height: 130 });
  assert.equal(new TileLayout(256, 256).maxLevel, 0);
  assert.equal(new TileLayout(257, 10).maxLevel, 1);
  assert.deepEqual(parseTilePath(layout, '1', '1', '0.png'), { ok: true, tile: { level: 1, tx: 1, ty: 0 } });
  for (const [l, x, y, code] of [
    ['-1', '0', '0.png', 'invalid_field'],
    ['0', '1.5', '0.png', 'invalid_field'],
    ['0', '0', '01.png', 'invalid_field'],
    ['a', '0', '0.png', 'invalid_field'],
    ['0', '0', '0', 'not_found'],
    ['0', '3', '0.png', 'not_found'],
    ['3', '0', '0.png', 'not_found'],
    ['99999', '0', '0.png', 'not_found'],
  ] as const) {
    const r = parseTilePath(layout, l, x, y);
    assert.equal(r.ok ? 'ok' : r.code, code, `${l}/${x}/${y}`);
  }
});

/** The tile as documented (tiles/tile-layout.ts), computed here independently from the whole grid. */
function expectedTile(grid: Uint8Array, level: number, tx: number, ty: number): { w: number; h: number; px: number[] } {
  const step = 2 ** level;
  const span = TILE_SIZE * step;
  const px: number[] = [];
  let w = 0;
  let h = 0;
  for (let y = ty * span; y < Math.min(HEIGHT, (ty + 1) * span); y += step) {
    h++;
    w = 0;
    for (let x = tx * span; x < Math.min(WIDTH, (tx + 1) * span); x += step) {
      w++;
      px.push(grid[y * WIDTH + x] as number);
    }
  }
  return { w, h, px };
}

describe('tiles on a standalone server', () => {
  let ts: TestServer;
  let watcher: TestClient;
  let lastSeq = 0;

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${ts.http}${path}`, { headers });
  const tilePaths = (): string[] => {
    const layout = new TileLayout(WIDTH, HEIGHT);
    const out: string[] = [];
    for (let level = 0; level <= layout.maxLevel; level++)
      for (let ty = 0; ty < layout.down(level); ty++)
        for (let tx = 0; tx < layout.across(level); tx++) out.push(`/tiles/${level}/${tx}/${ty}.png`);
    return out;
  };
  const place = async (x: number, y: number, color: number) => {
    const res = await fetch(`${ts.http}/api/pixel`, {
      method: 'POST',
      body: JSON.stringify({ x, y, color }),
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(res.status, 200, await res.clone().text());
    lastSeq = Math.max(lastSeq, ((await res.json()) as { seq: number }).seq);
  };
  /** Resolves once the tick holding every placement so far went out. */
  const ticked = () => watcher.pngAtLeast(lastSeq);
  const encodes = async (): Promise<number> => {
    const text = await (await get('/metrics')).text();
    const m = /^canvas_tile_encodes_total (\d+)/m.exec(text);
    assert.ok(m, 'canvas_tile_encodes_total in /metrics');
    return Number(m[1]);
  };
  const etags = async (): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    for (const path of tilePaths()) {
      const res = await get(path);
      assert.equal(res.status, 200, path);
      await res.arrayBuffer();
      out.set(path, res.headers.get('etag') ?? '');
    }
    return out;
  };

  before(async () => {
    ts = await startTestServer({ width: WIDTH, height: HEIGHT });
    watcher = await TestClient.connect(`${ts.ws}?stream=png`);
    // Both sides of every tile edge (255/256, 511/512), the canvas edges, and odd/even neighbours.
    const xs = [0, 1, 2, 254, 255, 256, 257, 510, 511, 512, 513, 597, 598, 599];
    const ys = [0, 1, 255, 256, 257, 511, 512, 513, 518, 519];
    const placed: Array<Promise<void>> = [];
    let i = 0;
    for (const x of xs) for (const y of ys) placed.push(place(x, y, 1 + (i++ % 15)));
    await Promise.all(placed);
    await ticked();
  });
  after(async () => {
    await watcher?.close();
    await ts?.dispose();
  });

  test('every tile decodes to the grid /image shows: level 0 exactly, higher levels top-left sampled', async () => {
    const image = decodeToIndices(new Uint8Array(await (await get('/image')).arrayBuffer()), ts.config.palette);
    assert.equal(image.width, WIDTH);
    for (const path of tilePaths()) {
      const [level, tx, ty] = (/\/tiles\/(\d+)\/(\d+)\/(\d+)\.png/.exec(path) as RegExpExecArray).slice(1).map(Number);
      const res = await get(path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), 'image/png');
      const tile = decodeToIndices(new Uint8Array(await res.arrayBuffer()), ts.config.palette);
      const want = expectedTile(image.grid, level as number, tx as number, ty as number);
      assert.deepEqual([tile.width, tile.height], [want.w, want.h], path);
      assert.equal(tile.ctype, 3, 'indexed colour');
      assert.deepEqual([...tile.grid], want.px, path);
    }
  });

  test('ETag, 304 on If-None-Match, max-age=1, HEAD', async () => {
    const res = await get('/tiles/0/1/1.png');
    const etag = res.headers.get('etag') ?? '';
    assert.match(etag, /^"tile-[A-Za-z0-9_-]{22}"$/);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=1');
    const body = Buffer.from(await res.arrayBuffer());
    const again = await get('/tiles/0/1/1.png', { 'If-None-Match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.headers.get('etag'), etag);
    const head = await fetch(`${ts.http}/tiles/0/1/1.png`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(body.length));
  });

  test('a tile gets a new ETag only when a pixel in it changed, and unchanged tiles are not encoded again', async () => {
    const before = await etags();
    const encodesBefore = await encodes();
    assert.deepEqual(await etags(), before, 'nothing changed: same ETags');
    assert.equal(await encodes(), encodesBefore, 'nothing changed: no encode');
    // (300, 300) is in level-0 tile (1, 1) and, both coordinates a multiple of 4, is the sampled
    // top-left pixel of its block at levels 1 and 2.
    await place(300, 300, 5);
    // The same colour again on a pixel of tile (2, 0): a placement, but no change of content.
    const same = expectedTile(
      decodeToIndices(new Uint8Array(await (await get('/image')).arrayBuffer()), ts.config.palette).grid,
      0,
      2,
      0,
    );
    await place(512, 0, same.px[0] as number);
    await ticked();
    const after = await etags();
    const changed = [...after].filter(([path, etag]) => before.get(path) !== etag).map(([path]) => path);
    assert.deepEqual(changed.sort(), ['/tiles/0/1/1.png', '/tiles/1/0/0.png', '/tiles/2/0/0.png']);
  });

  test('concurrent requests for a changed tile cause one encode', async () => {
    await place(20, 20, 7);
    await ticked();
    const n = await encodes();
    const answers = await Promise.all(
      Array.from({ length: 25 }, async () => {
        const res = await get('/tiles/0/0/0.png');
        await res.arrayBuffer();
        return `${res.status} ${res.headers.get('etag')}`;
      }),
    );
    assert.equal(new Set(answers).size, 1, answers[0]);
    assert.equal(await encodes(), n + 1);
  });

  test('bad tile paths: 400 invalid_field or 404 not_found with a code; 405 for other methods', async () => {
    for (const [path, status, code] of [
      ['/tiles/-1/0/0.png', 400, 'invalid_field'],
      ['/tiles/x/0/0.png', 400, 'invalid_field'],
      ['/tiles/0/0/1e1.png', 400, 'invalid_field'],
      ['/tiles/0/00/0.png', 400, 'invalid_field'],
      ['/tiles/0/3/0.png', 404, 'not_found'],
      ['/tiles/0/0/3.png', 404, 'not_found'],
      ['/tiles/3/0/0.png', 404, 'not_found'],
      ['/tiles/0/0/0.jpg', 404, 'not_found'],
      ['/tiles/0/0/0.png/more', 404, 'not_found'],
      ['/tiles/0/0', 404, 'not_found'],
    ] as const) {
      const res = await get(path);
      assert.equal(res.status, status, path);
      assert.equal(((await res.json()) as { error: string }).error, code, path);
    }
    const put = await fetch(`${ts.http}/tiles/0/0/0.png`, { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, HEAD');
  });

  test('GET /api/canvas: what a client needs to start, cacheable like /image', async () => {
    // The tests before awaited the tick of every placement: the served frame is at lastSeq.
    const res = await get('/api/canvas');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=1');
    const info = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(info, {
      width: WIDTH,
      height: HEIGHT,
      tileSize: 256,
      maxLevel: 2,
      palette: [...ts.config.palette],
      seq: lastSeq,
      tickMs: ts.config.tickMs,
      cooldownMs: 0,
      resizes: [],
    });
    const etag = res.headers.get('etag') ?? '';
    assert.ok(etag.includes(`-${lastSeq}-`), etag);
    assert.equal((await get('/api/canvas', { 'If-None-Match': etag })).status, 304);
  });
});
