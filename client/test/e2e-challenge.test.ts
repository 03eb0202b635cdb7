/**
 * Proof-of-work challenges in real Chromium: the page solves with the ALTCHA widget (client/dist/pow.js)
 * in the background, no click needed. With `--challenge new` a fresh identity's first placement carries
 * a solution solved while the page loaded; with `always` a refused placement is solved and sent again,
 * its pixel staying on screen, and lands, and the challenge an ack carries is solved before the next
 * click, which is not refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ErrorMsg, PlaceMsg } from '../../protocol/messages.ts';
import {
  RED,
  BLUE,
  clickPixel,
  describeBrowser,
  openPage,
  pickColour,
  screenshotPath,
  server,
  shownColour,
  waitFrame,
  waitImage,
} from './browser-kit.ts';

/** Quick to solve, so the test measures the flow, not the machine. */
const EASY = { challengeDifficulty: 200, challengeCost: 100 };

describeBrowser('browser client: proof-of-work challenges', () => {
  test('--challenge new: a fresh browser identity places; the solution was ready before the click', {
    timeout: 60_000,
  }, async () => {
    const ts = await server({ cooldownMs: 0, challenge: 'new', ...EASY });
    const open = await openPage(ts.http);
    const { page, errors } = open;
    const hello = await waitFrame(open, (m) => m.t === 'hello');
    assert.equal(hello.t === 'hello' && hello.challenge, true, 'hello says the first placement needs a challenge');
    // Solved in the background while the player looks around: the widget's workers are done when the
    // working message goes away.
    await page.waitForFunction(() => document.getElementById('message')?.hidden === true, null, { timeout: 20_000 });

    await pickColour(page, RED);
    await clickPixel(page, 5, 6);
    const place = await waitFrame(open, (m) => m.t === 'ack');
    const sent = open.sent.find((m): m is PlaceMsg => m.t === 'place');
    assert.ok(sent?.pow, 'the first placement carried the solution');
    assert.equal(place.t === 'ack' && place.id, sent.id);
    assert.equal(open.received.filter((m) => m.t === 'error').length, 0, 'never refused');
    await waitImage(ts, 5, 6, RED);
    await page.screenshot({ path: screenshotPath('challenge-new-placed') });
    assert.deepEqual(errors, []);
  });

  test("--challenge always: a placement sent before the last ack came is refused, solved and sent again; an ack's challenge is solved ahead", {
    timeout: 60_000,
  }, async () => {
    // Acks wait half a second for their commit, so the second click goes out before the first ack
    // (and the challenge it carries) arrives: it has no solution and is refused.
    const ts = await server({ cooldownMs: 0, challenge: 'always', commitDelayMs: 500, ...EASY });
    const open = await openPage(ts.http);
    const { page, errors } = open;
    const dump = (err: unknown) => {
      process.stderr.write(
        `${JSON.stringify({ sent: open.sent, received: open.received.filter((m) => m.t !== 'png' && m.t !== 'delta') })}\n`,
      );
      throw err;
    };
    await page.waitForFunction(() => document.getElementById('message')?.hidden === true, null, { timeout: 20_000 });
    await pickColour(page, BLUE);
    await clickPixel(page, 7, 8);
    await clickPixel(page, 9, 8);
    const refused = (await waitFrame(open, (m) => m.t === 'error' && m.code === 'challenge_required', 20_000).catch(
      dump,
    )) as ErrorMsg;
    assert.ok(refused.challenge, 'the refusal carries the challenge');
    assert.equal(await shownColour(page, 9, 8), BLUE, 'the pixel stays on screen while the page solves');
    await waitFrame(open, (m) => m.t === 'ack' && m.id === refused.id, 20_000).catch(dump);
    const resent = open.sent.filter((m): m is PlaceMsg => m.t === 'place' && m.id === refused.id);
    assert.equal(resent.length, 2, 'sent twice: without, then with a solution');
    assert.equal(resent[0]?.pow, undefined);
    assert.ok(resent[1]?.pow);
    await waitImage(ts, 9, 8, BLUE);

    // That ack carried the next challenge: solved while the player looks, it rides on the next click.
    const last = open.received.find((m) => m.t === 'ack' && m.id === refused.id);
    assert.ok(last?.t === 'ack' && last.challenge, 'the ack carries the challenge for the next placement');
    await page.waitForFunction(() => document.getElementById('message')?.hidden === true, null, { timeout: 20_000 });
    const refusals = open.received.filter((m) => m.t === 'error').length;
    await clickPixel(page, 11, 8);
    const third = await waitFrame(open, (m) => m.t === 'ack' && m.id > (refused.id ?? 0), 20_000).catch(dump);
    const sent = open.sent.find((m): m is PlaceMsg => m.t === 'place' && third.t === 'ack' && m.id === third.id);
    assert.ok(sent?.pow, "sent with the solution of the ack's challenge");
    assert.equal(open.received.filter((m) => m.t === 'error').length, refusals, 'not refused first');
    await waitImage(ts, 11, 8, BLUE);
    assert.deepEqual(errors, []);
  });
});
