/**
 * End-to-end in real headless Chromium: the moderation console at /mod against a real server (a child
 * process, so its log lines can be searched for the token). Token entry (a wrong one refused, a 401
 * later asks again), a dragged rectangle shows the placements in it, ban from the identity list,
 * lock/unlock, the audit log and its filter, preview then rollback changing the canvas, a hot area
 * clicked looks there. The token never appears in a request URL, a console or server log line, or
 * the canvas page.
 *
 * Until the `modapi` branch (GET /api/admin/placements, rollback by area with preview and progress,
 * GET /api/admin/activity) is merged, those routes are answered in the browser (page.route) from the
 * placements this test made, to the contract the console is written against; the stub's rollback
 * does the real thing through today's identity rollback, so the canvas really changes. Ban, unban,
 * lock, unlock and audit are the real server's.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page, Route } from 'playwright-core';
import { tempDir } from '../../testkit/fixture.ts';
import { loopbackArgs, startServer, type StartedServer } from '../../testkit/server-process.ts';
import { BLUE, children, currentBrowser, describeBrowser, dirs, RED, screenshotPath } from './browser-kit.ts';

const TOKEN = `mod-e2e-${randomBytes(12).toString('hex')}`;
const GREEN = 8;

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

const json = (route: Route, status: number, body: unknown) =>
  route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });

/**
 * The modapi routes, answered in the page from `made` to the contract (see the file comment). Every
 * stub refuses a request without the right bearer token, as the server would.
 */
