/**
 * End-to-end in real headless Chromium: a canvas bigger than one board tile (view/board-tiles.ts), so
 * snapshots and ticks are drawn across tiles, and the PNG decoder's fallback when its worker cannot load.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TestClient } from '../../testkit/fixture.ts';
import { BLUE, RED, describeBrowser, openPage, rgbOf, server, waitLive, waitScreen } from './browser-kit.ts';

/** Pixels on both sides of the tile edges at 1024 (x and y). */
const EDGE: Array<[number, number, number]> = [
  [1023, 1023, RED],
  [1024, 1023, BLUE],
  [1023, 1024, BLUE],
  [1024, 1024, RED],
];

/** A 1100 x 1100 server (2 x 2 tiles) whose snapshot has EDGE placed; resolves with that seq. */
async function edgeServer() {
  const ts = await server({ width: 1100, height: 1100 });
  const c = await TestClient.connect(ts.ws);
  for (const [i, [x, y, colour]] of EDGE.entries()) c.send({ t: 'place', id: i + 1, x, y, c: colour });
  const last = await c.next((m) => m.t === 'ack' && m.id === EDGE.length, 10_000);
  const seq = last.t === 'ack' ? last.seq : 0;
  await c.pngAtLeast(seq, 10_000);
  return { ts, client: c, seq };
}

describeBrowser('browser client: a canvas of several tiles', () => {
  test('a snapshot and the ticks after it show on both sides of the tile edges', { timeout: 60_000 }, async () => {
    const { ts, client, seq } = await edgeServer();
    const { page, errors } = await openPage(ts.http, {}, { path: '/#x=1024&y=1024&scale=8' });
    await waitLive(page, seq);
    for (const [x, y, colour] of EDGE) await waitScreen(page, x, y, rgbOf(colour));
    // A tick touching all four tiles at once.
    for (const [i, [x, y, colour]] of EDGE.entries()) {
      client.send({ t: 'place', id: 10 + i, x, y, c: colour === RED ? BLUE : RED });
    }
    for (const [x, y, colour] of EDGE) await waitScreen(page, x, y, rgbOf(colour === RED ? BLUE : RED));
    await client.close();
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('when the decoder worker cannot load, the page decodes on the main thread and shows the canvas', {
    timeout: 60_000,
  }, async () => {
    const { ts, client, seq } = await edgeServer();
    await client.close();
    let asked = false;
    const { page, errors } = await openPage(
      ts.http,
      {},
      {
        path: '/#x=1024&y=1024&scale=8',
        before: async (p) => {
          await p.route('**/assets/png-worker.js*', (route) => {
            asked = true;
            return route.fulfill({ status: 404, body: 'gone' });
          });
        },
      },
    );
    await waitLive(page, seq);
    for (const [x, y, colour] of EDGE) await waitScreen(page, x, y, rgbOf(colour));
    assert.ok(asked, 'the page tried to load the worker');
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
