/**
 * End-to-end in real headless Chromium: a project registered over HTTP is listed in the projects
 * panel; opening it draws its image as the template overlay and says "N left"; another client
 * placing its colour brings N down (the WebSocket's `progress`), and overwriting that pixel with a
 * wrong colour lists the grief and marks it on the board; "Next wrong pixel" aims at a pixel the
 * project still wants; a template loaded in the page registers as a new project.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PALETTE_2017 } from '../../server/config/palette.ts';
import { httpRequest } from '../../testkit/fixture.ts';
import { projectPng } from '../../testkit/projects.ts';
import { BLUE, RED, describeBrowser, openPage, server } from './browser-kit.ts';

describeBrowser('browser client: projects', () => {
  test('a project overlay with "N left", and a grief highlighted when another client overwrites a project pixel', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const image = projectPng(6, 4, PALETTE_2017, () => RED).toString('base64');
    const made = await httpRequest(`${ts.http}/api/projects`, {
      method: 'POST',
      body: JSON.stringify({ name: 'Red block', x: 10, y: 10, image }),
    });
    assert.equal(made.status, 201, made.body);
    const id = (made.json() as { id: number }).id;

    const { page, errors } = await openPage(ts.http);
    await page.locator('#projects-toggle').click();
    const panel = page.locator('#projects-panel');
    await panel.locator('.project-row').filter({ hasText: 'Red block (10, 10): 0%' }).click();
    await panel.locator('.project-left').filter({ hasText: '24 left' }).waitFor();
    // Its image is the template overlay, at its place.
    await page.waitForFunction(() => document.getElementById('template-panel')?.dataset['state'] === 'loaded');
    assert.match(await page.evaluate(() => location.hash), new RegExp(`template=%2Fapi%2Fprojects%2F${id}%2Fimage`));
    assert.match(await page.evaluate(() => location.hash), /ox=10&oy=10/);

    // Another client (its own identity) places the project's colour, then a griefer overwrites it.
    const place = (color: number) =>
      httpRequest(`${ts.http}/api/pixel`, { method: 'POST', body: JSON.stringify({ x: 12, y: 11, color }) });
    assert.equal((await place(RED)).status, 200);
    await panel.locator('.project-left').filter({ hasText: '23 left' }).waitFor();
    assert.equal(await panel.locator('.project-grief').count(), 0);
    assert.equal((await place(BLUE)).status, 200);
    await panel.locator('.project-left').filter({ hasText: '24 left' }).waitFor();
    await panel
      .locator('.project-grief')
      .filter({ hasText: /^\(12, 11\) by [0-9a-f]{8}, \d+ s ago$/ })
      .waitFor();
    await page.waitForFunction(() => document.getElementById('view')?.dataset['marks'] === '1');

    await panel.getByRole('button', { name: 'Next wrong pixel' }).click();
    const reticle = await page.evaluate(() => window.canvasClient?.reticle());
    assert.ok(reticle && reticle.x >= 10 && reticle.x < 16 && reticle.y >= 10 && reticle.y < 14, 'inside the project');
    assert.equal(await page.locator(`#swatches button[data-index="${RED}"]`).getAttribute('aria-pressed'), 'true');

    // The loaded template (this project's image) registers as a second project at the same place.
    await panel.locator('input[name="project-name"]').fill('Copy');
    await panel.getByRole('button', { name: 'Register the template' }).click();
    await panel.locator('.project-name').filter({ hasText: 'Copy' }).waitFor();
    await panel.locator('.project-left').filter({ hasText: '24 left' }).waitFor();
    const list = (await httpRequest(`${ts.http}/api/projects`)).json() as {
      projects: Array<{ name: string; x: number; y: number; total: number }>;
    };
    assert.deepEqual(
      list.projects.map((p) => [p.name, p.x, p.y, p.total]),
      [
        ['Copy', 10, 10, 24],
        ['Red block', 10, 10, 24],
      ],
    );
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
