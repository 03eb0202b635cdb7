/**
 * What the browser end-to-end tests share: a Chromium per suite (playwright-core driving Debian's
 * `chromium`), pages with their WebSocket frames recorded, servers in process or as children, and
 * waits on observable state (status, board, pixels on screen, GET /image), never fixed sleeps.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../../testkit/chromium.ts';
import { decodeServerMessage, parseClientMessage } from '../../protocol/codec.ts';
import type { ClientMessage, ServerMessage } from '../../protocol/messages.ts';
import { PALETTE_2017 } from '../../server/config/palette.ts';
import { decodeToIndices, startTestServer, tempDir, TestClient, type TestServer } from '../../testkit/fixture.ts';
import { loopbackArgs, startServer, type StartedServer } from '../../testkit/server-process.ts';
import { TcpRelay } from './tcp-relay.ts';

export { CHROMIUM };
export const SCREENSHOT = fileURLToPath(new URL('../screenshot.png', import.meta.url));
/** Where the e2e runs save what users see, one PNG per state (git-ignored). */
export function screenshotPath(name: string): string {
  const dir = fileURLToPath(new URL('../screenshots/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.png`);
}
/** Palette indices of the 2017 palette the test servers use. */
export const WHITE = 0;
export const RED = 5; // 0xe50000
export const GREEN = 8;
export const BLUE = 13;
export const rgbOf = (index: number): number => PALETTE_2017[index] as number;

/** Waits until the History view shows the canvas of `seq` (the page's test hook). */
export async function waitHistorySeq(page: Page, seq: number): Promise<void> {
  await page.waitForFunction((s) => window.canvasClient?.historySeq() === s, seq, { timeout: 30_000 });
}

declare global {
  interface Window {
    /** Test helper (added by addInitScript): the colour drawn on screen at a board pixel's centre. */
    screenRgb?: (x: number, y: number, fx?: number, fy?: number) => number | null;
  }
}

/** Reads back the on-screen canvas at board pixel (x, y), at fraction (fx, fy) inside the pixel. */
export function installScreenReader(): void {
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

/** The Chromium the current suite launched (undefined outside a describeBrowser suite). */
export function currentBrowser(): Browser {
  if (!browser) throw new Error('no browser: call inside describeBrowser');
  return browser;
}
export const servers: TestServer[] = [];
export const children: StartedServer[] = [];
export const relays: TcpRelay[] = [];
export const dirs: string[] = [];

export async function server(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const ts = await startTestServer({ width: 64, height: 48, ...overrides });
  servers.push(ts);
  return ts;
}

export interface OpenPage {
  page: Page;
  /** Uncaught exceptions in the page: every test ends by asserting there were none. */
  errors: Error[];
  /** Every WebSocket frame the page sent and received, decoded (what really went over the wire). */
  sent: ClientMessage[];
  received: ServerMessage[];
}

export interface OpenHow {
  /** Path and hash to open (default `/`). */
  path?: string;
  /** Wait until the page is live (default true). */
  live?: boolean;
  /** Runs before navigation, e.g. to route the WebSocket. */
  before?: (page: Page) => Promise<void>;
}

export async function openPage(
  http: string,
  options: BrowserContextOptions = {},
  how: OpenHow = {},
): Promise<OpenPage> {
  const context = await currentBrowser().newContext({ viewport: { width: 1000, height: 700 }, ...options });
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
  await how.before?.(page);
  await page.goto(`${http}${how.path ?? '/'}`);
  if (how.live ?? true) await waitLive(page);
  return open;
}

/**
 * Polls `probe` until it returns a value. For state that arrives as Playwright events in this process
 * (WebSocket frames), which no page-side wait can observe.
 */
export async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves when the page has received a frame matching `match`. */
export function waitFrame(
  open: OpenPage,
  match: (m: ServerMessage) => boolean,
  timeoutMs = 5_000,
): Promise<ServerMessage> {
  return waitFor(() => open.received.find(match), 'the page did not receive the expected frame', timeoutMs);
}

/** Connected and showing a snapshot at least as new as `seq`. */
export async function waitLive(page: Page, seq = 0, timeout = 15_000): Promise<void> {
  await page.waitForFunction(
    (min) =>
      window.canvasClient?.status() === 'connected' &&
      (window.canvasClient.seq() ?? -1) >= min &&
      document.body.dataset['seq'] !== undefined,
    seq,
    { timeout },
  );
}

/** Puts colour `index` in hand (a click on its swatch, unless it is in hand already: that would put it down). */
export async function pickColour(page: Page, index: number): Promise<void> {
  const button = page.locator(`#swatches button[data-index="${index}"]`);
  if ((await button.getAttribute('aria-pressed')) !== 'true') await button.click();
  assert.equal(await button.getAttribute('aria-pressed'), 'true');
}

export async function clientPoint(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  const p = await page.evaluate(([bx, by]) => window.canvasClient?.pixelToClient(bx, by) ?? null, [x, y] as const);
  assert.ok(p, 'the page knows where the pixel is');
  return p;
}

export async function clickPixel(page: Page, x: number, y: number): Promise<void> {
  const p = await clientPoint(page, x, y);
  await page.mouse.click(p.x, p.y);
}

export const shownColour = (page: Page, x: number, y: number) =>
  page.evaluate(([bx, by]) => window.canvasClient?.colourAt(bx, by) ?? null, [x, y] as const);

export async function waitScreen(page: Page, x: number, y: number, rgb: number, timeout = 5_000): Promise<void> {
  await page.waitForFunction(([bx, by, want]) => window.screenRgb?.(bx, by) === want, [x, y, rgb] as const, {
    timeout,
  });
}

/** Places a pixel through the HTTP API under a fresh identity; its seq and the identity's id. */
export async function placeAsNewPlayer(
  http: string,
  x: number,
  y: number,
  color: number,
): Promise<{ seq: number; id: string }> {
  const session = (await (await fetch(`${http}/api/session`, { method: 'POST' })).json()) as {
    id: string;
    token: string;
  };
  const res = await fetch(`${http}/api/pixel`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ x, y, color }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return { seq: (JSON.parse(text) as { seq: number }).seq, id: session.id };
}

/** Polls GET /image until pixel (x, y) has colour c. */
export async function waitImage(
  ts: { http: string },
  x: number,
  y: number,
  c: number,
  timeoutMs = 5_000,
): Promise<void> {
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
export function spawnServer(dir: string): Promise<StartedServer> {
  const options = { width: 64, height: 48, 'tick-ms': 100, 'cooldown-ms': 0, 'log-level': 'info' };
  const args = loopbackArgs(join(dir, 'canvas.db'), options);
  return startServer({ args });
}

/** The page's JS memory: V8 heap in use plus the ArrayBuffers' backing stores, from the DevTools protocol. */
export async function jsMemory(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const usage = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; backingStorageSize?: number };
  await cdp.detach();
  return usage.usedSize + (usage.backingStorageSize ?? 0);
}

/** Placing is disabled: the palette buttons are (their fieldset is disabled). */
export const paletteDisabled = (page: Page) => page.locator('#swatches button').first().isDisabled();

/**
 * The cooldown is said once, by the countdown in the top bar: no message line repeats it.
 * Resolves with the countdown's text.
 */
export async function cooldownShownOnce(page: Page): Promise<string> {
  await page.waitForFunction(() => /^Next pixel in /.test(document.getElementById('cooldown')?.textContent ?? ''));
  const message = page.locator('#message');
  const repeated = (await message.isVisible()) && /cooldown/i.test((await message.textContent()) ?? '');
  assert.equal(repeated, false, 'no second cooldown message');
  return (await page.locator('#cooldown').textContent()) ?? '';
}

export async function messageText(page: Page): Promise<string> {
  const message = page.locator('#message');
  await message.waitFor({ state: 'visible', timeout: 5_000 });
  return (await message.textContent()) ?? '';
}

/** Paints a small picture through the protocol, so the screenshot shows more than a white sheet. */
export async function seedPicture(ts: TestServer): Promise<number> {
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

/**
 * A suite of browser tests: launches Debian's Chromium before them and, after them, closes it and
 * every server, child, relay and temp dir the tests registered. `SKIP_BROWSER_TESTS=1` skips it.
 */
export function describeBrowser(name: string, body: () => void): void {
  describe(name, { skip }, () => {
    before(async () => {
      if (!existsSync(CHROMIUM)) {
        throw new Error(
          `${CHROMIUM} not found: ` +
            "install Debian's chromium (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH",
        );
      }
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      for (const ts of servers) await ts.dispose();
      for (const c of children) await c.kill();
      for (const r of relays) await r.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    body();
  });
}

/**
 * A server in a child process behind a TCP relay, so the test can kill it and point the same front
 * port at a new one; all three are cleaned up after the suite.
 */
export async function relayedServer(): Promise<{ dir: string; first: StartedServer; relay: TcpRelay }> {
  const dir = tempDir();
  dirs.push(dir);
  const first = await spawnServer(dir);
  children.push(first);
  const relay = await TcpRelay.start(first.port);
  relays.push(relay);
  return { dir, first, relay };
}
