/**
 * End-to-end in real headless Chromium: the moderation console on a 16,384 x 16,384 canvas (no
 * whole-canvas image: GET /image answers use_tiles) shows the canvas from tiles, goes to a far
 * corner through its rectangle form, shows the heatmap of the selection (there is no whole one), and
 * follows a placement made there.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../../testkit/fixture.ts';
import { HEATMAP_LAG_MS } from '../src/mod/queries.ts';
import { loopbackArgs, startServer } from '../../testkit/server-process.ts';
import { BLUE, children, currentBrowser, describeBrowser, dirs, placeAsNewPlayer, RED, GREEN } from './browser-kit.ts';

const TOKEN = `mod-big-${randomBytes(12).toString('hex')}`;

describeBrowser('moderation console on a canvas over 4096 a side', () => {
  test('loads from tiles, shows far corners through the rectangle form and their heatmap, follows new placements', {
    timeout: 90_000,
  }, async () => {
    const dir = tempDir();
    dirs.push(dir);
    const options = { width: 16_384, height: 16_384, 'tick-ms': 100, 'cooldown-ms': 0 };
    const srv = await startServer({ args: loopbackArgs(join(dir, 'canvas.db'), options), env: { ADMIN_TOKEN: TOKEN } });
    children.push(srv);
    await placeAsNewPlayer(srv.http, 16_000, 100, RED);
    await placeAsNewPlayer(srv.http, 100, 16_000, BLUE);
    const placedAt = Date.now();

    const context = await currentBrowser().newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    const errors: Error[] = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(`${srv.http}/mod`);
    await page.locator('#gate-token').fill(TOKEN);
    await page.locator('#gate-form button[type="submit"]').click();
    await page.waitForFunction(() => window.modConsole?.seq() !== null, undefined, { timeout: 15_000 });

    const goTo = async (x: number, y: number) => {
      for (const [name, value] of [
        ['x', x - 10],
        ['y', y - 10],
        ['width', 20],
        ['height', 20],
      ] as const)
        await page.locator(`#rect-form input[name="${name}"]`).fill(String(value));
      await page.locator('#rect-form input[name="height"]').press('Enter');
    };
    const waitColour = (x: number, y: number, c: number) =>
      page.waitForFunction(([px, py, want]) => window.modConsole?.colourAt(px, py) === want, [x, y, c] as const, {
        timeout: 15_000,
      });

    const heatStatus = (pattern: RegExp) =>
      page.waitForFunction(
        (source) => new RegExp(source).test(document.getElementById('heat-status')?.textContent ?? ''),
        pattern.source,
        { timeout: 15_000 },
      );
    // No whole heatmap over 4096 a side: the heatmap is of the selection, once there is one.
    await page.locator('#heat-on').check();
    await heatStatus(/select a rectangle/);
    // An open window's heatmap ends HEATMAP_LAG_MS back: select once the placements are that old.
    await sleep(Math.max(0, placedAt + HEATMAP_LAG_MS + 500 - Date.now()));
    await goTo(16_000, 100);
    await waitColour(16_000, 100, RED);
    await heatStatus(/up to 1 placement on one pixel/);
    await goTo(100, 16_000);
    await waitColour(100, 16_000, BLUE);
    // A placement where the console looks arrives with its next poll (the tile reloads).
    await placeAsNewPlayer(srv.http, 101, 16_000, GREEN);
    await waitColour(101, 16_000, GREEN);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
