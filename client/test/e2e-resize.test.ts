/**
 * End-to-end in real headless Chromium: the page follows a live resize (POST /api/admin/resize). In
 * whole-canvas mode and in tile mode the board takes the new size, the art shows where it moved (left
 * and top growth), the view stays on it and the position link follows, placing works at the new
 * coordinates, and the History view shows a canvas from before the resize where its pixels are now.
 * A whole-canvas page whose canvas grows past 4096 a side goes on in tile mode (`use_tiles`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  BLUE,
  RED,
  clickPixel,
  describeBrowser,
  openPage,
  pickColour,
  rgbOf,
  server,
  waitFor,
  waitImage,
  waitLive,
  waitScreen,
  placeAsNewPlayer,
  GREEN,
} from './browser-kit.ts';

const ADMIN = 'sesame';

async function resize(http: string, body: Record<string, number>): Promise<number> {
  const res = await fetch(`${http}/api/admin/resize`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return (JSON.parse(text) as { seq: number }).seq;
}

async function waitSize(page: Page, width: number, height: number): Promise<void> {
  await page.waitForFunction(
    ([w, h]) => {
      const s = window.canvasClient?.size();
      return s?.width === w && s.height === h;
    },
    [width, height] as const,
    { timeout: 10_000 },
  );
}

/** The position link's centre, once the page wrote (x, y). */
async function waitLinkCentre(page: Page, x: number, y: number): Promise<void> {
  await page.waitForFunction(
    ([wx, wy]) => {
      const p = new URLSearchParams(location.hash.slice(1));
      return p.get('x') === String(wx) && p.get('y') === String(wy);
    },
    [x, y] as const,
    { timeout: 5_000 },
  );
}

describeBrowser('browser client: a live resize', () => {
  test('whole-canvas mode: the board grows, the art and the view move with it, placing and History keep working', {
    timeout: 60_000,
  }, async () => {
    const ts = await server({ adminToken: ADMIN });
    const first = (await placeAsNewPlayer(ts.http, 30, 24, RED)).seq;
    const last = (await placeAsNewPlayer(ts.http, 0, 0, BLUE)).seq;
    await waitImage(ts, 0, 0, BLUE);
    const { page, errors, received } = await openPage(ts.http, {}, { path: '/#x=30&y=24&scale=8' });
    await waitLive(page, last);
    await waitScreen(page, 30, 24, rgbOf(RED));

    const seq = await resize(ts.http, { width: 80, height: 60, left: 10, top: 5 });
    await waitSize(page, 80, 60);
    await waitLive(page, seq);
    assert.ok(received.some((m) => m.t === 'resize'));
    await waitScreen(page, 40, 29, rgbOf(RED));
    await waitScreen(page, 10, 5, rgbOf(BLUE));
    // The view stayed on the art, and the link says where that is now.
    await waitLinkCentre(page, 40, 29);

    // Placing in the new coordinates, at the far corner that did not exist before.
    await pickColour(page, GREEN);
    await clickPixel(page, 79, 59);
    await waitImage(ts, 79, 59, GREEN);
    await waitScreen(page, 79, 59, rgbOf(GREEN));

    // History: the canvas right after `first` (before the resize) shows where its pixels are now.
    await page.keyboard.press('Escape');
    await page.locator('#view').focus();
    await page.keyboard.press('h');
    await page.locator('#history-panel').waitFor({ state: 'visible' });
    await page.keyboard.press('Home');
    for (let s = 0; s < first; s++) await page.keyboard.press('ArrowRight');
    await page.waitForFunction((s) => window.canvasClient?.historySeq() === s, first);
    await waitScreen(page, 40, 29, rgbOf(RED));
    await waitScreen(page, 10, 5, rgbOf(0)); // BLUE came after `first`
    assert.deepEqual(errors, []);
  });

  test('tile mode: the layout grows, tiles load at the new coordinates and region deltas follow', {
    timeout: 60_000,
  }, async () => {
    const ts = await server({ adminToken: ADMIN, width: 600, height: 400 });
    const last = (await placeAsNewPlayer(ts.http, 300, 200, RED)).seq;
    await waitImage(ts, 300, 200, RED);
    const { page, errors, sent } = await openPage(ts.http, {}, { path: '/?tiles=1#x=300&y=200&scale=4' });
    await waitLive(page, last);
    await waitScreen(page, 300, 200, rgbOf(RED));

    const seq = await resize(ts.http, { width: 900, height: 500, left: 100, top: 50 });
    await waitSize(page, 900, 500);
    await waitScreen(page, 400, 250, rgbOf(RED), 10_000);
    await waitLinkCentre(page, 400, 250);
    // It subscribed again, to the tiles of the new layout around the art.
    const regions = sent.filter((m) => m.t === 'subscribe' && m.tx !== undefined);
    assert.ok(regions.length >= 2, 'a second region subscription after the resize');
    // A placement next to it arrives as a region delta in the new coordinates.
    const after = (await placeAsNewPlayer(ts.http, 410, 250, BLUE)).seq;
    assert.ok(after > seq);
    await waitScreen(page, 410, 250, rgbOf(BLUE), 10_000);
    assert.deepEqual(errors, []);
  });

  test('whole-canvas mode, grown past 4096 a side: the page goes on in tile mode, on the art, placing', {
    timeout: 90_000,
  }, async () => {
    const ts = await server({ adminToken: ADMIN, width: 1000, height: 1000 });
    await placeAsNewPlayer(ts.http, 30, 24, RED);
    const last = (await placeAsNewPlayer(ts.http, 0, 0, BLUE)).seq;
    await waitImage(ts, 0, 0, BLUE);
    const paths: string[] = [];
    const { page, errors, received } = await openPage(
      ts.http,
      {},
      {
        path: '/#x=30&y=24&scale=8',
        before: async (p) => void p.on('request', (r) => paths.push(new URL(r.url()).pathname)),
      },
    );
    await waitLive(page, last);
    await waitScreen(page, 30, 24, rgbOf(RED));
    assert.ok(!paths.some((p) => p.startsWith('/tiles/')), 'whole-canvas mode first');

    const seq = await resize(ts.http, { width: 8192, height: 6000, left: 100, top: 50 });
    await waitSize(page, 8192, 6000);
    // The resize, then use_tiles with no id: the page read GET /api/canvas again and loads tiles.
    const kinds = received.map((m) => (m.t === 'error' ? `error ${m.code}` : m.t));
    assert.ok(kinds.indexOf('resize') < kinds.indexOf('error use_tiles'), kinds.join(', '));
    await waitScreen(page, 130, 74, rgbOf(RED), 15_000);
    await waitScreen(page, 100, 50, rgbOf(BLUE), 15_000);
    await waitLinkCentre(page, 130, 74);
    assert.ok(
      paths.some((p) => p.startsWith('/tiles/0/')),
      'level-0 tiles',
    );
    assert.ok(paths.filter((p) => p === '/api/canvas').length >= 2, 'GET /api/canvas asked again');
    // Placing from the page at the new coordinates, and another player's placement as a region delta.
    await pickColour(page, BLUE);
    await clickPixel(page, 135, 78);
    await waitFor(() => received.find((m) => m.t === 'ack' && m.seq > seq), 'the ack of the placement from the page');
    await waitScreen(page, 135, 78, rgbOf(BLUE));
    await placeAsNewPlayer(ts.http, 128, 70, RED);
    await waitScreen(page, 128, 70, rgbOf(RED), 10_000);
    assert.deepEqual(errors, []);
  });
});
