/**
 * End-to-end in real headless Chromium: the moderation console's Bots panel against a real server.
 * Mint a bot from the form (its token shown once, and it places with it), the list with quota,
 * region, expiry, pixels placed and state, revoke after a confirming click (the bot's next placement is
 * refused). Every request of the page goes to the existing admin bot routes with the bearer token.
 * And the Act panel's "Clear name" (a display name, through POST /api/admin/names/clear).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { currentBrowser, describeBrowser, server } from './browser-kit.ts';

const TOKEN = `mod-bots-${randomBytes(12).toString('hex')}`;

describeBrowser('moderation console: bots', () => {
  test('mint a bot (token shown once, it places), list it with its pixels, revoke it after a confirming click', {
    timeout: 90_000,
  }, async () => {
    const ts = await server({ adminToken: TOKEN, cooldownMs: 600_000 });
    const place = (token: string, x: number, y: number) =>
      fetch(`${ts.http}/api/pixel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ x, y, color: 5 }),
      });

    const context = await currentBrowser().newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const errors: Error[] = [];
    const requests: Array<{ method: string; url: string; auth: string | undefined }> = [];
    page.on('pageerror', (e) => errors.push(e));
    page.on('request', (r) => {
      if (r.url().includes('/api/'))
        requests.push({ method: r.method(), url: r.url(), auth: r.headers()['authorization'] });
    });
    await page.goto(`${ts.http}/mod`);
    await page.locator('#gate-token').fill(TOKEN);
    await page.locator('#gate-token').press('Enter');
    await page.locator('#console').waitFor({ state: 'visible' });
    const rows = page.locator('#bots-table tbody tr');
    await rows.filter({ hasText: 'No bots yet.' }).waitFor();

    // Mint: a name, one pixel a second, a region, an expiry of an hour.
    await page.locator('#bot-name').fill('flag-painter');
    await page.locator('#bot-every').fill('1');
    for (const [id, v] of [
      ['#bot-x', '2'],
      ['#bot-y', '3'],
      ['#bot-w', '4'],
      ['#bot-h', '5'],
    ] as const)
      await page.locator(id).fill(v);
    await page.locator('#bot-expiry').selectOption({ label: '1 hour' });
    await page.locator('#bot-mint').click();
    await page.locator('#bot-token').waitFor({ state: 'visible' });
    const token = await page.locator('#bot-token-text').inputValue();
    assert.match(token, /^bot\.[0-9a-f]{16}\./);
    assert.equal(await page.locator('#bot-token-name').textContent(), 'flag-painter');
    const row = page.locator('#bots-table tbody tr', { hasText: 'flag-painter' });
    await row.waitFor();
    const cells = async () => (await row.locator('td').allTextContents()).slice(0, 7);
    const id = token.split('.')[1] as string;
    const [name, shownId, quota, region, expires, placed, state] = await cells();
    assert.deepEqual(
      [name, shownId, quota, region, placed, state],
      ['flag-painter', id, '1 px every 1 s', '2,3 4 × 5', '0', 'active'],
    );
    assert.match(expires ?? '', /^\d\d:\d\d:\d\d$|^\d{4}-/, 'an expiry time');

    // The token works, inside the region; the page's list then counts the pixel (after the next action).
    assert.equal((await place(token, 3, 4)).status, 200);
    await page.locator('#bot-token-hide').click();
    assert.equal(await page.locator('#bot-token').isHidden(), true);
    assert.equal(await page.locator('#bot-token-text').inputValue(), '', 'the token is not left in the page');
    await page.locator('#bot-name').fill('second');
    await page.locator('#bot-every').fill('0.5');
    for (const f of ['#bot-x', '#bot-y', '#bot-w', '#bot-h']) await page.locator(f).fill('');
    await page.locator('#bot-expiry').selectOption({ label: 'until revoked' });
    await page.locator('#bot-mint').click();
    await page.locator('#bots-table tbody tr', { hasText: 'second' }).waitFor();
    await page.waitForFunction(
      (botId) => document.querySelector(`#bots-table tr[data-bot="${botId}"] td:nth-child(6)`)?.textContent === '1',
      id,
    );
    const second = await page.locator('#bots-table tbody tr', { hasText: 'second' }).locator('td').allTextContents();
    assert.deepEqual(second.slice(2, 5), ['1 px every 0.5 s', 'anywhere', 'never']);

    // A bad form is refused on the page, before any request.
    const before = requests.length;
    await page.locator('#bot-name').fill('x');
    await page.locator('#bot-x').fill('1'); // a region needs all four numbers
    await page.locator('#bot-mint').click();
    await page.locator('#notice').filter({ hasText: 'Mint bot: the region is' }).waitFor();
    assert.equal(requests.slice(before).filter((r) => r.method === 'POST').length, 0, 'nothing sent');

    // Revoke: the first click asks, the second revokes; the bot places nothing more.
    const revoke = row.getByRole('button');
    await revoke.click();
    assert.equal(await revoke.textContent(), 'Really revoke?');
    await revoke.click();
    await page.locator('#notice').filter({ hasText: 'Revoked bot "flag-painter".' }).waitFor();
    await row.locator('td', { hasText: /^revoked \d+ s ago$/ }).waitFor();
    assert.equal(await row.getByRole('button').isDisabled(), true);
    const refused = await place(token, 3, 5);
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { error: string }).error, 'bot_revoked');

    // Only the existing admin routes, each with the bearer token; the bot token in no URL.
    const admin = requests.filter((r) => r.url.includes('/api/admin/'));
    assert.ok(admin.every((r) => r.auth === `Bearer ${TOKEN}`));
    const paths = new Set(admin.map((r) => `${r.method} ${new URL(r.url).pathname}`));
    for (const p of ['GET /api/admin/bots', 'POST /api/admin/bots', 'POST /api/admin/bots/revoke'])
      assert.ok(paths.has(p), p);
    assert.ok(requests.every((r) => !r.url.includes(token)));
    const audit = (await (
      await fetch(`${ts.http}/api/admin/audit?limit=20`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { entries: Array<{ action: string }> };
    assert.deepEqual(
      audit.entries.map((e) => e.action).filter((a) => a.startsWith('bot-')),
      ['bot-revoke', 'bot-mint', 'bot-mint'],
    );
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('Act: "Clear name" removes an identity’s display name (audited)', { timeout: 60_000 }, async () => {
    const ts = await server({ adminToken: TOKEN });
    const p = (await (await fetch(`${ts.http}/api/session`, { method: 'POST' })).json()) as {
      id: string;
      token: string;
    };
    const named = await fetch(`${ts.http}/api/me/name`, {
      method: 'POST',
      headers: { authorization: `Bearer ${p.token}` },
      body: JSON.stringify({ name: 'Vandal' }),
    });
    assert.equal(named.status, 200);
    const context = await currentBrowser().newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const errors: Error[] = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(`${ts.http}/mod`);
    await page.locator('#gate-token').fill(TOKEN);
    await page.locator('#gate-token').press('Enter');
    await page.locator('#console').waitFor({ state: 'visible' });
    await page.locator('#ban-target').fill(p.id);
    await page.locator('#clear-name').click();
    await page
      .locator('#notice')
      .filter({ hasText: `Cleared the name "Vandal" of ${p.id}.` })
      .waitFor();
    await page.locator('#audit-list li[data-action="name-clear"]').waitFor();
    const me = (await (await fetch(`${ts.http}/api/stats/me?id=${p.id}`)).json()) as { name?: string };
    assert.equal(me.name, undefined);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
