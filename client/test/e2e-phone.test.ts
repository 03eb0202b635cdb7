/**
 * End-to-end in real headless Chromium on a 390 x 844 touch phone: a tap only aims (a reticle on the
 * pixel), the confirm button places; during a cooldown every top-bar text is whole and on screen; every
 * control is a touch target of at least 44 px. Screenshots of the phone states, light and dark.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrowserContextOptions, Page } from 'playwright-core';
import {
  BLUE,
  clientPoint,
  describeBrowser,
  openPage,
  rgbOf,
  screenshotPath,
  server,
  waitImage,
  waitScreen,
} from './browser-kit.ts';
import { TestClient } from '../../testkit/fixture.ts';

const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 3,
};

const pixelInfo = async (http: string, x: number, y: number) =>
  (await (await fetch(`${http}/api/pixel?x=${x}&y=${y}`)).json()) as { color: number; who: string | null };

/** Every text and control of the top bar: whole (no overflow, no ellipsis) and inside the viewport. */
async function topBarFits(page: Page): Promise<void> {
  const parts = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('header.top > *')]
      .filter((e) => getComputedStyle(e).display !== 'none')
      .map((e) => {
        const r = e.getBoundingClientRect();
        return {
          id: e.id || e.className,
          text: e.textContent ?? '',
          box: { left: r.left, right: r.right, top: r.top, bottom: r.bottom },
          overflowX: e.scrollWidth - e.clientWidth,
          overflowY: e.scrollHeight - e.clientHeight,
          ellipsis: getComputedStyle(e).textOverflow === 'ellipsis',
        };
      }),
  );
  const ids = parts.map((p) => p.id);
  for (const id of ['status', 'cursor', 'cooldown']) assert.ok(ids.includes(id), `#${id} is shown`);
  for (const p of parts) {
    assert.ok(p.overflowX <= 0 && p.overflowY <= 0, `${p.id} "${p.text}" is not cut off: ${JSON.stringify(p)}`);
    assert.equal(p.ellipsis, false, `${p.id} never ends in an ellipsis`);
    assert.ok(
      p.box.left >= 0 && p.box.right <= 390 && p.box.top >= 0,
      `${p.id} inside the viewport: ${JSON.stringify(p.box)}`,
    );
  }
}

