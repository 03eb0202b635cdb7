/**
 * End-to-end in real headless Chromium: the stats panel opens from the top bar, shows the player's
 * own count and rank after placing (its identity is the page's cookie), the totals and the player in
 * the top list, and closes the template panel it shares the corner with; on a phone it opens from a
 * button over the stage.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlaceMsg } from '../../protocol/messages.ts';
import { RED, clickPixel, describeBrowser, openPage, pickColour, server, waitFor, waitFrame } from './browser-kit.ts';

describeBrowser('browser client: stats panel', () => {
  test("after placing, the stats panel shows the player's pixels and rank, and the player tops the list", {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const open = await openPage(ts.http);
    const { page, errors } = open;
    for (const [x, y] of [
      [3, 4],
      [5, 6],
    ] as const) {
      await pickColour(page, RED);
      await clickPixel(page, x, y);
      const place = await waitFor(
        () => open.sent.find((m): m is PlaceMsg => m.t === 'place' && m.x === x && m.y === y),
        `the place frame for (${x}, ${y})`,
      );
      await waitFrame(open, (m) => m.t === 'ack' && m.id === place.id);
    }
    await page.locator('#template-toggle').click();
    await page.locator('#stats-toggle').click();
    assert.equal(await page.locator('#template-panel').isHidden(), true, 'one panel in the corner');
    assert.equal(await page.locator('#stats-toggle').getAttribute('aria-expanded'), 'true');
    // The server's figures are at most a second old; the panel refreshes every 5 s while open.
    await page.locator('#stats-panel .stats-mine').filter({ hasText: 'Your pixels: 2 (rank 1)' }).waitFor({
      timeout: 10_000,
    });
    assert.match(
      (await page.locator('#stats-panel .stats-totals').textContent()) ?? '',
      /^2 pixels placed, 2 in the last hour; 1 person/,
    );
    assert.equal(await page.locator('#stats-panel .stats-top li').first().textContent(), '1. you 2');
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#stats-panel').isHidden(), true, 'Escape closes it');
    await page.locator('#stats-toggle').click();
    await page.locator('#stats-panel .panel-close').click();
    assert.equal(await page.locator('#stats-panel').isHidden(), true, 'so does its close button');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('on a phone the stats open from a button over the stage (the top bar has no room)', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http, {
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 3,
      isMobile: true,
      hasTouch: true,
    });
    assert.equal(await page.locator('#stats-toggle').isVisible(), false);
    await page.locator('#stats-open').tap();
    await page.locator('#stats-panel .stats-mine').filter({ hasText: 'Your pixels: none yet.' }).waitFor();
    assert.equal(await page.locator('#stats-open').getAttribute('aria-expanded'), 'true');
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
