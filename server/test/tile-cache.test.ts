/**
 * The writer's tile cache keeps encoded tiles within its byte bound, least recently asked out first,
 * and encodes an evicted tile again when it is next asked (a real Canvas, real encodes in the pool).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { Canvas } from '../canvas/canvas.ts';
import { PALETTE_2017 } from '../config/palette.ts';
import type { HttpAnswer } from '../http/answer.ts';
import { TileCache } from '../tiles/tile-cache.ts';
import { TILE_SIZE } from '../tiles/tile-layout.ts';

const bodyBytes = (a: HttpAnswer): number => a.body.length;

test('encoded tiles stay within --tile-cache-mb: the least recently asked go first and are encoded again', async () => {
  const canvas = new Canvas(TILE_SIZE * 4, TILE_SIZE * 4, PALETTE_2017.length);
  // The same noise in every level-0 tile, so each encodes to the same few KB.
  let seq = 0;
  let r = 1;
  const noise = new Uint8Array(TILE_SIZE * TILE_SIZE).map(() => {
    r = (r * 1103515245 + 12345) >>> 0;
    return r >>> 28;
  });
  for (let y = 0; y < canvas.height; y++)
    for (let x = 0; x < canvas.width; x++)
      canvas.apply(x, y, noise[(y % TILE_SIZE) * TILE_SIZE + (x % TILE_SIZE)] as number, ++seq);
  const registry = new Registry();
  const probe = new TileCache({
    canvas,
    palette: PALETTE_2017,
    pngLevel: 1,
    registry: new Registry(),
    maxBytes: 1 << 30,
  });
  const one = bodyBytes(await probe.answer({ level: 0, tx: 0, ty: 0 }));
  assert.ok(one > 1000, `a noisy tile is ${one} bytes`);
  // Room for three tiles (with their overhead), not four.
  const maxBytes = Math.floor(3.5 * (one + 512));
  const tiles = new TileCache({ canvas, palette: PALETTE_2017, pngLevel: 1, registry, maxBytes });
  const encodes = async (): Promise<number> => {
    const metric = registry.getSingleMetric('canvas_tile_encodes_total');
    assert.ok(metric);
    return (await metric.get()).values[0]?.value ?? 0;
  };
  const ask = (tx: number) => tiles.answer({ level: 0, tx, ty: 0 });

  const first = await ask(0);
  await ask(1);
  await ask(2);
  assert.equal(await encodes(), 3);
  await ask(0); // now the most recent; tile 1 is the least recently asked
  assert.equal(await encodes(), 3, 'kept: not encoded again');
  await ask(3);
  assert.equal(await encodes(), 4);
  assert.ok(tiles.keptBytes <= maxBytes, `${tiles.keptBytes} bytes kept, bound ${maxBytes}`);
  const again0 = await ask(0);
  assert.equal(await encodes(), 4, 'tile 0 was kept');
  assert.equal(again0.headers.ETag, first.headers.ETag);
  await ask(1);
  assert.equal(await encodes(), 5, 'tile 1 was evicted, so it is encoded again');
  const again1 = await ask(1);
  assert.equal(await encodes(), 5);
  assert.equal(bodyBytes(again1) > 0, true);
});

test('requests during an encode share it, and a tile too large for the bound is served but not kept', async () => {
  const canvas = new Canvas(TILE_SIZE, TILE_SIZE, PALETTE_2017.length);
  for (let i = 0; i < TILE_SIZE; i++) canvas.apply(i, (i * 31) % TILE_SIZE, i % 16, i + 1);
  const registry = new Registry();
  const tiles = new TileCache({ canvas, palette: PALETTE_2017, pngLevel: 1, registry, maxBytes: 16 });
  const answers = await Promise.all(Array.from({ length: 10 }, () => tiles.answer({ level: 0, tx: 0, ty: 0 })));
  assert.equal(new Set(answers.map((a) => a.headers.ETag)).size, 1);
  const metric = registry.getSingleMetric('canvas_tile_encodes_total');
  assert.ok(metric);
  assert.equal((await metric.get()).values[0]?.value, 1, 'one encode for ten concurrent requests');
  assert.equal(tiles.keptBytes, 0);
  await tiles.answer({ level: 0, tx: 0, ty: 0 });
  assert.equal((await metric.get()).values[0]?.value, 2, 'not kept: encoded again');
});
