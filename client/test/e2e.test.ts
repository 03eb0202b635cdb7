/**
 * End-to-end: the built client in real headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against real in-process servers. `npm test` builds the bundle first (pretest).
 * Waits are on observable state (status, board, pixels on screen, GET /image), never fixed sleeps.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { decodeServerMessage, parseClientMessage } from '../../protocol/codec.ts';
import type { ClientMessage, PlaceMsg, ServerMessage } from '../../protocol/messages.ts';
import { PALETTE_2017 } from '../../server/config/palette.ts';
import {
  decodeToIndices,
  fetchImageGrid,
  startTestServer,
  tempDir,
  TestClient,
  type TestServer,
} from '../../testkit/fixture.ts';
import { startServer, type StartedServer } from '../../testkit/server-process.ts';
import { NOT_CONNECTED_TEXT, POLLING_TEXT } from '../src/error-text.ts';
import { TcpRelay } from './tcp-relay.ts';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('../screenshot.png', import.meta.url));
const RED = 5; // index of 0xe50000 in the 2017 palette
const BLUE = 13;
const rgbOf = (index: number): number => PALETTE_2017[index] as number;

declare global {
  interface Window {
    /** Test helper (added by addInitScript): the colour drawn on screen at a board pixel's centre. */
    screenRgb?: (x: number, y: number, fx?: number, fy?: number) => number | null;
  }
}

/** Reads back the on-screen canvas at board pixel (x, y), at fraction (fx, fy) inside the pixel. */
function installScreenReader(): void {
  window.screenRgb = (x, y, fx = 0.5, fy = 0.5) => {
    const canvas = document.getElementById('view');
    const client = window.canvasClient;
    const centre = client?.pixelToClient(x, y);
    const scale = client?.scale();
    if (!(canvas instanceof HTMLCanvasElement) || !centre || !scale) return null;
    const r = canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const px = Math.floor((centre.x + (fx - 0.5) * scale - r.left) * dpr);
    const py = Math.floor((centre.y + (fy - 0.5) * scale - r.top) * dpr);
    const d = canvas.getContext('2d')?.getImageData(px, py, 1, 1).data;
    return d ? ((d[0] as number) << 16) | ((d[1] as number) << 8) | (d[2] as number) : null;
  };
}

let browser: Browser | undefined;
const servers: TestServer[] = [];
const children: StartedServer[] = [];
const relays: TcpRelay[] = [];
const dirs: string[] = [];

async function server(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const ts = await startTestServer({ width: 64, height: 48, ...overrides });
  servers.push(ts);
  return ts;
}

interface OpenPage {
  page: Page;
  /** Uncaught exceptions in the page: every test ends by asserting there were none. */
  errors: Error[];
  /** Every WebSocket frame the page sent and received, decoded (what really went over the wire). */
  sent: ClientMessage[];
  received: ServerMessage[];
}

async function openPage(http: string, options: BrowserContextOptions = {}): Promise<OpenPage> {
  if (!browser) throw new Error('no browser');
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, ...options });
  await context.addInitScript(installScreenReader);
  const page = await context.newPage();
  const open: OpenPage = { page, errors: [], sent: [], received: [] };
  page.on('pageerror', (e) => open.errors.push(e));
  page.on('websocket', (ws) => {
    ws.on('framesent', ({ payload }) => {
      const parsed = typeof payload === 'string' ? null : parseClientMessage(new Uint8Array(payload));
      if (parsed?.ok) open.sent.push(parsed.msg);
    });
    ws.on('framereceived', ({ payload }) => {
      if (typeof payload !== 'string') open.received.push(decodeServerMessage(new Uint8Array(payload)));
    });
  });
  await page.goto(`${http}/`);
  await waitLive(page);
  return open;
}

/**
 * Polls `probe` until it returns a value. For state that arrives as Playwright events in this process
 * (WebSocket frames), which no page-side wait can observe.
 */
async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves when the page has received a frame matching `match`. */
function waitFrame(open: OpenPage, match: (m: ServerMessage) => boolean, timeoutMs = 5_000): Promise<ServerMessage> {
  return waitFor(() => open.received.find(match), 'the page did not receive the expected frame', timeoutMs);
}

