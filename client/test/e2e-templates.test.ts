/**
 * End-to-end in real headless Chromium: a template link (Pxls's `template=&ox=&oy=&tw=&oo=`) draws its
 * image over the canvas, crisp, where the link says; the hash keeps it as the view moves; the panel
 * moves, fades, hides and removes it; another site's image without CORS is explained; a file from the
 * device loads without entering the link.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import UPNG from 'upng-js';
import {
  clientPoint,
  describeBrowser,
  messageText,
  openPage,
  screenshotPath,
  server,
  waitImage,
} from './browser-kit.ts';

/** A 4 x 2 template: four colours on top, four below, none in the 2017 palette (so never the board's). */
const TEMPLATE_RGB = [
  [0x123456, 0x65aa21, 0xd01f8e, 0x3c3c3c],
  [0xf0e010, 0x0a0a80, 0x80ffff, 0x7f2f00],
] as const;

function templatePng(): Buffer {
  const rgba = new Uint8Array(4 * 2 * 4);
  TEMPLATE_RGB.forEach((row, y) => {
    row.forEach((rgb, x) => {
      rgba.set([(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255, 255], (y * 4 + x) * 4);
    });
  });
  return Buffer.from(UPNG.encode([rgba.buffer], 4, 2, 0));
}

const DATA_URL = `data:image/png;base64,${templatePng().toString('base64')}`;
const WHITE = 0xffffff;

const screen = (page: Page, x: number, y: number, fx = 0.5, fy = 0.5) =>
  page.evaluate(([bx, by, ex, ey]) => window.screenRgb?.(bx, by, ex, ey) ?? null, [x, y, fx, fy] as const);

const hashParams = async (page: Page): Promise<URLSearchParams> =>
  new URLSearchParams((await page.evaluate(() => location.hash)).slice(1));

async function waitTemplate(page: Page, state: string): Promise<void> {
  await page.waitForFunction((s) => document.getElementById('template-panel')?.dataset['state'] === s, state);
}

/** A second origin for template images: /open.png allows CORS, /closed.png does not. */
async function imageHost(): Promise<{ origin: string; close: () => Promise<void> }> {
  const png = templatePng();
  const host: Server = createServer((req, res) => {
    const headers: Record<string, string> = { 'content-type': 'image/png' };
    if (req.url === '/open.png') headers['access-control-allow-origin'] = '*';
    res.writeHead(req.url === '/open.png' || req.url === '/closed.png' ? 200 : 404, headers);
    res.end(png);
  });
  await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
  const { port } = host.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => host.close(() => r())) };
}

