/**
 * End-to-end in real headless Chromium: pixel charges (--cooldown-model charges). The top bar says
 * "N of M pixels"; the page places while charges are left, even while a refill runs; with none left
 * it waits and counts down, and places again once a charge is back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlaceMsg } from '../../protocol/messages.ts';
import {
  clickPixel,
  describeBrowser,
  waitFor,
  openPage,
  pickColour,
  RED,
  server,
  waitFrame,
  waitLive,
} from './browser-kit.ts';

const CHARGE_MS = 3_000;

describeBrowser('browser client: pixel charges', () => {
  test('shows the charges, places them in a row, waits for the refill, then places again', {
    timeout: 60_000,
  }, async () => {
    const ts = await server({ cooldownModel: 'charges', maxCharges: 3, chargeMs: CHARGE_MS });
    const open = await openPage(ts.http);
    const { page, errors } = open;
    await waitLive(page);
    const cooldown = page.locator('#cooldown');
    const shows = (pattern: RegExp, timeout = 5_000) =>
      page.waitForFunction(
        (source) => new RegExp(source).test(document.getElementById('cooldown')?.textContent ?? ''),
        pattern.source,
        { timeout },
      );
    await shows(/^3 of 3 pixels$/);

    await pickColour(page, RED);
    const placed = () => open.sent.filter((m): m is PlaceMsg => m.t === 'place');
    const acked = async (n: number) => {
      const sent = await waitFor(() => placed()[n - 1], `placement ${n} was sent`);
      await waitFrame(open, (m) => m.t === 'ack' && m.id === sent.id);
    };
    await clickPixel(page, 1, 1);
    await acked(1);
    // A refill runs now, and a charge is still there: the page does not wait for it.
    await shows(/^2 of 3 pixels · \+1 in \d s$/);
    await clickPixel(page, 2, 1);
    await acked(2);
    await clickPixel(page, 3, 1);
    await acked(3);
    await shows(/^0 of 3 pixels · next in \d s$/);
    assert.equal(await cooldown.getAttribute('data-waiting'), 'true', 'counting down');

    await clickPixel(page, 4, 1);
    assert.equal(open.sent.filter((m) => m.t === 'place').length, 3, 'none left: the fourth is not sent');

    // The charge comes back after CHARGE_MS; generous bounds for a loaded machine.
    await shows(/^1 of 3 pixels/, CHARGE_MS + 5_000);
    await clickPixel(page, 4, 1);
    await acked(4);
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
