/**
 * End-to-end in real headless Chromium: position links (`#x=&y=&scale=` in Pxls's form) open the view
 * there and follow it; a reload keeps the view and the colour; the page says it is loading until the
 * first snapshot; the cooldown is one countdown, also in the tab title; "Retry now" reconnects at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  BLUE,
  RED,
  children,
  clickPixel,
  cooldownShownOnce,
  describeBrowser,
  openPage,
  paletteDisabled,
  pickColour,
  server,
  spawnServer,
  waitImage,
  waitLive,
  relayedServer,
} from './browser-kit.ts';

const TEMPLATE = 'template=https%3A%2F%2Fexample.com%2Fart.png&ox=3&oy=4';

/** The board pixel at the centre of the canvas element. */
const centrePixel = (page: Page) =>
  page.evaluate(() => {
    const r = document.getElementById('view')?.getBoundingClientRect();
    return r ? (window.canvasClient?.pixelAtClient(r.left + r.width / 2, r.top + r.height / 2) ?? null) : null;
  });

const hashParams = async (page: Page): Promise<URLSearchParams> =>
  new URLSearchParams((await page.evaluate(() => location.hash)).slice(1));

describeBrowser('browser client: position links and honest states', () => {
  test('a position link opens centred on its pixel at its scale; the hash follows a drag', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http, {}, { path: `/#x=10&y=20&scale=8&${TEMPLATE}` });
    assert.equal(await page.evaluate(() => window.canvasClient?.scale()), 8);
    assert.deepEqual(await centrePixel(page), { x: 10, y: 20 });

    const canvas = await page.locator('#view').boundingBox();
    assert.ok(canvas);
    const entries = await page.evaluate(() => history.length);
    const from = { x: canvas.x + canvas.width / 2, y: canvas.y + canvas.height / 2 };
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x - 40, from.y - 24, { steps: 4 });
    await page.mouse.move(from.x - 80, from.y - 48, { steps: 4 });
    await page.mouse.up();
    assert.deepEqual(await centrePixel(page), { x: 20, y: 26 }, 'dragged 10 and 6 pixels at scale 8');
    await page.waitForFunction(() => location.hash.startsWith('#x=20&y=26&scale=8'));
    assert.equal(await page.evaluate(() => history.length), entries, 'replaceState: no history entries');
    assert.ok((await page.evaluate(() => location.hash)).endsWith(TEMPLATE), "other tools' params survive");
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test("a link pasted into an open tab moves the view; so does the pixel info's copied link", {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(
      ts.http,
      { permissions: ['clipboard-read', 'clipboard-write'] },
      { path: '/#x=10&y=20&scale=8' },
    );
    assert.deepEqual(await centrePixel(page), { x: 10, y: 20 });
    // Pixel info's "Copy link" (no colour in hand: a click shows the pixel's info).
    await clickPixel(page, 15, 23);
    await page.locator('#pixel-info .info-copy').click();
    await page.locator('#pixel-info .info-copied').waitFor({ state: 'visible' });
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(copied, /#x=15&y=23&scale=8$/);

    const entries = await page.evaluate(() => history.length);
    await page.goto(`${ts.http}/#x=40&y=30&scale=12&c=${BLUE}`); // same document: only the hash changes
    await page.waitForFunction(() => window.canvasClient?.scale() === 12);
    assert.deepEqual(await centrePixel(page), { x: 40, y: 30 });
    assert.equal(await page.locator(`#swatches button[data-index="${BLUE}"]`).getAttribute('aria-pressed'), 'true');
    assert.ok((await page.evaluate(() => history.length)) > entries, 'a fragment navigation, not a reload');
    await page.waitForFunction(() => location.hash.startsWith('#x=40&y=30&scale=12'));

    // The copied link pasted into the same tab goes back to its pixel.
    await page.goto(copied);
    await page.waitForFunction(() => window.canvasClient?.scale() === 8);
    assert.deepEqual(await centrePixel(page), { x: 15, y: 23 });
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('an out-of-range link is clamped to the canvas; a reload keeps the view and the colour', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http, {}, { path: '/#x=999&y=-5&scale=1000' });
    assert.equal(await page.evaluate(() => window.canvasClient?.scale()), 64);
    assert.deepEqual(await centrePixel(page), { x: 63, y: 0 });

    await page.locator('#zoom-out').click();
    await pickColour(page, BLUE);
    await page.waitForFunction((c) => new URLSearchParams(location.hash.slice(1)).get('c') === String(c), BLUE);
    const before = await hashParams(page);
    const scale = await page.evaluate(() => window.canvasClient?.scale());
    const centre = await centrePixel(page);

    await page.reload();
    await waitLive(page);
    assert.equal((await hashParams(page)).toString(), before.toString());
    assert.ok(Math.abs((scale ?? 0) - ((await page.evaluate(() => window.canvasClient?.scale())) ?? 0)) < 0.01);
    assert.deepEqual(await centrePixel(page), centre);
    assert.equal(await page.locator(`#swatches button[data-index="${BLUE}"]`).getAttribute('aria-pressed'), 'true');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('until the first snapshot arrives the page says it is loading and placing is disabled', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    let release: () => void = () => {};
    const released = new Promise<void>((r) => {
      release = r;
    });
    const { page, errors } = await openPage(
      ts.http,
      {},
      {
        live: false,
        // Pass hello through, hold back everything after it (the snapshot) until released.
        before: (p) =>
          p.routeWebSocket(/\/ws/, (ws) => {
            const upstream = ws.connectToServer();
            let frames = 0;
            upstream.onMessage((m) => {
              frames++;
              if (frames === 1) ws.send(m);
              else void released.then(() => ws.send(m));
            });
          }),
      },
    );
    await page.waitForFunction(() => window.canvasClient?.status() === 'loading');
    assert.equal(await page.locator('#status').textContent(), 'Loading the canvas…');
    assert.equal(await page.locator('#boot').textContent(), 'Loading the canvas…');
    assert.equal(await paletteDisabled(page), true);
    assert.equal(await page.locator('#cooldown').textContent(), '', 'no "Ready" over an empty square');
    assert.doesNotMatch((await page.locator('#app').textContent()) ?? '', /npm|build|bundle/);

    release();
    await waitLive(page);
    assert.equal(await page.locator('#status').textContent(), 'Live');
    assert.equal(await page.locator('#boot').count(), 0);
    assert.equal(await paletteDisabled(page), false);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('the cooldown is one countdown, and it goes away when the cooldown ends', { timeout: 60_000 }, async () => {
    const ts = await server({ cooldownMs: 3_000 });
    const { page, errors } = await openPage(ts.http);
    await pickColour(page, RED);
    await clickPixel(page, 5, 5);
    await waitImage(ts, 5, 5, RED);
    await clickPixel(page, 6, 5);
    assert.match(await cooldownShownOnce(page), /^Next pixel in [1-3] s$/);
    await page.waitForFunction(() => document.getElementById('cooldown')?.textContent === 'Ready to place', null, {
      timeout: 5_000,
    });
    assert.equal(await page.locator('#message').isVisible(), false);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('the tab title counts down and says "Ready"; an opted-in player is notified when hidden', {
    timeout: 60_000,
  }, async () => {
    const ts = await server({ cooldownMs: 3_000 });
    const { page, errors } = await openPage(
      ts.http,
      {},
      {
        // A stand-in Notification that records what it is asked to show (headless shows none). A script
        // string: tsx would wrap a function's class in a naming helper the page does not have.
        before: async (p) => {
          await p.addInitScript(`
            window.shownNotifications = [];
            window.Notification = function (title) { window.shownNotifications.push(title); };
            window.Notification.permission = 'granted';
            window.Notification.requestPermission = async () => 'granted';
          `);
        },
      },
    );
    const bell = page.locator('#notify');
    assert.equal(await bell.getAttribute('aria-pressed'), 'false', 'opt-in: off at first');
    await bell.click();
    assert.equal(await bell.getAttribute('aria-pressed'), 'true');
    assert.equal(await page.evaluate(() => document.title), 'Ready · Canvas');
    // Every text the screen readers' live region is given, in order.
    await page.evaluate(
      "window.announced = []; new MutationObserver(() => window.announced.push(document.getElementById('announce').textContent)).observe(document.getElementById('announce'), { childList: true, characterData: true, subtree: true })",
    );
    await pickColour(page, RED);
    await clickPixel(page, 5, 5);
    await page.waitForFunction(() => /^[1-3] s · Canvas$/.test(document.title));
    // The player looks at another tab.
    await page.evaluate("Object.defineProperty(document, 'visibilityState', { value: 'hidden' })");
    await page.waitForFunction(() => document.title === 'Ready · Canvas', null, { timeout: 5_000 });
    const announced = (await page.evaluate('window.announced')) as string[];
    assert.equal(announced.length, 2, `said twice, not every second: ${JSON.stringify(announced)}`);
    assert.match(announced[0] ?? '', /^Next pixel in [1-3] s$/);
    assert.equal(announced[1], 'Ready to place');
    assert.equal(await page.locator('#cooldown').getAttribute('aria-live'), null, 'the countdown itself is not live');
    assert.deepEqual(
      await page.evaluate(() => (window as unknown as { shownNotifications: string[] }).shownNotifications),
      ['Ready to place'],
    );
    assert.equal(
      await page.evaluate(() => document.querySelector('link[rel="icon"]')?.getAttribute('type')),
      'image/svg+xml',
    );
    await page.reload();
    await waitLive(page);
    assert.equal(await page.locator('#notify').getAttribute('aria-pressed'), 'true', 'the choice is kept');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('while disconnected a "Retry now" button shows, and clicking it reconnects at once', {
    timeout: 90_000,
  }, async () => {
    const { dir, first, relay } = await relayedServer();
    const { page, errors } = await openPage(`http://127.0.0.1:${relay.port}`);
    const retry = page.locator('#retry');
    assert.equal(await retry.isVisible(), false);

    await first.kill();
    const second = await spawnServer(dir); // up, but the relay still points at the dead one
    children.push(second);
    await retry.waitFor({ state: 'visible', timeout: 10_000 });
    const box = await retry.boundingBox();
    assert.ok(box && box.width >= 44 && box.height >= 44, `touch target ${box?.width} x ${box?.height}`);
    // Wait for a backoff long enough that reconnecting within 2 s can only be the button's doing.
    await page.waitForFunction(
      () => /retrying in (\d\d|[4-9]) s/.test(document.getElementById('status')?.textContent ?? ''),
      null,
      { timeout: 30_000 },
    );
    relay.setBackend(second.port);
    await retry.click();
    await waitLive(page, 0, 2_000);
    assert.equal(await retry.isVisible(), false);
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
