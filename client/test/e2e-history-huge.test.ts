/**
 * End-to-end in real headless Chromium: History on canvases over 4096 a side, whose past the server
 * draws by region only. On a 16,384 x 16,384 canvas the page shows the past of the region in view at
 * its place (read back from the screen and from the page's colour readout), a later seq the later
 * colours, and a pan asks for the new view's past; the timelapse link is of the view's region. On a
 * canvas that grew past 4096 a side by a resize with columns and rows added on the left and top, a
 * seq before the resize shows the art where it is today, and what was not canvas then blank, also
 * when asked by time (the region asked again by the seq found).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import {
  BLUE,
  describeBrowser,
  jsMemory,
  openPage,
  RED,
  rgbOf,
  server,
  shownColour,
  waitLive,
  waitScreen,
  placeAsNewPlayer,
  GREEN,
  WHITE,
  waitHistorySeq,
} from './browser-kit.ts';

const SIDE = 16_384;
const ADMIN = 'sesame';
/** The page's JS memory bound on a 16,384 x 16,384 canvas, as in e2e-huge-canvas.test.ts (a full-size grid alone: 268 MB). */
const HEAP_BUDGET = 150 * 1024 * 1024;

/** The region query of every GET /api/history/image the page made (null: asked without a region). */
function regionsAsked(urls: readonly string[]): Array<{ x: number; y: number; w: number; h: number } | null> {
  return urls
    .map((u) => new URL(u))
    .filter((u) => u.pathname === '/api/history/image')
    .map((u) => {
      const p = u.searchParams;
      const [x, y, w, h] = ['x', 'y', 'w', 'h'].map((k) => p.get(k));
      return x === null || y === null || w === null || h === null
        ? null
        : { x: Number(x), y: Number(y), w: Number(w), h: Number(h) };
    });
}

/** Moves the history slider to `seq` (as a drag would) and waits until that canvas is on screen. */
async function slideTo(page: Page, seq: number): Promise<void> {
  await page.locator('#hist-range').fill(String(seq));
  await waitHistorySeq(page, seq);
}