/** Connected and showing a snapshot at least as new as `seq`. */
async function waitLive(page: Page, seq = 0, timeout = 15_000): Promise<void> {
  await page.waitForFunction(
    (min) =>
      window.canvasClient?.status() === 'connected' &&
      (window.canvasClient.seq() ?? -1) >= min &&
      document.body.dataset['seq'] !== undefined,
    seq,
    { timeout },
  );
}

async function pickColour(page: Page, index: number): Promise<void> {
  const button = page.locator(`#swatches button[data-index="${index}"]`);
  await button.click();
  assert.equal(await button.getAttribute('aria-pressed'), 'true');
}

async function clientPoint(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  const p = await page.evaluate(([bx, by]) => window.canvasClient?.pixelToClient(bx, by) ?? null, [x, y] as const);
  assert.ok(p, 'the page knows where the pixel is');
  return p;
}

async function clickPixel(page: Page, x: number, y: number): Promise<void> {
  const p = await clientPoint(page, x, y);
  await page.mouse.click(p.x, p.y);
}

const shownColour = (page: Page, x: number, y: number) =>
  page.evaluate(([bx, by]) => window.canvasClient?.colourAt(bx, by) ?? null, [x, y] as const);

async function waitScreen(page: Page, x: number, y: number, rgb: number, timeout = 5_000): Promise<void> {
  await page.waitForFunction(([bx, by, want]) => window.screenRgb?.(bx, by) === want, [x, y, rgb] as const, {
    timeout,
  });
}

