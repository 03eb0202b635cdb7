/**
 * End-to-end in real headless Chromium: with no colour selected a click shows who placed a pixel
 * (from GET /api/pixel), a never-placed pixel says so, "copy link" copies its position link, Escape and
 * picking a colour put the panel away; the colour in hand can be put down again (the selected swatch,
 * Escape, the look tool), and a right click or Shift-click shows a pixel's info with a colour in hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  BLUE,
  RED,
  clickPixel,
  clientPoint,
  describeBrowser,
  openPage,
  pickColour,
  screenshotPath,
  server,
  waitImage,
  placeAsNewPlayer,
} from './browser-kit.ts';

/** The selected swatch's index, or null with no colour in hand (the look tool pressed). */
const selected = async (page: Page): Promise<number | null> => {
  const look = await page.locator('#look').getAttribute('aria-pressed');
  const pressed = await page
    .locator('#swatches button[aria-pressed="true"]')
    .getAttribute('data-index', {
      timeout: 1_000,
    })
    .catch(() => null);
  if (look === 'true') {
    assert.equal(pressed, null, 'no swatch pressed with the look tool');
    return null;
  }
  return pressed === null ? null : Number(pressed);
};

describeBrowser('browser client: pixel info', () => {
  test('a click with no colour shows who placed the pixel, its colour and when', { timeout: 60_000 }, async () => {
    const ts = await server();
    const who = (await placeAsNewPlayer(ts.http, 10, 20, RED)).id;
    await waitImage(ts, 10, 20, RED);
    const { page, errors } = await openPage(ts.http);
    await clickPixel(page, 10, 20);
    const panel = page.locator('#pixel-info');
    await page.waitForFunction(() => document.getElementById('pixel-info')?.dataset['state'] === 'loaded');
    assert.equal(await panel.isVisible(), true);
    assert.equal(await panel.locator('.info-xy').textContent(), '(10, 20)');
    assert.equal(await panel.locator('.info-who').textContent(), who);
    assert.equal(await panel.locator('.info-colour').getAttribute('data-index'), String(RED));
    assert.match((await panel.locator('.info-colour').textContent()) ?? '', /red #e50000/);
    assert.notEqual(await panel.locator('.info-when').textContent(), 'never placed');
    assert.equal(await page.locator('#message').isVisible(), false, 'no "pick a colour" message');

    await clickPixel(page, 3, 4);
    await page.waitForFunction(() => document.querySelector('#pixel-info .info-xy')?.textContent === '(3, 4)');
    await page.waitForFunction(() => document.getElementById('pixel-info')?.dataset['state'] === 'loaded');
    assert.equal(await panel.locator('.info-when').textContent(), 'never placed');
    assert.equal(await panel.locator('.info-who').textContent(), 'nobody');

    await page.keyboard.press('Escape');
    assert.equal(await panel.isVisible(), false, 'Escape closes it');
    await clickPixel(page, 3, 4);
    await panel.waitFor({ state: 'visible' });
    await panel.locator('.info-close').click();
    assert.equal(await panel.isVisible(), false, 'the close button closes it');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('"copy link" puts the position link of the pixel on the clipboard', { timeout: 60_000 }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http, { permissions: ['clipboard-read', 'clipboard-write'] });
    await clickPixel(page, 7, 9);
    const panel = page.locator('#pixel-info');
    await page.waitForFunction(() => document.getElementById('pixel-info')?.dataset['state'] === 'loaded');
    await panel.locator('.info-copy').click();
    await panel.locator('.info-copied').waitFor({ state: 'visible' });
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(copied, new RegExp(`^${ts.http}/#x=7&y=9&scale=\\d+(\\.\\d+)?$`));

    // Picking a colour puts the panel away and clicks place again.
    await pickColour(page, RED);
    assert.equal(await panel.isVisible(), false);
    await clickPixel(page, 7, 9);
    await waitImage(ts, 7, 9, RED);
    assert.equal(await panel.isVisible(), false);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('the colour in hand can be put down, and pixel info is reachable with one in hand', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const open = await openPage(ts.http, {}, { path: `/#c=${BLUE}` });
    const { page, errors } = open;
    const panel = page.locator('#pixel-info');
    assert.equal(await selected(page), BLUE, "the link's colour is in hand");

    // The selected swatch again puts it down; the link drops c= so a reload does not pick it again.
    await page.locator(`#swatches button[data-index="${BLUE}"]`).click();
    assert.equal(await selected(page), null);
    await page.waitForFunction(() => !/(^#|&)c=/.test(location.hash));
    await page.reload();
    await page.waitForFunction(() => document.body.dataset['seq'] !== undefined);
    assert.equal(await selected(page), null, 'a reload keeps no colour');
    await clickPixel(page, 3, 4);
    await panel.waitFor({ state: 'visible' });

    // Escape, and the look tool, put the colour down too.
    await pickColour(page, RED);
    assert.equal(await panel.isVisible(), false, 'picking a colour puts the panel away');
    await page.keyboard.press('Escape');
    assert.equal(await selected(page), null, 'Escape puts the colour down');
    await pickColour(page, RED);
    await page.locator('#look').click();
    assert.equal(await selected(page), null, 'the look tool puts the colour down');

    // With a colour in hand, a right click and a Shift-click show the pixel's info and place nothing.
    await pickColour(page, RED);
    const p = await clientPoint(page, 7, 8);
    await page.mouse.click(p.x, p.y, { button: 'right' });
    await page.waitForFunction(() => document.querySelector('#pixel-info .info-xy')?.textContent === '(7, 8)');
    const q = await clientPoint(page, 9, 8);
    await page.keyboard.down('Shift');
    await page.mouse.click(q.x, q.y);
    await page.keyboard.up('Shift');
    await page.waitForFunction(() => document.querySelector('#pixel-info .info-xy')?.textContent === '(9, 8)');
    assert.equal(await selected(page), RED, 'the colour stays in hand');
    assert.equal(open.sent.filter((m) => m.t === 'place').length, 0, 'nothing placed');
    await page.screenshot({ path: screenshotPath('desktop-info-with-colour') });
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('a banned player sees the ban, persistently and after a reload, until a placement is accepted', {
    timeout: 60_000,
  }, async () => {
    const ts = await server({ adminToken: 'sesame' });
    const admin = (path: string, id: string) =>
      fetch(`${ts.http}/api/admin/${path}`, {
        method: 'POST',
        headers: { authorization: 'Bearer sesame', 'content-type': 'application/json' },
        body: JSON.stringify({ id, reason: 'griefing' }),
      });
    const open = await openPage(ts.http);
    const { page, errors } = open;
    await pickColour(page, RED);
    await clickPixel(page, 5, 5);
    await waitImage(ts, 5, 5, RED);
    const who = ((await (await fetch(`${ts.http}/api/pixel?x=5&y=5`)).json()) as { who: string }).who;
    assert.equal((await admin('ban', who)).status, 200);

    await clickPixel(page, 6, 5);
    const ban = page.locator('#ban');
    await ban.waitFor({ state: 'visible' });
    assert.match((await ban.textContent()) ?? '', /^Banned: .*banned/);
    assert.equal(await page.locator('#message').isVisible(), false, 'no toast per click');
    assert.equal(await page.locator('#cooldown').isVisible(), false, 'no "Ready to place" while banned');
    await page.waitForFunction(() => window.canvasClient?.colourAt(6, 5) === 0, null, { timeout: 5_000 });
    await page.screenshot({ path: screenshotPath('desktop-banned') });

    await page.reload();
    await page.waitForFunction(() => window.canvasClient?.status() === 'connected');
    assert.equal(await ban.isVisible(), true, 'still said after a reload');

    assert.equal((await admin('unban', who)).status, 200);
    await pickColour(page, RED);
    await clickPixel(page, 7, 5);
    await waitImage(ts, 7, 5, RED);
    await ban.waitFor({ state: 'hidden' });
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