describeBrowser('browser client: history on a canvas over 4096 a side', () => {
  test('16,384 x 16,384: the past of the view at its place, a later seq, and a pan asks for the new view', {
    timeout: 120_000,
  }, async () => {
    const ts = await server({ width: SIDE, height: SIDE });
    const corner = { x: SIDE - 4, y: SIDE - 5 };
    const left = { x: SIDE - 134, y: SIDE - 14 }; // off screen at first, ~130 px left of the corner
    const mid = { x: SIDE / 2, y: SIDE / 2 };
    await placeAsNewPlayer(ts.http, mid.x, mid.y, GREEN);
    await placeAsNewPlayer(ts.http, left.x, left.y, GREEN);
    const red = (await placeAsNewPlayer(ts.http, corner.x, corner.y, RED)).seq;
    const blue = (await placeAsNewPlayer(ts.http, corner.x, corner.y, BLUE)).seq;
    await placeAsNewPlayer(ts.http, mid.x, mid.y, RED); // live differs from the past there
    const last = (await placeAsNewPlayer(ts.http, left.x, left.y, RED)).seq; // live differs from the past there
    const urls: string[] = [];
    const { page, errors } = await openPage(
      ts.http,
      {},
      {
        path: `/#x=${corner.x - 10}&y=${corner.y - 10}&scale=8`,
        live: false,
        before: async (p) => void p.on('request', (r) => urls.push(r.url())),
      },
    );
    await waitLive(page, last, 30_000);
    await waitScreen(page, corner.x, corner.y, rgbOf(BLUE), 15_000);

    await page.locator('#history-toggle').click();
    await waitHistorySeq(page, last);
    await slideTo(page, red);
    await waitScreen(page, corner.x, corner.y, rgbOf(RED));
    assert.equal(await shownColour(page, corner.x, corner.y), RED, 'the cursor readout reads the past');
    assert.equal(await page.locator('#history-label').textContent(), `History: seq ${red}`);
    assert.equal(await shownColour(page, 0, 0), null, 'far outside the view: not known, never the live board');
    await slideTo(page, blue);
    await waitScreen(page, corner.x, corner.y, rgbOf(BLUE));
    await slideTo(page, red);
    await waitScreen(page, corner.x, corner.y, rgbOf(RED));

    // Every past canvas was asked by region, at most 4096 a side, and covering the corner.
    const asked = regionsAsked(urls);
    assert.ok(asked.length >= 3, `${asked.length} requests`);
    for (const r of asked) {
      assert.ok(r && r.w <= 4096 && r.h <= 4096, JSON.stringify(r));
      assert.ok(r.x <= corner.x && corner.x < r.x + r.w && r.y <= corner.y && corner.y < r.y + r.h);
    }
    // The timelapse link is of the view's region, and the server makes it.
    const href = (await page.locator('a.hist-timelapse').getAttribute('href')) ?? '';
    const region = new URL(href, ts.http).searchParams;
    assert.equal(region.get('to'), String(last));
    const [x, y, w, h] = ['x', 'y', 'w', 'h'].map((k) => Number(region.get(k)));
    assert.ok(x !== undefined && w !== undefined && y !== undefined && h !== undefined);
    assert.ok(x <= corner.x && corner.x < x + w && y <= corner.y && corner.y < y + h, href);
    const res = await fetch(`${ts.http}${href}`);
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('content-type'), 'image/png');

    // A drag to the right brings `left` into view: its past (green, red live) is asked for and shown.
    const before = asked.length;
    const centre = { x: 500, y: 350 };
    await page.mouse.move(centre.x, centre.y);
    await page.mouse.down();
    await page.mouse.move(centre.x + 900, centre.y, { steps: 10 });
    await page.mouse.up();
    await waitScreen(page, left.x, left.y, rgbOf(GREEN), 15_000);
    assert.equal(await shownColour(page, left.x, left.y), GREEN);
    assert.equal(await page.locator('#history-label').textContent(), `History: seq ${red}`, 'still that seq');
    assert.ok(regionsAsked(urls).length > before, 'the new view was asked for');

    // Zoomed out to the whole canvas: the 4096 x 4096 around the view's centre, and no more memory.
    await page.evaluate(
      ([x, y]) => {
        location.hash = `#x=${x}&y=${y}&scale=0.04`;
      },
      [mid.x, mid.y] as const,
    );
    await page.waitForFunction(
      ([x, y, c]) => window.canvasClient?.colourAt(x, y) === c,
      [mid.x, mid.y, GREEN] as const,
      {
        timeout: 20_000,
      },
    );
    assert.deepEqual(regionsAsked(urls).at(-1), { x: mid.x - 2048, y: mid.y - 2048, w: 4096, h: 4096 });
    const memory = await jsMemory(page);
    console.log(`# page JS heap + ArrayBuffers showing a 4096 x 4096 past region: ${(memory / 1048576).toFixed(1)} MB`);
    assert.ok(memory < HEAP_BUDGET, `${memory} bytes`);

    // Closing History: the live board again.
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => window.canvasClient?.historySeq() === null);
    await page.evaluate(
      ([x, y]) => {
        location.hash = `#x=${x}&y=${y}&scale=8`;
      },
      [left.x, left.y] as const,
    );
    await waitScreen(page, left.x, left.y, rgbOf(RED), 15_000);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('grown past 4096 a side with columns and rows added on the left and top: the past where it is today', {
    timeout: 90_000,
  }, async () => {
    const ts = await server({ adminToken: ADMIN, width: 600, height: 400 });
    const first = (await placeAsNewPlayer(ts.http, 30, 24, RED)).seq;
    // The time field takes whole seconds: the next one starts after `first` and before `second`.
    const between = Math.ceil((Date.now() + 1) / 1000) * 1000;
    await sleep(between + 200 - Date.now());
    const second = (await placeAsNewPlayer(ts.http, 30, 24, BLUE)).seq;
    const res = await fetch(`${ts.http}/api/admin/resize`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ width: 8192, height: 6000, left: 100, top: 50 }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const art = { x: 130, y: 74 }; // (30, 24) moved by the 100 columns and 50 rows added
    const added = { x: 60, y: 74 }; // not canvas before the resize
    const last = (await placeAsNewPlayer(ts.http, added.x, added.y, GREEN)).seq;
    const urls: string[] = [];
    const { page, errors } = await openPage(
      ts.http,
      {},
      {
        path: `/#x=${art.x}&y=${art.y}&scale=4`,
        live: false,
        before: async (p) => void p.on('request', (r) => urls.push(r.url())),
      },
    );
    await waitLive(page, last, 30_000);
    await waitScreen(page, art.x, art.y, rgbOf(BLUE), 15_000);
    await waitScreen(page, added.x, added.y, rgbOf(GREEN), 15_000);

    await page.locator('#history-toggle').click();
    await waitHistorySeq(page, last);
    await slideTo(page, first);
    await waitScreen(page, art.x, art.y, rgbOf(RED));
    await waitScreen(page, added.x, added.y, rgbOf(WHITE));
    assert.equal(await shownColour(page, art.x, art.y), RED);
    assert.equal(await shownColour(page, added.x, added.y), WHITE, 'not canvas then: blank');
    // Asked in the coordinates of the canvas then: moved back by the shift, cut at 0.
    const region = regionsAsked(urls).at(-1);
    assert.ok(region && region.x === 0 && region.y === 0, JSON.stringify(region));
    await slideTo(page, second);
    await waitScreen(page, art.x, art.y, rgbOf(BLUE));

    // By time: the seq is known from the answer only, so the region goes out as if the canvas had not
    // moved, then again by the seq found, in the coordinates of that seq (it grew on the left and top since).
    const byTime = urls.length;
    await page.evaluate((ms) => {
      // The page's own time zone, as the field reads it; no named helpers (the test's bundler would
      // wrap them in a function the page does not have).
      const d = new Date(ms);
      const [mo, da, h, mi, se] = [d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()].map(
        (n) => String(n).padStart(2, '0'),
      );
      const field = document.querySelector<HTMLInputElement>('form.hist-time input[name="at"]');
      if (!field) throw new Error('no time field');
      field.value = `${d.getFullYear()}-${mo}-${da}T${h}:${mi}:${se}`;
      field.form?.requestSubmit();
    }, between);
    await waitHistorySeq(page, first);
    await waitScreen(page, art.x, art.y, rgbOf(RED));
    assert.equal(await shownColour(page, art.x, art.y), RED, 'the past by time, where its art is today');
    const asked = urls
      .slice(byTime)
      .map((u) => new URL(u))
      .filter((u) => u.pathname === '/api/history/image');
    assert.ok(asked[0]?.searchParams.has('at'), 'asked by time first');
    const again = asked.at(-1);
    assert.equal(again?.searchParams.get('seq'), String(first), 'then by the seq found');
    assert.deepEqual([again?.searchParams.get('x'), again?.searchParams.get('y')], ['0', '0']);
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