describeBrowser('browser client: templates', () => {
  test('a template link draws its image crisp at ox, oy, tw wide, and the hash keeps it as the view moves', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const template = `template=${encodeURIComponent(DATA_URL)}&ox=10&oy=5&tw=8&oo=1`;
    const { page, errors } = await openPage(ts.http, {}, { path: `/#x=12&y=6&scale=16&${template}` });
    await waitTemplate(page, 'loaded');
    await page.waitForFunction(() => window.screenRgb?.(10, 5) !== 0xffffff);
    // tw=8 for a 4 px wide image: each template pixel covers 2 x 2 canvas pixels.
    for (const [row, colours] of TEMPLATE_RGB.entries()) {
      for (const [col, rgb] of colours.entries()) {
        const x = 10 + col * 2;
        const y = 5 + row * 2;
        assert.equal(await screen(page, x, y), rgb, `template pixel (${col}, ${row}) at (${x}, ${y})`);
        assert.equal(await screen(page, x + 1, y + 1, 0.85, 0.85), rgb, 'crisp to the corner of its square');
      }
    }
    assert.equal(await screen(page, 9, 5), WHITE, 'left of the template: the board');
    assert.equal(await screen(page, 18, 5), WHITE, 'right of the template: the board');
    assert.equal(await screen(page, 10, 9), WHITE, 'below the template: the board');
    await page.screenshot({ path: screenshotPath('desktop-template') });

    await page.locator('#zoom-in').click();
    await page.waitForFunction(() => new URLSearchParams(location.hash.slice(1)).get('scale') === '24');
    const params = await hashParams(page);
    assert.deepEqual(
      ['template', 'ox', 'oy', 'tw', 'oo'].map((k) => params.get(k)),
      [DATA_URL, '10', '5', '8', '1'],
      'the template parameters survive the view moving',
    );

    // A link pasted into the open page's address bar (only the hash changes) applies at once.
    await page.evaluate((t) => {
      location.hash = `x=12&y=6&scale=24&template=${encodeURIComponent(t)}&ox=14&oy=8&oo=1`;
    }, DATA_URL);
    await page.waitForFunction((rgb) => window.screenRgb?.(14, 8) === rgb, TEMPLATE_RGB[0][0]);
    assert.equal(await screen(page, 17, 9), TEMPLATE_RGB[1][3], 'without tw: the image at its own size');
    assert.equal(await screen(page, 10, 5), WHITE, 'moved away from where it was');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('the panel moves the template by a pixel, fades, hides and removes it, and the link follows', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const template = `template=${encodeURIComponent(DATA_URL)}&ox=10&oy=5&tw=8&oo=1`;
    const { page, errors } = await openPage(ts.http, {}, { path: `/#x=12&y=6&scale=16&${template}` });
    await waitTemplate(page, 'loaded');
    await page.locator('#template-toggle').click();
    const panel = page.locator('#template-panel');
    assert.equal(await panel.isVisible(), true);
    assert.equal(await panel.locator('input[name="ox"]').inputValue(), '10');

    await panel.getByRole('button', { name: 'Move right one pixel' }).click();
    await page.waitForFunction(() => new URLSearchParams(location.hash.slice(1)).get('ox') === '11');
    assert.equal(await screen(page, 10, 5), WHITE, 'moved off its old column');
    assert.equal(await screen(page, 11, 5), TEMPLATE_RGB[0][0]);

    await panel.locator('input[name="oy"]').fill('7');
    await panel.locator('input[name="oy"]').press('Enter');
    await page.waitForFunction(() => new URLSearchParams(location.hash.slice(1)).get('oy') === '7');
    assert.equal(await screen(page, 11, 7), TEMPLATE_RGB[0][0]);

    await panel.locator('input[name="oo"]').fill('0.5');
    await page.waitForFunction(() => new URLSearchParams(location.hash.slice(1)).get('oo') === '0.5');
    const faded = (await screen(page, 11, 7)) ?? 0;
    const blend = (c: number, shift: number) => (c >> shift) & 255;
    const want = TEMPLATE_RGB[0][0];
    for (const shift of [16, 8, 0]) {
      const half = Math.round((blend(want, shift) + 255) / 2);
      assert.ok(
        Math.abs(blend(faded, shift) - half) <= 2,
        `half way between template and board: ${faded.toString(16)}`,
      );
    }

    await panel.locator('input[name="hide"]').check();
    await page.waitForFunction(() => window.screenRgb?.(11, 7) === 0xffffff);
    await panel.locator('input[name="hide"]').uncheck();
    await page.waitForFunction(() => window.screenRgb?.(11, 7) !== 0xffffff);

    await panel.locator('.tpl-remove').click();
    await page.waitForFunction(() => !location.hash.includes('template='));
    assert.equal(await screen(page, 11, 7), WHITE);
    assert.match((await hashParams(page)).toString(), /^x=\d+&y=\d+&scale=16$/, 'the position link stays');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('an image from another site loads when it allows CORS; when it does not, the panel says so', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const host = await imageHost();
    try {
      const { page, errors } = await openPage(ts.http, {}, { path: '/#x=12&y=6&scale=16' });
      await page.locator('#template-toggle').click();
      const panel = page.locator('#template-panel');
      await panel.locator('input[name="url"]').fill(`${host.origin}/closed.png`);
      await panel.getByRole('button', { name: 'Load' }).click();
      await waitTemplate(page, 'error');
      assert.match((await panel.locator('.tpl-status').textContent()) ?? '', /CORS.*Access-Control-Allow-Origin/);
      assert.match((await panel.locator('.tpl-status').textContent()) ?? '', /a file from this device/);
      await page.screenshot({ path: screenshotPath('desktop-template-cors-error') });

      await panel.locator('input[name="url"]').fill(`${host.origin}/open.png`);
      await panel.getByRole('button', { name: 'Load' }).click();
      await waitTemplate(page, 'loaded');
      await page.waitForFunction(() =>
        new URLSearchParams(location.hash.slice(1)).get('template')?.endsWith('/open.png'),
      );
      assert.equal((await hashParams(page)).get('oo'), '0.5', "Pxls's default opacity");
      await panel.locator('input[name="oo"]').fill('1');
      await page.waitForFunction(() => new URLSearchParams(location.hash.slice(1)).get('oo') === '1');
      assert.equal(await screen(page, 0, 0), TEMPLATE_RGB[0][0], 'drawn at (0, 0), its own size');
      assert.equal(await screen(page, 3, 1), TEMPLATE_RGB[1][3]);
      // The image was drawn with CORS: the canvas is not tainted, so its pixels can be read back.
      assert.deepEqual(errors, []);
      await page.context().close();
    } finally {
      await host.close();
    }
  });

  test('a file from the device draws as a template and stays out of the link', { timeout: 60_000 }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http, {}, { path: '/#x=12&y=6&scale=16' });
    await page.locator('#template-toggle').click();
    const panel = page.locator('#template-panel');
    await panel
      .locator('input[type="file"]')
      .setInputFiles({ name: 'art.png', mimeType: 'image/png', buffer: templatePng() });
    await waitTemplate(page, 'loaded');
    assert.match((await panel.locator('.tpl-status').textContent()) ?? '', /From this device/);
    await panel.locator('input[name="oo"]').fill('1');
    await page.waitForFunction(() => window.screenRgb?.(1, 0) === 0x65aa21);
    assert.equal(await screen(page, 1, 0), TEMPLATE_RGB[0][1]);
    await panel.getByRole('button', { name: 'Move down one pixel' }).click();
    await page.waitForFunction(() => window.screenRgb?.(1, 1) === 0x65aa21);
    assert.equal((await hashParams(page)).has('template'), false);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('a template link that fails says why at once: 404, no answer, no CORS header', { timeout: 60_000 }, async () => {
    const ts = await server();
    const host = await imageHost();
    try {
      const cases = [
        { url: `${ts.http}/no-such-template.png`, why: /answered 404 \(no such image\)/ },
        { url: 'http://127.0.0.1:9/art.png', why: /127\.0\.0\.1:9 could not be reached/ },
        { url: `${host.origin}/closed.png`, why: /no CORS header.*a file from this device/ },
      ];
      for (const { url, why } of cases) {
        const path = `/#x=12&y=6&scale=16&template=${encodeURIComponent(url)}`;
        const { page, errors } = await openPage(ts.http, {}, { path });
        await waitTemplate(page, 'error');
        // Said at once, outside the panel too, and the panel opens on the reason and the file picker.
        assert.match(await messageText(page), why);
        assert.equal(await page.locator('#template-panel').isVisible(), true);
        assert.match((await page.locator('#template-panel .tpl-status').textContent()) ?? '', why);
        await page.screenshot({ path: screenshotPath(`desktop-template-failed-${new URL(url).port}`) });
        // The image saved and chosen from the device loads in its place.
        if (url.endsWith('closed.png')) {
          await page
            .locator('#template-panel input[type="file"]')
            .setInputFiles({ name: 'closed.png', mimeType: 'image/png', buffer: templatePng() });
          await waitTemplate(page, 'loaded');
          assert.match((await page.locator('#template-panel .tpl-status').textContent()) ?? '', /From this device/);
        }
        assert.deepEqual(errors, []);
        await page.context().close();
      }
    } finally {
      await host.close();
    }
  });

  test('dots show what is left, the panel counts it, the readout names the wanted colour, "Next" aims there', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    // A 3 x 1 template in palette colours: red, dark blue, and a transparent pixel that wants nothing.
    const rgba = new Uint8Array([0xe5, 0, 0, 255, 0, 0, 0xea, 255, 0, 0, 0, 0]);
    const png = Buffer.from(UPNG.encode([rgba.buffer], 3, 1, 0)).toString('base64');
    const template = `template=${encodeURIComponent(`data:image/png;base64,${png}`)}&ox=10&oy=5`;
    const { page, errors } = await openPage(ts.http, {}, { path: `/#x=12&y=6&scale=16&${template}` });
    await waitTemplate(page, 'loaded');
    await page.locator('#template-toggle').click();
    const panel = page.locator('#template-panel');
    const progress = panel.locator('.tpl-progress');
    await page.waitForFunction(() => document.querySelector('.tpl-progress')?.textContent === '2 of 2 pixels left.');

    await panel.getByLabel('Dots (shows what is left)').check();
    await page.waitForFunction(() => window.screenRgb?.(10, 5) === 0xe50000);
    assert.equal(await screen(page, 10, 5, 0.1, 0.1), WHITE, 'around the dot the board shows');
    assert.equal(await screen(page, 11, 5), 0x0000ea);
    assert.equal(await screen(page, 12, 5), WHITE, 'the transparent pixel has no dot');
    await page.screenshot({ path: screenshotPath('desktop-template-dots') });

    const p = await clientPoint(page, 11, 5);
    await page.mouse.move(p.x, p.y);
    await page.waitForFunction(() =>
      /^\(11, 5\) white · wants /.test(document.getElementById('cursor')?.textContent ?? ''),
    );

    await panel.getByRole('button', { name: 'Next wrong pixel' }).click();
    assert.deepEqual(await page.evaluate(() => window.canvasClient?.reticle()), { x: 10, y: 5 });
    assert.equal(await page.locator('#swatches button[data-index="5"]').getAttribute('aria-pressed'), 'true');
    await page.locator('#confirm').click();
    await waitImage(ts, 10, 5, 5);
    await page.waitForFunction(() => document.querySelector('.tpl-progress')?.textContent === '1 of 2 pixels left.');
    assert.equal(await screen(page, 10, 5, 0.1, 0.1), 0xe50000, 'done: the dot melts into its pixel');
    await panel.getByRole('button', { name: 'Next wrong pixel' }).click();
    assert.deepEqual(await page.evaluate(() => window.canvasClient?.reticle()), { x: 11, y: 5 });
    assert.equal(await page.locator('#swatches button[data-index="13"]').getAttribute('aria-pressed'), 'true');
    assert.match((await progress.textContent()) ?? '', /1 of 2/);
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
