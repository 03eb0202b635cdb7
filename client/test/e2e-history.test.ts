/**
 * End-to-end in real headless Chromium: the History panel shows the canvas at an earlier seq (read
 * back from the screen) in place of the live board, with placing off, its slider's end following the
 * live seq; closing it returns to the live board; the timelapse link points at an APNG of the whole
 * history and a busy server (429) is explained on the page. On a phone, the panel and the label fit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { localInputValue } from '../src/history/history-urls.ts';
import {
  BLUE,
  clickPixel,
  describeBrowser,
  openPage,
  paletteDisabled,
  pickColour,
  RED,
  rgbOf,
  screenshotPath,
  server,
  shownColour,
  waitImage,
  waitLive,
  waitScreen,
  placeAsNewPlayer,
  GREEN,
  WHITE,
  waitHistorySeq,
} from './browser-kit.ts';

const historySeq = (page: Page) => page.evaluate(() => window.canvasClient?.historySeq() ?? null);

describeBrowser('browser client: history', () => {
  test('the slider shows an earlier canvas with placing off; closing returns to live', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const first = (await placeAsNewPlayer(ts.http, 30, 24, RED)).seq;
    await placeAsNewPlayer(ts.http, 31, 24, BLUE);
    const last = (await placeAsNewPlayer(ts.http, 30, 24, BLUE)).seq;
    await waitImage(ts, 30, 24, BLUE);
    const open = await openPage(ts.http);
    const { page, errors } = open;
    await waitLive(page, last);
    await pickColour(page, RED);
    await waitScreen(page, 30, 24, rgbOf(BLUE));

    // Keyboard only: H opens the panel with the slider focused at the live seq; Home and → step it.
    await page.locator('#view').focus();
    await page.keyboard.press('h');
    const panel = page.locator('#history-panel');
    await panel.waitFor({ state: 'visible' });
    const range = page.locator('#hist-range');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'hist-range');
    assert.equal(await range.getAttribute('max'), String(last));
    await waitHistorySeq(page, last);
    assert.equal(await paletteDisabled(page), true, 'placing is off while History is open');
    await page.keyboard.press('Home');
    for (let s = 0; s < first; s++) await page.keyboard.press('ArrowRight');
    await waitHistorySeq(page, first);
    assert.equal(await page.locator('#history-label').textContent(), `History: seq ${first}`);
    await waitScreen(page, 30, 24, rgbOf(RED));
    await waitScreen(page, 31, 24, rgbOf(WHITE));
    assert.equal(await shownColour(page, 30, 24), RED, 'the page reports the past colour too');
    assert.equal(await page.locator('#status').textContent(), 'Live', 'the connection is still said');
    await page.screenshot({ path: screenshotPath('desktop-history') });

    // A click places nothing while the past is shown, and says why.
    await clickPixel(page, 40, 40);
    await page.locator('#message').waitFor({ state: 'visible' });
    assert.match((await page.locator('#message').textContent()) ?? '', /Viewing history/);
    assert.equal(open.sent.filter((m) => m.t === 'place').length, 0, 'no placement sent');

    // The slider's end follows the live board; what is shown stays the past.
    const later = (await placeAsNewPlayer(ts.http, 32, 24, GREEN)).seq;
    await page.waitForFunction((s) => document.getElementById('hist-range')?.getAttribute('max') === String(s), later);
    assert.equal(await historySeq(page), first);
    await waitScreen(page, 32, 24, rgbOf(WHITE));

    // Escape closes it: the live board with the latest pixels, placing on again.
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    assert.equal(await historySeq(page), null);
    assert.equal(await page.locator('#history-label').isVisible(), false);
    await waitScreen(page, 30, 24, rgbOf(BLUE));
    await waitScreen(page, 31, 24, rgbOf(BLUE));
    await waitScreen(page, 32, 24, rgbOf(GREEN));
    assert.equal(await paletteDisabled(page), false);
    await clickPixel(page, 40, 40);
    await waitImage(ts, 40, 40, RED);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('"Download timelapse" is an APNG of the whole history; a busy server is explained', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    for (let i = 0; i < 4; i++) await placeAsNewPlayer(ts.http, 10 + i, 10, BLUE);
    const last = (await placeAsNewPlayer(ts.http, 14, 10, RED)).seq;
    await waitImage(ts, 14, 10, RED);
    const { page, errors } = await openPage(ts.http);
    await waitLive(page, last);
    await page.locator('#history-toggle').click();
    await waitHistorySeq(page, last);
    const link = page.locator('a.hist-timelapse');
    const href = `/api/history/timelapse?from=0&to=${last}&frames=${last + 1}&scale=8&delay=100`;
    assert.equal(await link.getAttribute('href'), href);
    assert.equal(await link.getAttribute('download'), `timelapse-0-${last}.png`);
    const res = await fetch(`${ts.http}${href}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('x-timelapse-frames'), String(last + 1));

    // Clicking it fetches the APNG and saves it under its name.
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), `timelapse-0-${last}.png`);
    await page.waitForFunction(() =>
      /^Saved timelapse-/.test(document.querySelector('.hist-link-status')?.textContent ?? ''),
    );

    // From the slider position: the link starts there.
    await page.locator('input[name="from-slider"]').check();
    await page.locator('#hist-range').fill('2');
    await waitHistorySeq(page, 2);
    assert.match((await link.getAttribute('href')) ?? '', new RegExp(`^/api/history/timelapse\\?from=2&to=${last}&`));

    // A server busy building another one answers 429: the page says to retry later.
    await page.route('**/api/history/timelapse**', (route) =>
      route.fulfill({
        status: 429,
        headers: { 'content-type': 'application/json', 'retry-after': '5' },
        body: JSON.stringify({ error: 'busy', message: '1 timelapse or heatmap build(s) in progress' }),
      }),
    );
    await link.click();
    const status = page.locator('.hist-link-status');
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('.hist-link-status')?.dataset['kind'] === 'error',
    );
    assert.equal(await status.textContent(), 'The server is busy building another timelapse: try again in 5 s.');
    await page.screenshot({ path: screenshotPath('desktop-history-busy') });
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('on a phone, in the dark theme, the panel and its label fit and its controls are 44 px', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const last = (await placeAsNewPlayer(ts.http, 3, 3, RED)).seq;
    const phone: BrowserContextOptions = {
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 3,
      colorScheme: 'dark',
    };
    const { page, errors } = await openPage(ts.http, phone);
    await waitLive(page, last);
    await page.locator('#history-toggle').tap();
    await waitHistorySeq(page, last);
    const panel = await page.locator('#history-panel').boundingBox();
    const label = await page.locator('#history-label').boundingBox();
    assert.ok(panel && panel.x >= 0 && panel.x + panel.width <= 390, `panel on screen: ${JSON.stringify(panel)}`);
    assert.ok(label && label.x >= 0 && label.x + label.width <= 390, `label on screen: ${JSON.stringify(label)}`);
    assert.ok(label.y + label.height <= panel.y, 'the label is above the panel, not under it');
    const small = await page.evaluate(() =>
      [
        ...document.querySelectorAll<HTMLElement>(
          '#history-panel button, #history-panel a, #history-panel label.hist-from, #hist-range, #history-toggle',
        ),
      ]
        .map((e) => ({ what: e.className || e.id, r: e.getBoundingClientRect() }))
        .filter(({ r }) => r.width < 44 || r.height < 44)
        .map(({ what, r }) => `${what} ${r.width} x ${r.height}`),
    );
    assert.deepEqual(small, []);
    await page.screenshot({ path: screenshotPath('phone-history-dark') });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: screenshotPath('phone-history-light') });
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('the history view jumps to a time, says the time it shows, and steps through time', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const first = (await placeAsNewPlayer(ts.http, 30, 24, RED)).seq;
    // The time field is to the second: the second placement comes after the next whole second.
    const between = Math.ceil((Date.now() + 1) / 1000) * 1000;
    while (Date.now() <= between + 20) await new Promise((r) => setImmediate(r)); // the clock, not a sleep
    const last = (await placeAsNewPlayer(ts.http, 30, 24, BLUE)).seq;
    const { page, errors } = await openPage(ts.http);
    await waitLive(page, last);
    await page.locator('#history-toggle').click();
    await waitHistorySeq(page, last);
    const label = page.locator('#history-label');
    assert.match(
      (await label.textContent()) ?? '',
      new RegExp(`^History: .*\\d:\\d{2}:\\d{2}.* · seq ${last}$`),
      'open: now',
    );

    const local = localInputValue(between); // node and the page share the machine's time zone
    await page.locator('#history-panel input[name="at"]').fill(local);
    await page.locator('#history-panel').getByRole('button', { name: 'Go' }).click();
    await waitHistorySeq(page, first);
    await waitScreen(page, 30, 24, rgbOf(RED));
    const shown = (await label.textContent()) ?? '';
    const expected = await page.evaluate(
      (ms) => new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }),
      between,
    );
    assert.equal(shown, `History: ${expected} · seq ${first}`, 'the date and time of the moment shown');
    assert.equal(await page.locator('#hist-range').inputValue(), String(first), 'the slider follows the time');
    await page.screenshot({ path: screenshotPath('desktop-history-time') });

    await page.getByRole('button', { name: 'One hour later' }).click(); // held at now
    await waitHistorySeq(page, last);
    await waitScreen(page, 30, 24, rgbOf(BLUE));
    assert.match((await label.textContent()) ?? '', new RegExp(`· seq ${last}$`));
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
