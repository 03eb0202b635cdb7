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

  test('the player names itself in the panel; the top list shows its name, another player’s and a bot’s; a taken name is refused', {
    timeout: 60_000,
  }, async () => {
    const ADMIN = 'e2e-stats-admin';
    const ts = await server({ adminToken: ADMIN });
    const open = await openPage(ts.http);
    const { page, errors } = open;
    await pickColour(page, RED);
    await clickPixel(page, 3, 4);
    const place = await waitFor(() => open.sent.find((m): m is PlaceMsg => m.t === 'place'), 'the place frame');
    await waitFrame(open, (m) => m.t === 'ack' && m.id === place.id);
    // Another player, named "Bob", and a sanctioned bot place twice each, over HTTP.
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${ts.http}${path}`, { method: 'POST', body: JSON.stringify(body), headers });
    const bob = (await (await post('/api/session', {})).json()) as { token: string };
    const asBob = { Authorization: `Bearer ${bob.token}` };
    assert.equal((await post('/api/me/name', { name: 'Bob' }, asBob)).status, 200);
    const bot = (await (
      await post('/api/admin/bots', { name: 'flag-painter', everyMs: 100 }, { Authorization: `Bearer ${ADMIN}` })
    ).json()) as { token: string };
    for (const [x, headers] of [
      [10, asBob],
      [11, asBob],
      [12, { Authorization: `Bearer ${bot.token}` }],
    ] as const)
      assert.equal((await post('/api/pixel', { x, y: 1, color: 2 }, headers)).status, 200);

    await page.locator('#stats-toggle').click();
    const input = page.locator('#stats-panel .stats-name input');
    await input.fill('  Ada  ');
    await input.press('Enter');
    await page.locator('#stats-panel .stats-name-status').filter({ hasText: 'Saved.' }).waitFor();
    assert.equal(await input.inputValue(), 'Ada', 'the name as the server keeps it');
    const lines = page.locator('#stats-panel .stats-top li');
    await lines.filter({ hasText: 'you (Ada) 1' }).waitFor({ timeout: 10_000 });
    const texts = await lines.allTextContents();
    assert.equal(texts[0], '1. Bob 2');
    // Equal counts are ordered by id, which is random here.
    assert.deepEqual(
      texts
        .slice(1)
        .map((t) => t.slice(3))
        .sort(),
      ['flag-painter (bot) 1', 'you (Ada) 1'],
    );

    await input.fill('BOB');
    await page.locator('#stats-panel .stats-name button').click();
    await page.locator('#stats-panel .stats-name-status').filter({ hasText: 'That name is taken.' }).waitFor();
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
