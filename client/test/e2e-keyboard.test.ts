/**
 * End-to-end in real headless Chromium: keyboard-only placing (Tab to the canvas shows a focus ring
 * and a reticle, digits and ] pick colours, arrows move the reticle, Enter and Space place), grid lines
 * at high zoom, the minimap while zoomed in, and light and dark following the system.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { RED, describeBrowser, openPage, screenshotPath, server, waitImage, waitLive } from './browser-kit.ts';

const WHITE = 0xffffff;
const reticle = (page: Page) => page.evaluate(() => window.canvasClient?.reticle() ?? null);
const pressed = (page: Page) => page.locator('#swatches button[aria-pressed="true"]').getAttribute('data-index');

/** The colour of the on-screen canvas at a CSS point of the canvas element (outside the board too). */
const canvasRgb = (page: Page, x: number, y: number) =>
  page.evaluate(
    ([cx, cy]) => {
      const c = document.getElementById('view');
      if (!(c instanceof HTMLCanvasElement)) return null;
      const dpr = window.devicePixelRatio || 1;
      const d = c.getContext('2d')?.getImageData(Math.floor(cx * dpr), Math.floor(cy * dpr), 1, 1).data;
      return d ? ((d[0] as number) << 16) | ((d[1] as number) << 8) | (d[2] as number) : null;
    },
    [x, y] as const,
  );

describeBrowser('browser client: keyboard, grid, minimap and themes', () => {
  test('keyboard only: Tab to the canvas, pick with digits and ], move with arrows, place with Enter and Space', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http, {}, { path: '/#x=20&y=20&scale=16' });
    for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.id)) !== 'view'; i++) {
      await page.keyboard.press('Tab');
    }
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'view', 'the canvas is reachable by Tab');
    const ring = await page.evaluate(() => {
      const s = getComputedStyle(document.getElementById('view') as HTMLElement);
      return `${s.outlineStyle} ${s.outlineWidth}`;
    });
    assert.equal(ring, 'solid 3px', 'a visible focus ring');
    assert.deepEqual(await reticle(page), { x: 20, y: 20 }, 'the reticle starts at the centre of the view');

    await page.keyboard.press(String(RED + 1)); // keys 1..9 are colours 0..8
    assert.equal(await pressed(page), String(RED));
    for (const k of ['ArrowRight', 'ArrowRight', 'ArrowRight', 'ArrowDown', 'ArrowDown']) await page.keyboard.press(k);
    assert.deepEqual(await reticle(page), { x: 23, y: 22 });
    await page.keyboard.press('Shift+ArrowLeft');
    assert.deepEqual(await reticle(page), { x: 13, y: 22 }, 'Shift moves ten pixels');
    assert.match((await page.locator('#cursor').textContent()) ?? '', /^\(13, 22\)/);
    assert.equal(await page.locator('#confirm').textContent(), 'Place at (13, 22)');

    await page.keyboard.press('Enter');
    await waitImage(ts, 13, 22, RED);
    await page.screenshot({ path: screenshotPath('desktop-keyboard') });

    await page.keyboard.press(']');
    assert.equal(await pressed(page), String(RED + 1), '] picks the next colour');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press(' ');
    await waitImage(ts, 13, 21, RED + 1);
    await page.keyboard.press('0');
    assert.equal(await pressed(page), '9', '0 is the tenth colour');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('the arrows scroll the view to keep the reticle on screen', { timeout: 60_000 }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http, {}, { path: '/#x=20&y=20&scale=40' });
    await page.locator('#view').focus();
    await page.keyboard.press('Enter'); // the first Enter shows the reticle where the view is
    assert.deepEqual(await reticle(page), { x: 20, y: 20 });
    for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+ArrowRight');
    assert.deepEqual(await reticle(page), { x: 50, y: 20 });
    const p = await page.evaluate(() => window.canvasClient?.pixelToClient(50, 20) ?? null);
    assert.ok(p && p.x > 0 && p.x < 1000, `pixel (50, 20) on screen at ${p?.x}`);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('grid lines at high zoom only; a minimap while zoomed in; the canvas follows light and dark', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http, { colorScheme: 'dark' }, { path: '/#x=32&y=24&scale=16' });
    const minimap = page.locator('#minimap');
    await minimap.waitFor({ state: 'visible' });
    const outline = (await minimap.getAttribute('data-view'))?.split(',').map(Number) ?? [];
    assert.equal(outline.length, 4);
    assert.ok(Math.abs((outline[2] ?? 0) - 1000 / 16) <= 1, `outline ${outline}: the view's width in canvas pixels`);
    // On the left edge of a pixel: a grid line; in its middle: the board's white.
    await page.waitForFunction(() => window.screenRgb?.(20, 20) === 0xffffff);
    assert.notEqual(await page.evaluate(() => window.screenRgb?.(20, 20, 0, 0.5)), WHITE, 'a grid line');
    assert.equal(await canvasRgb(page, 1000 - 2, 0 + 2), WHITE, 'zoomed in, the board fills the screen');
    await page.screenshot({ path: screenshotPath('desktop-dark-grid-minimap') });

    await page.keyboard.press('f');
    await minimap.waitFor({ state: 'hidden' });
    await page.keyboard.press('-');
    await page.keyboard.press('-');
    await page.waitForFunction(() => (window.canvasClient?.scale() ?? 99) < 8);
    await page.waitForFunction(() => window.screenRgb?.(20, 20, 0, 0.5) === 0xffffff);
    assert.equal(await canvasRgb(page, 2, 2), 0x1d1f24, 'the dark stage around the board');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.waitForFunction(
      () => {
        const d = (document.getElementById('view') as HTMLCanvasElement)
          .getContext('2d')
          ?.getImageData(2, 2, 1, 1).data;
        return d !== undefined && d[0] === 0xdf && d[1] === 0xe2 && d[2] === 0xe7;
      },
      null,
      { timeout: 5_000 },
    );
    await page.screenshot({ path: screenshotPath('desktop-light') });
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('a first visit shows how to place until dismissed; the canvas has a role and a short label', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http);
    const hint = page.locator('#hint');
    assert.equal(await hint.isVisible(), true, 'shown on a first visit');
    assert.match((await hint.textContent()) ?? '', /Pick a colour below, then click a pixel/);
    await page.screenshot({ path: screenshotPath('desktop-first-visit') });
    await hint.getByRole('button', { name: 'Got it' }).click();
    assert.equal(await hint.isVisible(), false);
    await page.reload();
    await waitLive(page);
    assert.equal(await hint.isVisible(), false, 'not shown again');

    const canvas = page.locator('#view');
    assert.equal(await canvas.getAttribute('role'), 'application');
    const label = (await canvas.getAttribute('aria-label')) ?? '';
    assert.ok(label.length > 0 && label.length <= 20, `a short label: "${label}"`);
    assert.match((await page.locator('#view-help').textContent()) ?? '', /Arrow keys/, 'the keys as its description');
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
