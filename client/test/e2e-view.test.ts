/**
 * End-to-end in real headless Chromium against real servers: the polling fallback when WebSockets
 * are blocked, wheel/drag/keys, zoom-to-aim on a big canvas, and touch on a phone-sized screen.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fillNoise, TestClient } from '../../testkit/fixture.ts';
import {
  BLUE,
  RED,
  clickPixel,
  clientPoint,
  currentBrowser,
  describeBrowser,
  installScreenReader,
  messageText,
  openPage,
  paletteDisabled,
  pickColour,
  rgbOf,
  server,
  shownColour,
  waitImage,
  waitLive,
  waitScreen,
} from './browser-kit.ts';

describeBrowser('browser client: viewing, input and fallback', () => {
  test('when the WebSocket is blocked the page polls GET /image with If-None-Match and says so', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();

    const context = await currentBrowser().newContext({ viewport: { width: 1000, height: 700 } });
    await context.addInitScript(installScreenReader);
    // A proxy that accepts the upgrade and drops the connection at once.
    await context.routeWebSocket(/\/ws/, (ws) => ws.close());
    const page = await context.newPage();
    const conditional: string[] = [];
    page.on('request', (r) => {
      const tag = r.headers()['if-none-match'];
      if (r.url().endsWith('/image') && tag) conditional.push(tag);
    });
    await page.goto(`${ts.http}/`);
    await page.waitForFunction(() => window.canvasClient?.status() === 'polling', null, { timeout: 15_000 });
    assert.match((await page.locator('#status').textContent()) ?? '', /polling/);

    const c = await TestClient.connect(ts.ws);
    c.send({ t: 'place', id: 1, x: 40, y: 9, c: BLUE });
    await c.nextOf('ack');
    await c.close();
    await waitScreen(page, 40, 9, rgbOf(BLUE), 5_000);
    assert.ok(conditional.length > 0, 'polls revalidate with If-None-Match');
    // Placing goes over HTTP (POST /api/pixel) while the WebSocket is blocked.
    await page.waitForFunction(() => document.body.dataset['placing'] === 'on');
    assert.equal(await paletteDisabled(page), false);
    await pickColour(page, RED);
    await clickPixel(page, 1, 1);
    await waitImage(ts, 1, 1, RED);
    await waitScreen(page, 1, 1, rgbOf(RED));
    await context.close();
  });

  test('wheel zooms toward the pointer, drag pans without placing, keys pan and zoom', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http);
    await pickColour(page, RED);
    const scale = async () => (await page.evaluate(() => window.canvasClient?.scale())) ?? 0;
    const pixelAt = (x: number, y: number) =>
      page.evaluate(([cx, cy]) => window.canvasClient?.pixelAtClient(cx, cy) ?? null, [x, y] as const);

    const p = await clientPoint(page, 20, 30);
    await page.mouse.move(p.x, p.y);
    const before = await scale();
    await page.mouse.wheel(0, -400);
    await page.waitForFunction((s) => (window.canvasClient?.scale() ?? 0) > s, before);
    assert.deepEqual(await pixelAt(p.x, p.y), { x: 20, y: 30 }, 'the pixel under the pointer stays under it');

    // Drag, zoom mid-drag, keep dragging: the grabbed pixel stays under the pointer throughout.
    await page.mouse.down();
    await page.mouse.move(p.x - 60, p.y - 40, { steps: 5 });
    const midDrag = await scale();
    await page.mouse.wheel(0, 200);
    await page.waitForFunction((s) => (window.canvasClient?.scale() ?? 0) !== s, midDrag);
    await page.mouse.move(p.x - 90, p.y - 50, { steps: 3 });
    assert.deepEqual(await pixelAt(p.x - 90, p.y - 50), { x: 20, y: 30 });
    await page.mouse.up();
    assert.equal(await shownColour(page, 20, 30), 0, 'a drag is not a click: nothing placed');

    await page.locator('#view').focus();
    const zoomBefore = await scale();
    await page.keyboard.press('+');
    assert.ok((await scale()) > zoomBefore);
    await page.keyboard.press('-');
    assert.ok(Math.abs((await scale()) - zoomBefore) < 1e-9);
    // Off the canvas (where the arrows move the placing cursor instead), the arrows pan.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const centre = { x: 500, y: 350 };
    const atCentre = await pixelAt(centre.x, centre.y);
    await page.keyboard.press('ArrowRight');
    const moved = await pixelAt(centre.x, centre.y);
    assert.ok(atCentre && moved && moved.x > atCentre.x, 'ArrowRight shows what is further right');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('on a canvas too big to aim at, a click zooms in there first; the next click places', {
    timeout: 60_000,
  }, async () => {
    const ts = await server({ width: 600, height: 400 }); // fits 1000 x 700 at under 2 px per pixel
    const open = await openPage(ts.http);
    const { page, errors } = open;
    await pickColour(page, RED);
    const p = await clientPoint(page, 300, 200);
    const before = (await page.evaluate(() => window.canvasClient?.scale())) ?? 0;
    assert.ok(before < 3);
    await page.mouse.click(p.x, p.y);
    assert.ok(((await page.evaluate(() => window.canvasClient?.scale())) ?? 0) >= 10);
    assert.match(await messageText(page), /Zoomed in/);
    const aimed = await page.evaluate(([x, y]) => window.canvasClient?.pixelAtClient(x, y) ?? null, [
      p.x,
      p.y,
    ] as const);
    assert.ok(aimed && Math.abs(aimed.x - 300) <= 1 && Math.abs(aimed.y - 200) <= 1, 'zoomed toward the click');
    assert.equal(open.sent.filter((m) => m.t === 'place').length, 0, 'nothing placed by the zooming click');
    await clickPixel(page, 300, 200);
    await waitImage(ts, 300, 200, RED);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('snapshots and ticks that arrive as fragmented messages show exactly the server grid', {
    timeout: 60_000,
  }, async () => {
    const ts = await server({ width: 600, height: 400 });
    fillNoise(ts.server.canvas, 0xf7a9); // noise: every PNG is ~120 KB, sent in 15 KiB fragments
    const placer = await TestClient.connect(ts.ws);
    placer.send({ t: 'place', id: 1, x: 0, y: 0, c: RED });
    const seq = (await placer.nextOf('ack')).seq;
    await placer.pngAtLeast(seq); // the tick encoded the noise
    const open = await openPage(ts.http);
    const { page, errors } = open;
    await waitLive(page, seq);
    const snapshot = open.received.find((m) => m.t === 'png' && m.seq >= seq);
    assert.ok(snapshot && snapshot.t === 'png' && snapshot.png.length > 15 * 1024, 'the snapshot was fragmented');
    const grid = ts.server.canvas.toGrid();
    for (const [x, y] of [
      [0, 0],
      [1, 0],
      [599, 0],
      [300, 200],
      [17, 333],
      [599, 399],
    ] as const) {
      assert.equal(await shownColour(page, x, y), grid[y * 600 + x], `pixel (${x}, ${y})`);
    }
    placer.send({ t: 'place', id: 2, x: 5, y: 6, c: BLUE });
    const next = (await placer.nextOf('ack')).seq;
    await waitLive(page, next);
    assert.equal(await shownColour(page, 5, 6), BLUE);
    await placer.close();
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('on a phone-sized touch screen: tap aims, confirm places, pinch zooms about the fingers', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http, {
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    await pickColour(page, BLUE);
    const p = await clientPoint(page, 12, 12);
    await page.touchscreen.tap(p.x, p.y);
    await page.locator('#confirm').click();
    await waitImage(ts, 12, 12, BLUE);

    const scale = async () => (await page.evaluate(() => window.canvasClient?.scale())) ?? 0;
    const before = await scale();
    const mid = await clientPoint(page, 32, 24);
    const cdp = await page.context().newCDPSession(page);
    const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', d: number) =>
      cdp.send('Input.dispatchTouchEvent', {
        type,
        touchPoints:
          type === 'touchEnd'
            ? []
            : [
                { x: mid.x - d, y: mid.y, id: 1 },
                { x: mid.x + d, y: mid.y, id: 2 },
              ],
      });
    await touch('touchStart', 20);
    for (let d = 25; d <= 80; d += 5) await touch('touchMove', d);
    await touch('touchEnd', 0);
    const after = await scale();
    assert.ok(after > before * 3, `pinch zoomed from ${before} to ${after}`);
    const under = await page.evaluate(([x, y]) => window.canvasClient?.pixelAtClient(x, y) ?? null, [
      mid.x,
      mid.y,
    ] as const);
    assert.deepEqual(under, { x: 32, y: 24 }, 'the pinched pixel stays between the fingers');
    assert.equal(await shownColour(page, 32, 24), 0, 'a pinch is not a tap');
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