async function stubModApi(page: Page, srv: StartedServer, made: Made[], sent: { rollback: unknown[] }): Promise<void> {
  const authorised = (route: Route) => route.request().headers()['authorization'] === `Bearer ${TOKEN}`;
  await page.route('**/api/admin/placements?**', (route) => {
    if (!authorised(route)) return json(route, 401, { error: 'unauthorized', message: 'admin bearer token required' });
    const q = new URL(route.request().url()).searchParams;
    const [x, y, w, h] = ['x', 'y', 'width', 'height'].map((k) => Number(q.get(k)));
    const inside = made
      .filter(
        (p) =>
          p.x >= (x as number) &&
          p.x < (x as number) + (w as number) &&
          p.y >= (y as number) &&
          p.y < (y as number) + (h as number),
      )
      .sort((a, b) => b.seq - a.seq);
    const ids = [...new Set(inside.map((p) => p.who))].map((id) => ({
      id,
      here: inside.filter((p) => p.who === id).length,
      total: made.filter((p) => p.who === id).length,
      firstSeen: Math.min(...made.filter((p) => p.who === id).map((p) => p.at)),
      prefix: 'h-loopback',
      sharedPrefix: 2,
      signals: {},
    }));
    return json(route, 200, { placements: inside, next: null, identities: ids });
  });
  const rollbackBody = async (route: Route) => {
    const body = route.request().postDataJSON() as { ids?: string[]; since: number };
    sent.rollback.push(body);
    return body;
  };
  const png = Buffer.from(await (await fetch(`${srv.http}/image`)).arrayBuffer()).toString('base64');
  await page.route('**/api/admin/rollback/preview', async (route) => {
    if (!authorised(route)) return json(route, 401, { error: 'unauthorized', message: '' });
    await rollbackBody(route);
    return json(route, 200, { pixels: 1, placements: 1, before: png, after: png });
  });
  let job = 0;
  await page.route('**/api/admin/rollback', async (route) => {
    if (!authorised(route)) return json(route, 401, { error: 'unauthorized', message: '' });
    if (route.request().method() === 'GET')
      return json(route, 200, { job: String(job), state: 'done', done: 1, total: 1 });
    const body = await rollbackBody(route);
    // Today's rollback, per identity: the real canvas changes, as the area rollback would here.
    for (const id of body.ids ?? []) {
      const res = await fetch(`${srv.http}/api/admin/rollback`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ id, since: body.since }),
      });
      assert.equal(res.status, 200, await res.text());
    }
    job++;
    return json(route, 202, { job: String(job), pixels: 1 });
  });
  // The lock is the real server's; activity reports it as the modapi route would.
  let locked: { until: number; reason: string } | null = null;
  await page.route('**/api/admin/lock', async (route) => {
    const res = await route.fetch();
    const body = (await res.json()) as { lockedUntil?: number };
    if (res.status() === 200) locked = { until: body.lockedUntil ?? 0, reason: 'raid' };
    return route.fulfill({ response: res, json: body });
  });
  await page.route('**/api/admin/unlock', async (route) => {
    const res = await route.fetch();
    if (res.status() === 200) locked = null;
    return route.fulfill({ response: res });
  });
  await page.route('**/api/admin/activity', (route) =>
    json(route, 200, {
      placementsPerSecond: 1.5,
      newIdentitiesPerSecond: 0.2,
      topPlacers: [{ id: made[0]?.who, n: 3 }],
      hotAreas: [{ x: 38, y: 28, width: 5, height: 5, n: 1 }],
      locked,
      surge: { mode: 'auto', active: false },
    }),
  );
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
    const sent = { rollback: [] as unknown[] };
    await stubModApi(page, srv, made, sent);

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
    assert.match((await page.locator(`#ids tr[data-id="${raider.id}"]`).textContent()) ?? '', /2 others/);
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
    await page.waitForFunction(() => (document.getElementById('img-after') as HTMLImageElement | null)?.complete);
    await page.screenshot({ path: screenshotPath('mod-preview') });
    assert.equal(await page.evaluate(() => window.modConsole?.colourAt(11, 11)), BLUE);
    await page.locator('#rollback').click();
    await page.waitForFunction(() => /Rolled back/.test(document.getElementById('undo-status')?.textContent ?? ''));
    await page.waitForFunction(() => window.modConsole?.colourAt(11, 11) === 0, undefined, { timeout: 10_000 });
    const [previewed, rolled] = sent.rollback as Array<Record<string, unknown>>;
    assert.deepEqual(rolled, previewed, 'the rollback sends exactly what was previewed');
    assert.deepEqual({ ...rolled, since: 0 }, { x: 9, y: 9, width: 4, height: 3, since: 0, ids: [helper.id] });
    await page.screenshot({ path: screenshotPath('mod-rolled-back') });

    // Watch: a hot area clicked is selected and looked at.
    await page.locator('#w-hot button').first().click();
    await page.waitForFunction(() => window.modConsole?.selection()?.x === 38);
    await page.waitForFunction(() => document.querySelectorAll('#placements tbody tr[data-seq]').length === 1);
    assert.equal((await shownSeqs(page))[0], made.find((p) => p.who === elsewhere.id)?.seq);
    await page.locator('#heat-on').check();
    await page.waitForFunction(() =>
      /placements on one pixel/.test(document.getElementById('heat-status')?.textContent ?? ''),
    );
    await page.screenshot({ path: screenshotPath('mod-watch-heatmap') });

    // A token the server stops accepting (here: replaced under the page) asks again and is dropped.
    await page.evaluate(() => sessionStorage.setItem('canvas.mod.adminToken', 'revoked'));
    await page.locator('#unlock').click();
    await gate.waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);

    // The canvas page of the same browser has no way to the token.
    const canvasPage = await context.newPage();
    await canvasPage.goto(`${srv.http}/`);
    const seen = await canvasPage.evaluate(() => ({
      cookie: document.cookie,
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      html: document.documentElement.outerHTML,
    }));
    for (const [where, text] of Object.entries(seen))
      assert.ok(!text.includes(TOKEN), `token in the canvas page's ${where}`);

    assert.deepEqual(
      urls.filter((u) => u.includes(TOKEN)),
      [],
      'token in a request URL',
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
});
