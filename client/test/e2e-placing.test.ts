/**
 * End-to-end in real headless Chromium against real servers: placing, seeing others' pixels, a
 * server killed and restarted, cooldown refusals and the cooldown after a reload.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlaceMsg } from '../../protocol/messages.ts';
import { fetchImageGrid } from '../../testkit/fixture.ts';
import { NOT_CONNECTED_TEXT } from '../src/ui/error-text.ts';
import {
  BLUE,
  RED,
  SCREENSHOT,
  children,
  clickPixel,
  cooldownShownOnce,
  describeBrowser,
  messageText,
  openPage,
  paletteDisabled,
  pickColour,
  rgbOf,
  seedPicture,
  server,
  shownColour,
  spawnServer,
  waitFor,
  waitFrame,
  waitImage,
  waitLive,
  waitScreen,
  relayedServer,
} from './browser-kit.ts';

describeBrowser('browser client: placing pixels', () => {
  test('loads the canvas crisp, places a pixel by clicking, the server stores it; saves a screenshot', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const seeded = await seedPicture(ts);
    const open = await openPage(ts.http);
    const { page, errors } = open;
    await waitLive(page, seeded);
    await waitScreen(page, 0, 0, rgbOf(3));
    // Crisp: near the edge of a black border pixel, next to a white one, it is still pure black.
    assert.equal(await page.evaluate(() => window.screenRgb?.(1, 1, 0.1, 0.5)), rgbOf(0));
    assert.equal(await page.evaluate(() => window.screenRgb?.(0, 1, 0.9, 0.5)), rgbOf(3));
    assert.equal(await page.locator('#swatches button').count(), 16);
    assert.equal(await page.locator('#swatches button[aria-label="red (#e50000)"]').count(), 1);

    await pickColour(page, RED);
    await clickPixel(page, 10, 20);
    assert.equal(await shownColour(page, 10, 20), RED, 'shown at once');
    await waitScreen(page, 10, 20, rgbOf(RED));
    const place = await waitFor(() => open.sent.find((m): m is PlaceMsg => m.t === 'place'), 'a place frame');
    assert.deepEqual(place && { x: place.x, y: place.y, c: place.c }, { x: 10, y: 20, c: RED });
    await waitFrame(open, (m) => m.t === 'ack' && m.id === place?.id);
    await waitImage(ts, 10, 20, RED);
    assert.equal(await shownColour(page, 10, 20), RED, 'confirmed, still shown');
    assert.match((await page.locator('#cursor').textContent()) ?? '', /\(10, 20\) red/);
    await page.screenshot({ path: SCREENSHOT });
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test("a second page sees the first page's pixel within two ticks", { timeout: 60_000 }, async () => {
    const ts = await server({ tickMs: 1000 });
    const a = await openPage(ts.http);
    const b = await openPage(ts.http);
    await pickColour(a.page, BLUE);
    const placedAt = Date.now();
    await clickPixel(a.page, 30, 7);
    await waitScreen(b.page, 30, 7, rgbOf(BLUE), 2 * ts.config.tickMs);
    const elapsed = Date.now() - placedAt;
    assert.ok(elapsed <= 2 * ts.config.tickMs, `seen after ${elapsed} ms`);
    assert.deepEqual([...a.errors, ...b.errors], []);
    await a.page.context().close();
    await b.page.context().close();
  });

  test('after the server is killed and restarted the page reconnects by itself', { timeout: 90_000 }, async () => {
    const { dir, first, relay } = await relayedServer();
    const front = { http: `http://127.0.0.1:${relay.port}` };
    const { page, errors } = await openPage(front.http);
    await pickColour(page, RED);
    await clickPixel(page, 3, 3);
    await waitImage(front, 3, 3, RED);

    await first.kill(); // SIGKILL: no goodbye, the sockets just die
    await page.waitForFunction(() => window.canvasClient?.status() === 'reconnecting', null, { timeout: 10_000 });
    assert.match((await page.locator('#status').textContent()) ?? '', /placing disabled/);
    assert.equal(await paletteDisabled(page), true);
    await clickPixel(page, 4, 4);
    assert.equal(await messageText(page), NOT_CONNECTED_TEXT);
    assert.equal(await shownColour(page, 4, 4), 0, 'nothing placed while disconnected');

    const second = await spawnServer(dir);
    children.push(second);
    relay.setBackend(second.port);
    await waitLive(page, 0, 30_000);
    assert.equal(await paletteDisabled(page), false);
    assert.equal(await shownColour(page, 3, 3), RED, 'the stored pixel is still there');
    await clickPixel(page, 4, 4);
    await waitImage(front, 4, 4, RED);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('a placement refused for cooldown is reverted and the countdown alone explains it', {
    timeout: 60_000,
  }, async () => {
    // The commit delay holds the first ack back, so the second click goes out before the page knows
    // about its cooldown: the server, not the page, refuses it.
    const ts = await server({ cooldownMs: 60_000, commitDelayMs: 500 });
    const open = await openPage(ts.http);
    const { page, errors } = open;
    await pickColour(page, RED);
    await clickPixel(page, 5, 5);
    await clickPixel(page, 6, 5);
    const second = await waitFor(
      () => open.sent.find((m): m is PlaceMsg => m.t === 'place' && m.x === 6),
      'the second placement was sent (the page did not know the cooldown yet)',
    );
    const refusal = await waitFrame(open, (m) => m.t === 'error' && m.id === second.id);
    assert.equal(refusal.t === 'error' && refusal.code, 'cooldown');
    assert.match(await cooldownShownOnce(page), /^Next pixel in (1:00|\d+ s)$/);
    assert.equal(await shownColour(page, 6, 5), 0, 'the refused pixel is reverted');
    await waitScreen(page, 6, 5, rgbOf(0));
    assert.equal(await shownColour(page, 5, 5), RED, 'the accepted one stays');
    await waitImage(ts, 5, 5, RED);
    assert.equal((await fetchImageGrid(ts))[5 * 64 + 6], 0);

    // Now the page knows: a third click is refused locally, with the time left, and nothing is sent.
    await clickPixel(page, 7, 5);
    await cooldownShownOnce(page);
    assert.equal(open.sent.filter((m) => m.t === 'place').length, 2, 'the third was never sent');
    assert.equal(await shownColour(page, 7, 5), 0);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('after a reload the page shows the running cooldown from hello and places nothing until it ends', {
    timeout: 60_000,
  }, async () => {
    const ts = await server({ cooldownMs: 60_000 });
    const open = await openPage(ts.http);
    const { page, errors } = open;
    await pickColour(page, RED);
    await clickPixel(page, 5, 5);
    await waitImage(ts, 5, 5, RED);

    await page.reload(); // the page forgets everything; the identity cookie stays
    await waitLive(page);
    const hello = await waitFrame(open, (m) => m.t === 'hello' && (m.wait ?? 0) > 0);
    assert.ok(
      hello.t === 'hello' && hello.wait !== undefined && hello.wait <= 60_000,
      'hello carries the remaining wait',
    );
    await page.waitForFunction(() => /^Next pixel in /.test(document.getElementById('cooldown')?.textContent ?? ''));
    const placesBefore = open.sent.filter((m) => m.t === 'place').length;
    await pickColour(page, BLUE);
    await clickPixel(page, 6, 5);
    await cooldownShownOnce(page);
    assert.equal(
      open.sent.filter((m) => m.t === 'place').length,
      placesBefore,
      'the click after the reload was not sent',
    );
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
