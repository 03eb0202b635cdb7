/**
 * End-to-end in real headless Chromium: with no colour selected a click shows who placed a pixel
 * (from GET /api/pixel), a never-placed pixel says so, "copy link" copies its position link, Escape and
 * picking a colour put the panel away.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RED, clickPixel, describeBrowser, openPage, pickColour, server, waitImage } from './browser-kit.ts';

/** Places a pixel through the HTTP API under a fresh identity; resolves with that identity's id. */
async function placeOverHttp(http: string, x: number, y: number, color: number): Promise<string> {
  const session = (await (await fetch(`${http}/api/session`, { method: 'POST' })).json()) as {
    id: string;
    token: string;
  };
  const res = await fetch(`${http}/api/pixel`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ x, y, color }),
  });
  assert.equal(res.status, 200, await res.text());
  return session.id;
}

describeBrowser('browser client: pixel info', () => {
  test('a click with no colour shows who placed the pixel, its colour and when', { timeout: 60_000 }, async () => {
    const ts = await server();
    const who = await placeOverHttp(ts.http, 10, 20, RED);
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
});
