/**
 * End-to-end in real headless Chromium: the moderation console at /mod against a real server (a child
 * process, so its log lines can be searched for the token). Token entry (a wrong one refused, a 401
 * later asks again), a dragged rectangle shows the placements in it, ban from the identity list,
 * lock/unlock, the audit log and its filter, preview then rollback changing the canvas, a hot area
 * clicked looks there. The token never appears in a request URL, a console or server log line, or
 * the canvas page.
 *
 * Every request goes to the real server (the look, rollback, preview and activity routes of the
 * console API included); only the surge switch, which this server may not have, is left to answer 404.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { tempDir } from '../../testkit/fixture.ts';
import { loopbackArgs, startServer } from '../../testkit/server-process.ts';
import {
  BLUE,
  children,
  currentBrowser,
  describeBrowser,
  dirs,
  RED,
  screenshotPath,
  server,
  GREEN,
} from './browser-kit.ts';

const TOKEN = `mod-e2e-${randomBytes(12).toString('hex')}`;

interface Made {
  seq: number;
  x: number;
  y: number;
  color: number;
  who: string;
  at: number;
}

interface Player {
  id: string;
  token: string;
}

async function player(http: string): Promise<Player> {
  const res = await fetch(`${http}/api/session`, { method: 'POST' });
  return (await res.json()) as Player;
}

async function place(
  http: string,
  p: Player,
  x: number,
  y: number,
  color: number,
): Promise<{ status: number; seq: number }> {
  const res = await fetch(`${http}/api/pixel`, {
    method: 'POST',
    headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ x, y, color }),
  });
  const body = (await res.json()) as { seq?: number };
  return { status: res.status, seq: body.seq ?? -1 };
}

async function drag(page: Page, a: [number, number], b: [number, number]): Promise<void> {
  const p = async (x: number, y: number) => {
    const c = await page.evaluate(([bx, by]) => window.modConsole?.pixelToClient(bx, by) ?? null, [x, y] as const);
    assert.ok(c);
    return c;
  };
  const from = await p(...a);
  const to = await p(...b);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2);
  await page.mouse.move(to.x, to.y);
  await page.mouse.up();
}

const shownSeqs = (page: Page) =>
  page.$$eval('#placements tbody tr[data-seq]', (rows) => rows.map((r) => Number(r.getAttribute('data-seq'))));

describeBrowser('moderation console', () => {
  test('token, look, ban from the list, lock/unlock, audit, preview then rollback; the token stays out of URLs, logs and the canvas page', {
    timeout: 120_000,
  }, async () => {
    const dir = tempDir();
    dirs.push(dir);
    const options = { width: 64, height: 48, 'tick-ms': 100, 'cooldown-ms': 0, 'log-level': 'debug' };
    const srv = await startServer({ args: loopbackArgs(join(dir, 'canvas.db'), options), env: { ADMIN_TOKEN: TOKEN } });
    children.push(srv);

    const [raider, helper, elsewhere] = [await player(srv.http), await player(srv.http), await player(srv.http)];
    const made: Made[] = [];
    const put = async (p: Player, x: number, y: number, color: number) => {
      const r = await place(srv.http, p, x, y, color);
      assert.equal(r.status, 200);
      made.push({ seq: r.seq, x, y, color, who: p.id, at: Date.now() });
    };
    for (const x of [10, 11, 12]) await put(raider, x, 10, RED);
    await put(helper, 11, 11, BLUE);
    await put(elsewhere, 40, 30, GREEN);
    const lastSeq = made[made.length - 1]?.seq ?? 0;

    const context = await currentBrowser().newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const urls: string[] = [];
    const logs: string[] = [];
    const errors: Error[] = [];
    context.on('request', (r) => urls.push(r.url()));
    page.on('console', (m) => logs.push(m.text()));
    page.on('pageerror', (e) => errors.push(e));
    const rollbacks: unknown[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && /\/api\/admin\/rollback(\/preview)?$/.test(r.url()))
        rollbacks.push(r.postDataJSON());
    });

    // The page: served like /, but framed by nobody and minting no identity.
    const answer = await page.goto(`${srv.http}/mod`);
    assert.equal(answer?.status(), 200);
    const headers = answer?.headers() ?? {};
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.equal(headers['cache-control'], 'no-cache');
    assert.equal(headers['set-cookie'], undefined, 'the console mints no player identity');

    // A wrong token is refused and not kept; the right one opens the console.
    const gate = page.locator('#gate');
    await gate.waitFor({ state: 'visible' });
    await page.screenshot({ path: screenshotPath('mod-token') });
    await page.locator('#gate-token').fill('not-the-token');
    await page.locator('#gate-token').press('Enter');
    await page.waitForFunction(() => /refused/.test(document.getElementById('gate-error')?.textContent ?? ''));
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused token is not kept');
    await page.locator('#gate-token').fill(TOKEN);
    await page.locator('#gate-form button[type="submit"]').click();
    await page.locator('#console').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#gate-token').inputValue(), '', 'the typed token is not left in the page');
    await page.waitForFunction((s) => (window.modConsole?.seq() ?? -1) >= s, lastSeq);

    // A rectangle over the raid: exactly the placements inside it, newest first, and who made them.
    await drag(page, [9, 9], [12, 11]);
    assert.deepEqual(await page.evaluate(() => window.modConsole?.selection()), { x: 9, y: 9, width: 4, height: 3 });
    await page.waitForFunction(() => document.querySelectorAll('#placements tbody tr[data-seq]').length === 4);
    const inside = made.filter((p) => p.x >= 9 && p.x <= 12 && p.y >= 9 && p.y <= 11).map((p) => p.seq);
    assert.deepEqual(
      await shownSeqs(page),
      inside.sort((a, b) => b - a),
    );
    const idRows = await page.$$eval('#ids tbody tr[data-id]', (rows) => rows.map((r) => r.getAttribute('data-id')));
    assert.deepEqual(idRows, [raider.id, helper.id], 'most pixels here first');
    assert.match((await page.locator(`#ids tr[data-id="${raider.id}"]`).textContent()) ?? '', /3 identities/);
    await page.screenshot({ path: screenshotPath('mod-look') });

    // Ban from the list, with the reason and expiry set above it: the server refuses the raider now.
    await page.locator('#quick-reason').fill('raid on the flag');
    await page.locator(`#ids tr[data-id="${raider.id}"] button.danger`).click();
    await page.waitForFunction(
      (id) => document.querySelector(`#ids tr[data-id="${id}"]`)?.classList.contains('banned'),
      raider.id,
    );
    assert.equal((await place(srv.http, raider, 1, 1, RED)).status, 403);
    await page.waitForFunction(
      (id) =>
        [...document.querySelectorAll('#audit-list li[data-action="ban"]')].some((li) => li.textContent?.includes(id)),
      raider.id,
    );
    assert.match(
      (await page.locator('#audit-list li[data-action="ban"]').first().textContent()) ?? '',
      /raid on the flag/,
    );
    await page.screenshot({ path: screenshotPath('mod-banned') });

    // Lock: nobody places; unlock: placing again. Both in the audit log, which filters by words.
    await page.locator('#lock-minutes').fill('5');
    await page.locator('#lock').click();
    await page.waitForFunction(() => document.getElementById('bar-lock')?.dataset['state'] === 'locked');
    assert.equal((await place(srv.http, helper, 2, 2, RED)).status, 423);
    await page.screenshot({ path: screenshotPath('mod-locked') });
    await page.locator('#unlock').click();
    await page.waitForFunction(() => document.getElementById('bar-lock')?.dataset['state'] === 'open');
    assert.equal((await place(srv.http, helper, 2, 2, RED)).status, 200);
    await page.waitForFunction(() => document.querySelector('#audit-list li[data-action="unlock"]') !== null);
    await page.locator('#audit-filter').fill('unlock');
    assert.deepEqual(
      await page.$$eval('#audit-list li[data-action]', (li) => li.map((l) => l.getAttribute('data-action'))),
      ['unlock'],
    );
    await page.locator('#audit-filter').fill('');

    // Undo the helper's pixel only: preview (before and after side by side), then roll back.
    await page.locator(`#ids tr[data-id="${helper.id}"] input[type="checkbox"]`).check();
    await page.waitForFunction(() =>
      /only 1 ticked identity/.test(document.getElementById('undo-what')?.textContent ?? ''),
    );
    assert.equal(await page.locator('#rollback').isDisabled(), true, 'no rollback before its preview');
    await page.locator('#preview').click();
    await page.locator('#undo-images').waitFor({ state: 'visible' });
    await page.waitForFunction(() => {
      const img = document.getElementById('img-after') as HTMLImageElement | null;
      return img?.complete && img.naturalWidth === 4 && img.naturalHeight === 3; // the rectangle's own size
    });
    assert.match((await page.locator('#undo-status').textContent()) ?? '', /^1 pixel change \(1 placement undone\)/);
    await page.screenshot({ path: screenshotPath('mod-preview') });
    assert.equal(await page.evaluate(() => window.modConsole?.colourAt(11, 11)), BLUE);
    await page.locator('#rollback').click();
    await page.waitForFunction(() => /Rolled back/.test(document.getElementById('undo-status')?.textContent ?? ''));
    await page.waitForFunction(() => window.modConsole?.colourAt(11, 11) === 0, undefined, { timeout: 10_000 });
    const [previewed, rolled] = rollbacks as Array<Record<string, unknown>>;
    assert.deepEqual(rolled, previewed, 'the rollback sends exactly what was previewed');
    assert.deepEqual({ ...rolled, since: 0 }, { x: 9, y: 9, width: 4, height: 3, since: 0, ids: [helper.id] });
    await page.screenshot({ path: screenshotPath('mod-rolled-back') });

    // Watch: the server's most changed area of the last minute, clicked, is selected and looked at.
    const activity = (await (
      await fetch(`${srv.http}/api/admin/activity`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { hotAreas: Array<{ x: number; y: number; width: number; height: number }> };
    const hot = activity.hotAreas[0];
    assert.ok(hot, 'the placements of this test made a hot area');
    await page.waitForFunction(() => document.querySelector('#w-hot button') !== null);
    await page.locator('#w-hot button').first().click();
    await page.waitForFunction((h) => JSON.stringify(window.modConsole?.selection()) === JSON.stringify(h), {
      x: hot.x,
      y: hot.y,
      width: hot.width,
      height: hot.height,
    });
    await page.waitForFunction(() => !/loading/.test(document.getElementById('look-what')?.textContent ?? ''));
    const inHot = made.filter(
      (p) => p.x >= hot.x && p.x < hot.x + hot.width && p.y >= hot.y && p.y < hot.y + hot.height,
    );
    assert.ok(inHot.length > 0);
    const hotSeqs = await shownSeqs(page);
    for (const p of inHot) assert.ok(hotSeqs.includes(p.seq), `seq ${p.seq} in the hot area's list`);
    assert.equal(
      await page.locator(`#ids tr[data-id="${raider.id}"]`).getAttribute('class'),
      'suspicious banned',
      'banned from this page: still shown banned in the next look',
    );
    // The heatmap of the window covers the placements just made (not the server's cached "now").
    await page.locator('#heat-on').check();
    await page.waitForFunction(() =>
      /up to [1-9]\d* placements? on one pixel/.test(document.getElementById('heat-status')?.textContent ?? ''),
    );
    await page.screenshot({ path: screenshotPath('mod-watch-heatmap') });
    // A laptop-sized window: one column, the canvas on top, the panels below it.
    await page.setViewportSize({ width: 1000, height: 760 });
    await page.screenshot({ path: screenshotPath('mod-narrow'), fullPage: true });
    await page.setViewportSize({ width: 1400, height: 900 });

    // The canvas page opened from the console's own link, while signed in, starts without the token
    // (noopener: the tab does not inherit the console's sessionStorage).
    const [canvasPage] = await Promise.all([
      context.waitForEvent('page'),
      page.locator('.mod-bar a[href="/"]').click(),
    ]);
    await canvasPage.waitForLoadState();
    assert.ok(
      await page.evaluate((t) => sessionStorage.getItem('canvas.mod.adminToken') === t, TOKEN),
      'still signed in',
    );
    const seen = await canvasPage.evaluate(() => ({
      cookie: document.cookie,
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      html: document.documentElement.outerHTML,
    }));

    // A token the server stops accepting (here: replaced under the page) asks again and is dropped.
    await page.evaluate(() => sessionStorage.setItem('canvas.mod.adminToken', 'revoked'));
    // Whichever request goes first with it is refused: this click, or the watch panel's 2 s poll,
    // which hides the console (the button with it) before the click lands.
    await page
      .locator('#unlock')
      .click({ timeout: 3000 })
      .catch(() => {});
    await gate.waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    assert.match((await page.locator('#gate-error').textContent()) ?? '', /refused/);
    for (const [where, text] of Object.entries(seen))
      assert.ok(!text.includes(TOKEN), `token in the canvas page's ${where}`);

    assert.deepEqual(
      urls.filter((u) => u.includes(TOKEN)),
      [],
      'token in a request URL',
    );
    assert.deepEqual(
      logs.filter((l) => /Content Security Policy/i.test(l)),
      [],
      'the page runs within its own policy',
    );
    assert.deepEqual(
      logs.filter((l) => l.includes(TOKEN)),
      [],
      'token in a console line',
    );
    assert.ok(srv.lines().length > 0, 'the server logged');
    assert.deepEqual(
      srv.lines().filter((l) => l.includes(TOKEN)),
      [],
      'token in a server log line',
    );
    assert.ok(!srv.stderr().includes(TOKEN), 'token on the server stderr');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('placements page by 50, newest first: Older shows the rest, Newer goes back', { timeout: 60_000 }, async () => {
    const ts = await server({ adminToken: TOKEN });
    const p = await player(ts.http);
    const seqs: number[] = [];
    for (let i = 0; i < 60; i++) {
      const r = await place(ts.http, p, i % 20, Math.floor(i / 20), i % 2 === 0 ? RED : BLUE);
      assert.equal(r.status, 200);
      seqs.push(r.seq);
    }
    const newest = [...seqs].reverse();
    const context = await currentBrowser().newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const errors: Error[] = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(`${ts.http}/mod`);
    await page.locator('#gate-token').fill(TOKEN);
    await page.locator('#gate-token').press('Enter');
    await page.waitForFunction((s) => (window.modConsole?.seq() ?? -1) >= s, seqs[59] as number);
    await drag(page, [0, 0], [19, 2]);
    const rows = (n: number) =>
      page.waitForFunction((k) => document.querySelectorAll('#placements tbody tr[data-seq]').length === k, n);
    await rows(50);
    assert.deepEqual(await shownSeqs(page), newest.slice(0, 50));
    assert.equal(await page.locator('#page-prev').isDisabled(), true);
    await page.locator('#page-next').click();
    await rows(10);
    assert.deepEqual(await shownSeqs(page), newest.slice(50));
    assert.equal(await page.locator('#page-no').textContent(), 'page 2');
    assert.equal(await page.locator('#page-next').isDisabled(), true, 'the last page');
    await page.locator('#page-prev').click();
    await rows(50);
    assert.deepEqual(await shownSeqs(page), newest.slice(0, 50));
    assert.match((await page.locator(`#ids tr[data-id="${p.id}"]`).textContent()) ?? '', /60/);
    // The fields follow the drag; a rectangle typed into them is looked at (row 1 of the placements).
    assert.deepEqual(
      await page.$$eval('#rect-form input', (inputs) => inputs.map((i) => (i as HTMLInputElement).value)),
      ['0', '0', '20', '3'],
    );
    await page.locator('#rect-form input[name="y"]').fill('1');
    await page.locator('#rect-form input[name="height"]').fill('1');
    await page.locator('#rect-form input[name="height"]').press('Enter');
    await rows(20);
    assert.deepEqual(await shownSeqs(page), seqs.slice(20, 40).reverse());
    assert.deepEqual(await page.evaluate(() => window.modConsole?.selection()), { x: 0, y: 1, width: 20, height: 1 });
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a server without an admin token says the moderation API is off, and keeps no token', async () => {
    const ts = await server();
    const context = await currentBrowser().newContext();
    const page = await context.newPage();
    await page.goto(`${ts.http}/mod`);
    await page.locator('#gate-token').fill(TOKEN);
    await page.locator('#gate-token').press('Enter');
    await page.waitForFunction(() =>
      /moderation API is off/.test(document.getElementById('gate-error')?.textContent ?? ''),
    );
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    assert.equal(await page.locator('#console').isVisible(), false);
    await context.close();
  });
});