describeBrowser('browser client: on a phone', () => {
  test('a tap shows the reticle and places nothing; only the confirm button places', { timeout: 60_000 }, async () => {
    const ts = await server({ cooldownMs: 30_000 });
    const open = await openPage(ts.http, PHONE);
    const { page, errors } = open;
    await page.locator(`#swatches button[data-index="${BLUE}"]`).tap();
    const confirm = page.locator('#confirm');
    assert.equal(await confirm.isVisible(), false, 'no reticle, no confirm button yet');

    const p = await clientPoint(page, 12, 12);
    await page.touchscreen.tap(p.x, p.y);
    await confirm.waitFor({ state: 'visible' });
    assert.deepEqual(await page.evaluate(() => window.canvasClient?.reticle() ?? null), { x: 12, y: 12 });
    assert.equal(await confirm.textContent(), 'Place at (12, 12)');
    assert.match((await page.locator('#cursor').textContent()) ?? '', /\(12, 12\)/);
    // The tap was handled (the confirm button shows): had it placed, the frame would be out already.
    assert.equal(open.sent.filter((m) => m.t === 'place').length, 0, 'a tap sends no placement');
    assert.equal(await page.evaluate(() => window.canvasClient?.colourAt(12, 12)), 0, 'nothing shown placed');
    assert.equal((await pixelInfo(ts.http, 12, 12)).who, null, 'the server has nothing at the pixel');
    await page.screenshot({ path: screenshotPath('phone-reticle') });

    // A second tap moves the reticle; still nothing placed.
    const q = await clientPoint(page, 20, 14);
    await page.touchscreen.tap(q.x, q.y);
    await page.waitForFunction(() => window.canvasClient?.reticle()?.x === 20);
    assert.equal(open.sent.filter((m) => m.t === 'place').length, 0);

    await confirm.tap();
    await waitImage(ts, 20, 14, BLUE);
    await waitScreen(page, 20, 14, rgbOf(BLUE));
    assert.equal((await pixelInfo(ts.http, 12, 12)).who, null, 'the first tap never placed');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('during a cooldown the status, coordinates and countdown are whole and on screen', {
    timeout: 60_000,
  }, async () => {
    const ts = await server({ cooldownMs: 90_000 });
    const { page, errors } = await openPage(ts.http, PHONE);
    await page.locator(`#swatches button[data-index="${BLUE}"]`).tap();
    const p = await clientPoint(page, 63, 47); // the widest coordinates of this canvas
    await page.touchscreen.tap(p.x, p.y);
    await page.locator('#confirm').tap();
    await waitImage(ts, 63, 47, BLUE);
    await page.waitForFunction(() =>
      /^Next pixel in 1:\d\d$/.test(document.getElementById('cooldown')?.textContent ?? ''),
    );
    assert.match((await page.locator('#cursor').textContent()) ?? '', /^\(63, 47\) dark blue$/);
    assert.equal(await page.locator('#status').textContent(), 'Live');
    await topBarFits(page);
    // The first tap zoomed in to aim (one reticle per pixel), about the finger.
    assert.ok(((await page.evaluate(() => window.canvasClient?.scale())) ?? 0) >= 12, 'zoomed in to aim');
    // Aiming again during the cooldown: the confirm button counts down and cannot be pressed.
    const q = await clientPoint(page, 60, 45);
    await page.touchscreen.tap(q.x, q.y);
    await page.waitForFunction(() => window.canvasClient?.reticle()?.x === 60);
    const confirm = page.locator('#confirm');
    assert.match((await confirm.textContent()) ?? '', /^Place at \(60, 45\) in 1:\d\d$/);
    assert.equal(await confirm.isDisabled(), true, 'disabled during the cooldown');
    await page.screenshot({ path: screenshotPath('phone-cooldown') });

    // Every control is a touch target of at least 44 x 44 CSS px.
    const small = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('button, input')]
        .filter((e) => e.getClientRects().length > 0)
        .map((e) => ({ what: e.id || e.getAttribute('aria-label') || e.className, r: e.getBoundingClientRect() }))
        .filter(({ r }) => r.width < 44 || r.height < 44)
        .map(({ what, r }) => `${what} ${r.width} x ${r.height}`),
    );
    assert.deepEqual(small, []);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('the longest status (polling, WebSocket blocked) wraps in the top bar instead of being cut', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http, PHONE, {
      live: false,
      before: (p) => p.routeWebSocket(/\/ws/, (ws) => ws.close()), // a proxy that drops upgrades
    });
    // "polling" is said when polling starts; the first image (and with it the view) follows its fetch.
    await page.waitForFunction(
      () => window.canvasClient?.status() === 'polling' && window.canvasClient.pixelToClient(63, 47) !== null,
      null,
      { timeout: 15_000 },
    );
    const p = await clientPoint(page, 63, 47);
    await page.touchscreen.tap(p.x, p.y); // no colour: pixel info, and the coordinates in the bar
    await page.waitForFunction(() => (document.getElementById('cursor')?.textContent ?? '').startsWith('(63, 47)'));
    assert.match((await page.locator('#status').textContent()) ?? '', /polling \(WebSocket blocked/);
    await topBarFits(page);
    await page.screenshot({ path: screenshotPath('phone-polling') });
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('the template panel and the dark theme fit the phone too', { timeout: 60_000 }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http, { ...PHONE, colorScheme: 'dark' });
    const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.locator('#template-toggle').tap();
    const panel = page.locator('#template-panel');
    await panel.waitFor({ state: 'visible' });
    const box = await panel.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `panel inside the screen: ${JSON.stringify(box)}`);
    await topBarFits(page);
    await page.screenshot({ path: screenshotPath('phone-template-panel-dark') });
    await page.emulateMedia({ colorScheme: 'light' });
    const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(light, dark, 'the page follows the system theme');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('a pinch that starts on the palette, the top bar or a panel never zooms the page', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http, PHONE);
    await page.locator('#template-toggle').tap();
    await page.locator('#template-panel').waitFor({ state: 'visible' });
    const scale = await page.evaluate(() => window.canvasClient?.scale());
    const cdp = await page.context().newCDPSession(page);
    for (const selector of ['#palette', 'header.top', '#template-panel']) {
      const box = await page.locator(selector).boundingBox();
      assert.ok(box, selector);
      const mid = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
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
      await touch('touchStart', 10);
      for (let d = 15; d <= 120; d += 5) await touch('touchMove', d);
      await touch('touchEnd', 0);
      // The browser's pinch-zoom would have shown by the next frame.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      assert.equal(await page.evaluate(() => visualViewport?.scale), 1, `a pinch on ${selector} leaves the page at 1`);
    }
    assert.equal(await page.evaluate(() => window.canvasClient?.scale()), scale, 'nor zooms the board');
    const swatches = await page.evaluate(() =>
      [...document.querySelectorAll('#swatches button')].every((b) => {
        const r = b.getBoundingClientRect();
        return r.right <= innerWidth && r.bottom <= innerHeight;
      }),
    );
    assert.ok(swatches, 'the palette stays on screen');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('on a 320 px phone every colour is on screen and the page no wider, large text too', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http, { ...PHONE, viewport: { width: 320, height: 640 } });
    const fits = () =>
      page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        outside: [...document.querySelectorAll<HTMLElement>('#swatches button')]
          .map((b) => ({ i: b.dataset['index'], r: b.getBoundingClientRect() }))
          .filter(
            ({ r }) => r.left < 0 || r.right > innerWidth || r.bottom > innerHeight || r.height < 44 || r.width < 24,
          )
          .map(({ i, r }) => `${i}: ${r.left}..${r.right} x ${r.height}`),
        count: document.querySelectorAll('#swatches button').length,
      }));
    const hint = page.locator('#hint');
    assert.match((await hint.textContent()) ?? '', /tap a pixel to aim, then press "Place"/, 'the phone hint');
    const normal = await fits();
    assert.equal(normal.count, 16);
    assert.deepEqual(normal.outside, [], 'every swatch inside the viewport, 44 px tall, at least 24 px wide');
    assert.ok(normal.page <= 320, `the page is ${normal.page} px wide`);
    await page.screenshot({ path: screenshotPath('phone-320') });
    // Large text (the browser's text size at 200%).
    await page.addStyleTag({ content: 'body { font-size: 28px !important; }' });
    const large = await fits();
    assert.deepEqual(large.outside, [], 'with large text too');
    assert.ok(large.page <= 320, `with large text the page is ${large.page} px wide`);
    await page.screenshot({ path: screenshotPath('phone-320-large-text') });
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('a big canvas shown whole keeps a lone pixel visible; zoomed in, the minimap shows', {
    timeout: 90_000,
  }, async () => {
    const ts = await server({ width: 2000, height: 2000 });
    const c = await TestClient.connect(ts.ws);
    c.send({ t: 'place', id: 1, x: 1001, y: 1001, c: 3 }); // one dark pixel on white
    await c.nextOf('ack');
    await c.close();
    await waitImage(ts, 1001, 1001, 3, 10_000);
    const { page, errors } = await openPage(ts.http, PHONE);
    const scale = (await page.evaluate(() => window.canvasClient?.scale())) ?? 1;
    assert.ok(scale * 3 < 1, `the whole canvas: under one device pixel per pixel (${scale})`);
    // Nearest neighbour would keep only some pixels in each block; the overview keeps the dark one.
    await waitScreen(page, 1001, 1001, rgbOf(3));
    await page.screenshot({ path: screenshotPath('phone-big-canvas-fit') });
    await page.goto(`${ts.http}/#x=1001&y=1001&scale=16`);
    await page.waitForFunction(() => window.canvasClient?.scale() === 16);
    await page.locator('#minimap').waitFor({ state: 'visible' });
    await waitScreen(page, 1001, 1001, rgbOf(3));
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