/** Polls GET /image until pixel (x, y) has colour c. */
async function waitImage(ts: { http: string }, x: number, y: number, c: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${ts.http}/image`);
    const img = decodeToIndices(new Uint8Array(await res.arrayBuffer()), PALETTE_2017);
    const got = img.grid[y * img.width + x];
    if (got === c) return;
    if (Date.now() > deadline) assert.fail(`GET /image shows ${got} at (${x}, ${y}), expected ${c}`);
    await new Promise((r) => setTimeout(r, 50)); // the image changes once per tick
  }
}

/** The server as users run it, in a child process, so the test can really kill it (SIGKILL). */
function spawnServer(dir: string): Promise<StartedServer> {
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--db',
    join(dir, 'canvas.db'),
    '--width',
    '64',
    '--height',
    '48',
    '--tick-ms',
    '100',
    '--cooldown-ms',
    '0',
    '--log-level',
    'info',
  ];
  return startServer({ args });
}

/** Placing is disabled: the palette buttons are (their fieldset is disabled). */
const paletteDisabled = (page: Page) => page.locator('#swatches button').first().isDisabled();

async function messageText(page: Page): Promise<string> {
  const message = page.locator('#message');
  await message.waitFor({ state: 'visible', timeout: 5_000 });
  return (await message.textContent()) ?? '';
}

/** Paints a small picture through the protocol, so the screenshot shows more than a white sheet. */
async function seedPicture(ts: TestServer): Promise<number> {
  const c = await TestClient.connect(ts.ws);
  const { width, height } = ts.config;
  let id = 0;
  const stripes = [5, 6, 8, 10, 12, 13, 15];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x - width * 0.7;
      const dy = y - height * 0.45;
      let colour = -1;
      if (y >= 34 && y < 34 + stripes.length * 2) colour = stripes[Math.floor((y - 34) / 2)] as number;
      else if (dx * dx + dy * dy < 64)
        colour = 8; // a sun
      else if (y === 0 || x === 0 || y === height - 1 || x === width - 1) colour = 3;
      if (colour >= 0) c.send({ t: 'place', id: ++id, x, y, c: colour });
    }
  }
  const last = await c.next((m) => m.t === 'ack' && m.id === id, 10_000);
  await c.close();
  return last.t === 'ack' ? last.seq : 0;
}

const skip = process.env['SKIP_BROWSER_TESTS'] === '1' ? 'SKIP_BROWSER_TESTS=1' : false;

describe('browser client in headless Chromium', { skip }, () => {
  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`,
      );
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    for (const ts of servers) await ts.dispose();
    for (const c of children) await c.kill();
    for (const r of relays) await r.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('loads the canvas crisp, places a pixel by clicking, the server stores it; saves a screenshot', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const seeded = await seedPicture(ts);
    const open = await openPage(ts.http);
    const { page, errors } = open;
    await waitLive(page, seeded);
    await waitScreen(page, 0, 0, rgbOf(3));
    // Crisp: near the edge of a black border pixel, next to a white one, it is still pure black.
    assert.equal(await page.evaluate(() => window.screenRgb?.(1, 1, 0.1, 0.5)), rgbOf(0));
    assert.equal(await page.evaluate(() => window.screenRgb?.(0, 1, 0.9, 0.5)), rgbOf(3));
    assert.equal(await page.locator('#swatches button').count(), 16);
    assert.equal(await page.locator('#swatches button[aria-label="red (#e50000)"]').count(), 1);

    await pickColour(page, RED);
    await clickPixel(page, 10, 20);
    assert.equal(await shownColour(page, 10, 20), RED, 'shown at once');
    await waitScreen(page, 10, 20, rgbOf(RED));
    const place = await waitFor(() => open.sent.find((m): m is PlaceMsg => m.t === 'place'), 'a place frame');
    assert.deepEqual(place && { x: place.x, y: place.y, c: place.c }, { x: 10, y: 20, c: RED });
    await waitFrame(open, (m) => m.t === 'ack' && m.id === place?.id);
    await waitImage(ts, 10, 20, RED);
    assert.equal(await shownColour(page, 10, 20), RED, 'confirmed, still shown');
    assert.match((await page.locator('#cursor').textContent()) ?? '', /\(10, 20\) red/);
    await page.screenshot({ path: SCREENSHOT });
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test("a second page sees the first page's pixel within two ticks", { timeout: 60_000 }, async () => {
    const ts = await server({ tickMs: 1000 });
    const a = await openPage(ts.http);
    const b = await openPage(ts.http);
    await pickColour(a.page, BLUE);
    const placedAt = Date.now();
    await clickPixel(a.page, 30, 7);
    await waitScreen(b.page, 30, 7, rgbOf(BLUE), 2 * ts.config.tickMs);
    const elapsed = Date.now() - placedAt;
    assert.ok(elapsed <= 2 * ts.config.tickMs, `seen after ${elapsed} ms`);
    assert.deepEqual([...a.errors, ...b.errors], []);
    await a.page.context().close();
    await b.page.context().close();
  });

  test('after the server is killed and restarted the page reconnects by itself', { timeout: 90_000 }, async () => {
    const dir = tempDir();
    dirs.push(dir);
    const first = await spawnServer(dir);
    children.push(first);
    const relay = await TcpRelay.start(first.port);
    relays.push(relay);
    const front = { http: `http://127.0.0.1:${relay.port}` };
    const { page, errors } = await openPage(front.http);
    await pickColour(page, RED);
    await clickPixel(page, 3, 3);
    await waitImage(front, 3, 3, RED);

    await first.kill(); // SIGKILL: no goodbye, the sockets just die
    await page.waitForFunction(() => window.canvasClient?.status() === 'reconnecting', null, { timeout: 10_000 });
    assert.match((await page.locator('#status').textContent()) ?? '', /placing disabled/);
    assert.equal(await paletteDisabled(page), true);
    await clickPixel(page, 4, 4);
    assert.equal(await messageText(page), NOT_CONNECTED_TEXT);
    assert.equal(await shownColour(page, 4, 4), 0, 'nothing placed while disconnected');

    const second = await spawnServer(dir);
    children.push(second);
    relay.setBackend(second.port);
    await waitLive(page, 0, 30_000);
    assert.equal(await paletteDisabled(page), false);
    assert.equal(await shownColour(page, 3, 3), RED, 'the stored pixel is still there');
    await clickPixel(page, 4, 4);
    await waitImage(front, 4, 4, RED);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('a placement refused for cooldown is reverted and explained', { timeout: 60_000 }, async () => {
    // The commit delay holds the first ack back, so the second click goes out before the page knows
    // about its cooldown: the server, not the page, refuses it.
    const ts = await server({ cooldownMs: 60_000, commitDelayMs: 500 });
    const open = await openPage(ts.http);
    const { page, errors } = open;
    await pickColour(page, RED);
    await clickPixel(page, 5, 5);
    await clickPixel(page, 6, 5);
    const second = await waitFor(
      () => open.sent.find((m): m is PlaceMsg => m.t === 'place' && m.x === 6),
      'the second placement was sent (the page did not know the cooldown yet)',
    );
    const refusal = await waitFrame(open, (m) => m.t === 'error' && m.id === second.id);
    assert.equal(refusal.t === 'error' && refusal.code, 'cooldown');
    assert.match(await messageText(page), /^Cooldown: you can place again in (1:00|\d+ s)\.$/);
    assert.equal(await shownColour(page, 6, 5), 0, 'the refused pixel is reverted');
    await waitScreen(page, 6, 5, rgbOf(0));
    assert.equal(await shownColour(page, 5, 5), RED, 'the accepted one stays');
    await waitImage(ts, 5, 5, RED);
    assert.equal((await fetchImageGrid(ts))[5 * 64 + 6], 0);
    await page.waitForFunction(() => /^Next pixel in /.test(document.getElementById('cooldown')?.textContent ?? ''));

    // Now the page knows: a third click is refused locally, with the time left, and nothing is sent.
    await clickPixel(page, 7, 5);
    assert.match(await messageText(page), /^Cooldown: you can place again in/);
    assert.equal(open.sent.filter((m) => m.t === 'place').length, 2, 'the third was never sent');
    assert.equal(await shownColour(page, 7, 5), 0);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('after a reload the page shows the running cooldown from hello and places nothing until it ends', {
    timeout: 60_000,
  }, async () => {
    const ts = await server({ cooldownMs: 60_000 });
    const open = await openPage(ts.http);
    const { page, errors } = open;
    await pickColour(page, RED);
    await clickPixel(page, 5, 5);
    await waitImage(ts, 5, 5, RED);

    await page.reload(); // the page forgets everything; the identity cookie stays
    await waitLive(page);
    const hello = await waitFrame(open, (m) => m.t === 'hello' && (m.wait ?? 0) > 0);
    assert.ok(
      hello.t === 'hello' && hello.wait !== undefined && hello.wait <= 60_000,
      'hello carries the remaining wait',
    );
    await page.waitForFunction(() => /^Next pixel in /.test(document.getElementById('cooldown')?.textContent ?? ''));
    const placesBefore = open.sent.filter((m) => m.t === 'place').length;
    await pickColour(page, BLUE);
    await clickPixel(page, 6, 5);
    assert.match(await messageText(page), /^Cooldown: you can place again in/);
    assert.equal(
      open.sent.filter((m) => m.t === 'place').length,
      placesBefore,
      'the click after the reload was not sent',
    );
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('when the WebSocket is blocked the page polls GET /image with If-None-Match and says so', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    if (!browser) throw new Error('no browser');
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    await context.addInitScript(installScreenReader);
    // A proxy that accepts the upgrade and drops the connection at once.
    await context.routeWebSocket(/\/ws/, (ws) => ws.close());
    const page = await context.newPage();
    const conditional: string[] = [];
    page.on('request', (r) => {
      const tag = r.headers()['if-none-match'];
      if (r.url().endsWith('/image') && tag) conditional.push(tag);
    });
    await page.goto(`${ts.http}/`);
    await page.waitForFunction(() => window.canvasClient?.status() === 'polling', null, { timeout: 15_000 });
    assert.match((await page.locator('#status').textContent()) ?? '', /polling/);
    assert.equal(await paletteDisabled(page), true);

    const c = await TestClient.connect(ts.ws);
    c.send({ t: 'place', id: 1, x: 40, y: 9, c: BLUE });
    await c.nextOf('ack');
    await c.close();
    await waitScreen(page, 40, 9, rgbOf(BLUE), 5_000);
    assert.ok(conditional.length > 0, 'polls revalidate with If-None-Match');
    await clickPixel(page, 1, 1);
    assert.equal(await messageText(page), POLLING_TEXT);
    await context.close();
  });

  test('wheel zooms toward the pointer, drag pans without placing, keys pan and zoom', {
    timeout: 60_000,
  }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http);
    await pickColour(page, RED);
    const scale = async () => (await page.evaluate(() => window.canvasClient?.scale())) ?? 0;
    const pixelAt = (x: number, y: number) =>
      page.evaluate(([cx, cy]) => window.canvasClient?.pixelAtClient(cx, cy) ?? null, [x, y] as const);

    const p = await clientPoint(page, 20, 30);
    await page.mouse.move(p.x, p.y);
    const before = await scale();
    await page.mouse.wheel(0, -400);
    await page.waitForFunction((s) => (window.canvasClient?.scale() ?? 0) > s, before);
    assert.deepEqual(await pixelAt(p.x, p.y), { x: 20, y: 30 }, 'the pixel under the pointer stays under it');

    // Drag, zoom mid-drag, keep dragging: the grabbed pixel stays under the pointer throughout.
    await page.mouse.down();
    await page.mouse.move(p.x - 60, p.y - 40, { steps: 5 });
    const midDrag = await scale();
    await page.mouse.wheel(0, 200);
    await page.waitForFunction((s) => (window.canvasClient?.scale() ?? 0) !== s, midDrag);
    await page.mouse.move(p.x - 90, p.y - 50, { steps: 3 });
    assert.deepEqual(await pixelAt(p.x - 90, p.y - 50), { x: 20, y: 30 });
    await page.mouse.up();
    assert.equal(await shownColour(page, 20, 30), 0, 'a drag is not a click: nothing placed');

    await page.locator('#view').focus();
    const zoomBefore = await scale();
    await page.keyboard.press('+');
    assert.ok((await scale()) > zoomBefore);
    await page.keyboard.press('-');
    assert.ok(Math.abs((await scale()) - zoomBefore) < 1e-9);
    const centre = { x: 500, y: 350 };
    const atCentre = await pixelAt(centre.x, centre.y);
    await page.keyboard.press('ArrowRight');
    const moved = await pixelAt(centre.x, centre.y);
    assert.ok(atCentre && moved && moved.x > atCentre.x, 'ArrowRight shows what is further right');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('on a canvas too big to aim at, a click zooms in there first; the next click places', {
    timeout: 60_000,
  }, async () => {
    const ts = await server({ width: 600, height: 400 }); // fits 1000 x 700 at under 2 px per pixel
    const open = await openPage(ts.http);
    const { page, errors } = open;
    await pickColour(page, RED);
    const p = await clientPoint(page, 300, 200);
    const before = (await page.evaluate(() => window.canvasClient?.scale())) ?? 0;
    assert.ok(before < 3);
    await page.mouse.click(p.x, p.y);
    assert.ok(((await page.evaluate(() => window.canvasClient?.scale())) ?? 0) >= 10);
    assert.match(await messageText(page), /Zoomed in/);
    const aimed = await page.evaluate(([x, y]) => window.canvasClient?.pixelAtClient(x, y) ?? null, [
      p.x,
      p.y,
    ] as const);
    assert.ok(aimed && Math.abs(aimed.x - 300) <= 1 && Math.abs(aimed.y - 200) <= 1, 'zoomed toward the click');
    assert.equal(open.sent.filter((m) => m.t === 'place').length, 0, 'nothing placed by the zooming click');
    await clickPixel(page, 300, 200);
    await waitImage(ts, 300, 200, RED);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('on a phone-sized touch screen: tap places, pinch zooms about the fingers', { timeout: 60_000 }, async () => {
    const ts = await server();
    const { page, errors } = await openPage(ts.http, {
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    await pickColour(page, BLUE);
    const p = await clientPoint(page, 12, 12);
    await page.touchscreen.tap(p.x, p.y);
    await waitImage(ts, 12, 12, BLUE);

    const scale = async () => (await page.evaluate(() => window.canvasClient?.scale())) ?? 0;
    const before = await scale();
    const mid = await clientPoint(page, 32, 24);
    const cdp = await page.context().newCDPSession(page);
    const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', d: number) =>
      cdp.send('Input.dispatchTouchEvent', {
        type,
        touchPoints:
          type === 'touchEnd'
            ? []
            : [
                { x: mid.x - d, y: mid.y, id: 1 },
                { x: mid.x + d, y: mid.y, id: 2 },
              ],
      });
    await touch('touchStart', 20);
    for (let d = 25; d <= 80; d += 5) await touch('touchMove', d);
    await touch('touchEnd', 0);
    const after = await scale();
    assert.ok(after > before * 3, `pinch zoomed from ${before} to ${after}`);
    const under = await page.evaluate(([x, y]) => window.canvasClient?.pixelAtClient(x, y) ?? null, [
      mid.x,
      mid.y,
    ] as const);
    assert.deepEqual(under, { x: 32, y: 24 }, 'the pinched pixel stays between the fingers');
    assert.equal(await shownColour(page, 32, 24), 0, 'a pinch is not a tap');
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
