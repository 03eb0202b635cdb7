/**
 * End-to-end in real headless Chromium: the top bar says how many are watching, from hello and from
 * the server's `online` messages as people come and go.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeBrowser, openPage, server, waitLive } from './browser-kit.ts';

const onlineText = (page: import('playwright-core').Page) => page.locator('#online').textContent();

describeBrowser('browser client: online count', () => {
  test('"N watching" counts the pages open on the canvas, up and down', { timeout: 60_000 }, async () => {
    const ts = await server({ tickMs: 100 });
    const first = await openPage(ts.http);
    await waitLive(first.page);
    await first.page.waitForFunction(() => document.getElementById('online')?.textContent === '1 watching');
    const second = await openPage(ts.http);
    await waitLive(second.page);
    await first.page.waitForFunction(() => document.getElementById('online')?.textContent === '2 watching');
    assert.equal(await onlineText(second.page), '2 watching');
    assert.equal(await first.page.locator('#online').isVisible(), true);
    await second.page.context().close();
    await first.page.waitForFunction(() => document.getElementById('online')?.textContent === '1 watching');
    assert.deepEqual(first.errors, []);
    await first.page.context().close();
  });
});
