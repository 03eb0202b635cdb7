/**
 * End-to-end in real headless Chromium on a 16,384 x 16,384 canvas (the largest the server holds):
 * the page loads from tiles, shows placements in far corners where they are once the view moves
 * there, places a pixel itself, and its memory follows the screen, not the canvas (before the board
 * was kept in blocks, one grid was 268 MB and the renderer's image 1 GiB).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { PALETTE_2017 } from '../../server/config/palette.ts';
import { decodeToIndices, TestClient } from '../../testkit/fixture.ts';
import {
  BLUE,
  RED,
  clickPixel,
  describeBrowser,
  jsMemory,
  openPage,
  pickColour,
  rgbOf,
  server,
  waitFor,
  waitLive,
  waitScreen,
} from './browser-kit.ts';

const SIDE = 16_384;
/** Placed over the WebSocket before the page loads: the four corners and the centre. */
const CORNERS: Array<[number, number, number]> = [
  [0, 0, RED],
  [SIDE - 1, 0, BLUE],
  [0, SIDE - 1, BLUE],
  [SIDE - 1, SIDE - 1, RED],
  [SIDE / 2, SIDE / 2, RED],
];
/**
 * The page's JS memory bound: V8's heap plus ArrayBuffer backing stores (typed arrays, ImageData).
 * Seen: ~10-20 MB (see the test's log line); a full-size grid alone would be 268 MB.
 */
const HEAP_BUDGET = 150 * 1024 * 1024;

/**
 * Follows a position link, and resolves once a frame of the new view is on screen: the screen
 * reader maps board pixels through the new view, and the frame before it (the last corner, at the
 * same place on screen) would pass for the next one.
 */
async function goTo(page: Page, x: number, y: number, scale: number): Promise<void> {
  await page.evaluate(
    ([hx, hy, s]) =>
      new Promise<void>((resolve) => {
        location.hash = `#x=${hx}&y=${hy}&scale=${s}`;
        requestAnimationFrame(() => requestAnimationFrame(() => resolve()));
      }),
    [x, y, scale] as const,
  );
}

describeBrowser('browser client: a 16,384 x 16,384 canvas', () => {
  test('loads from tiles, shows far corners where they are, places, and its memory stays bounded', {
    timeout: 120_000,
  }, async () => {
    const ts = await server({ width: SIDE, height: SIDE });
    const c = await TestClient.connect(ts.ws);
    for (const [i, [x, y, colour]] of CORNERS.entries()) c.send({ t: 'place', id: i + 1, x, y, c: colour });
    const last = await c.next((m) => m.t === 'ack' && m.id === CORNERS.length, 10_000);
    const seq = last.t === 'ack' ? last.seq : 0;
    const paths: string[] = [];
    const { page, errors, received } = await openPage(
      ts.http,
      {},
      {
        path: '/#x=10&y=10&scale=8',
        live: false,
        before: async (p) => {
          p.on('request', (r) => paths.push(new URL(r.url()).pathname));
        },
      },
    );
    await waitLive(page, seq, 30_000);
    await waitScreen(page, 0, 0, rgbOf(RED), 10_000);
    assert.ok(!paths.includes('/image'), 'no GET /image');
    assert.ok(
      received.some((m) => m.t === 'error' && m.code === 'use_tiles'),
      'the server says the canvas is served as tiles',
    );
    // Every other corner: the view moves there, its tiles load, the pixel shows at its place.
    for (const [x, y, colour] of CORNERS.slice(1)) {
      await goTo(page, x, y, 8);
      await waitScreen(page, x, y, rgbOf(colour), 15_000);
      const shown = await page.evaluate(([bx, by]) => window.canvasClient?.colourAt(bx, by), [x, y] as const);
      assert.equal(shown, colour, `the board holds (${x}, ${y}) too`);
    }
    // A placement made elsewhere while the page looks at the bottom-right corner arrives as a region delta.
    await goTo(page, SIDE - 20, SIDE - 20, 8);
    c.send({ t: 'place', id: 10, x: SIDE - 3, y: SIDE - 5, c: BLUE });
    await waitScreen(page, SIDE - 3, SIDE - 5, rgbOf(BLUE), 10_000);
    // Placing from the page, in that corner: shown, acked, and stored (the server's tile has it).
    await pickColour(page, RED);
    await clickPixel(page, SIDE - 10, SIDE - 12);
    await waitScreen(page, SIDE - 10, SIDE - 12, rgbOf(RED));
    await waitFor(() => received.find((m) => m.t === 'ack'), 'the ack of the placement from the page', 10_000);
    // The server's tile shows it from the tick after the ack on.
    const tile = SIDE / 256 - 1;
    for (let deadline = Date.now() + 5_000; ; ) {
      const res = await fetch(`${ts.http}/tiles/0/${tile}/${tile}.png`, { cache: 'no-store' });
      const img = decodeToIndices(new Uint8Array(await res.arrayBuffer()), PALETTE_2017);
      if (img.grid[(256 - 12) * img.width + (256 - 10)] === RED) break;
      assert.ok(Date.now() < deadline, 'the server stored it');
      await new Promise((r) => setTimeout(r, 50)); // the tile changes once per tick
    }
    // Zoomed out to the whole canvas: drawn from the pyramid, the corner pixels' blocks in place.
    await goTo(page, SIDE / 2, SIDE / 2, 0.04);
    await waitFor(
      () => (paths.some((p) => /^\/tiles\/[1-9]\d*\//.test(p)) ? true : undefined),
      'pyramid tiles asked for',
    );
    await page.waitForFunction(() => (window.canvasClient?.scale() ?? 1) < 0.1);
    // The centre's block (its top-left pixel at every level), read in the block's middle.
    await waitScreen(page, SIDE / 2 + 8, SIDE / 2 + 8, rgbOf(RED), 10_000);
    const memory = await jsMemory(page);
    console.log(`# page JS heap + ArrayBuffers after visiting the corners: ${(memory / 1048576).toFixed(1)} MB`);
    assert.ok(memory < HEAP_BUDGET, `${memory} bytes`);
    await c.close();
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
