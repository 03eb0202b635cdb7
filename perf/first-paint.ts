/**
 * First paint bytes on a phone: everything a 390 x 844 touch phone (device scale 3, Debian's Chromium)
 * downloads from navigation until the canvas in view is drawn, on a 4096 x 4096 canvas of synthetic
 * artworks (perf/lib/canvas-content.ts), opened at a position link `#x=&y=&scale=` (scale 1: one canvas
 * pixel per CSS pixel, the most level-0 tiles a zoomed-in phone shows; larger scales show fewer).
 *
 * Bytes are the wire's, from the DevTools protocol: every HTTP response's `encodedDataLength`
 * (Network.loadingFinished: headers and body as received, compressed when compressed), and every
 * WebSocket frame's payload plus its frame header (Network.webSocketFrameReceived/Sent; 2, 4 or 10
 * bytes, plus the 4-byte mask of client frames) and the upgrade's response headers. The server sends
 * messages over 15 KiB as fragments (one header each); the protocol reports whole messages, so those
 * few headers are not counted.
 *
 * "Painted" is the first animation frame in which the board holds the canvas's real colours at a
 * grid of points spread over the view (window.canvasClient.colourAt against the server's grid).
 * Network events are counted up to that moment: their monotonic timestamps are turned into wall time
 * with the navigation request's (wallTime, timestamp) pair and compared with the page's
 * performance.timeOrigin + performance.now() at the paint. What comes after (the margin tiles that
 * load once the visible ones are in, the pyramid's top for the minimap) is reported apart.
 *
 * Each round loads the page twice, in alternating order: as a browser asks (Accept-Encoding: gzip,
 * deflate, br) and with `Accept-Encoding: identity` (what the static files cost uncompressed).
 * Not a test (not in the test glob); the figures go to perf/RESULTS.md.
 *
 * On a canvas over 4096 a side (`--side 16384`) the artworks fill a 4096 x 4096 window around the
 * view (the rest is blank: filling 268 M cells would only slow the server's start), and the page's
 * JS memory once settled is reported too (V8's heap plus ArrayBuffer backing stores, from CDP
 * Runtime.getHeapUsage after a garbage collection): it follows the screen, not the canvas. A scale
 * below one device pixel per canvas pixel (e.g. 0.02) is the zoomed-out view, drawn from the pyramid;
 * its sample points expect the pyramid's colour (the top-left pixel of each block).
 *
 *   npm run build && node --import tsx perf/first-paint.ts [--rounds 3] [--side 4096] [--scales 1,8]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Browser, CDPSession } from 'playwright-core';
import { launchChromium } from '../testkit/chromium.ts';
import { CLIENT_DIST, loadClientSite } from '../server/http/static-files.ts';
import { startTestServer, TestClient, type TestServer } from '../testkit/fixture.ts';
import { realisticGrid } from './lib/canvas-content.ts';

const VIEWPORT = { width: 390, height: 844 };
const VIEWPORT_DPR = 3;
/** Issue budget for a phone's first paint on the big canvas. */
const BUDGET_BYTES = 200_000;
/** Side of the artworks' window on a canvas larger than this. */
const ART_SIDE = 4096;
/** The canvas's tile size (GET /api/canvas; the server's default). */
const TILE_SIZE = 256;

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    side: { type: 'string', default: '4096' },
    scales: { type: 'string', default: '1,8' },
    verbose: { type: 'boolean', default: false },
  },
});

interface Transfer {
  /** What it was: a URL path, or "ws <- hello" style for WebSocket messages. */
  what: string;
  bytes: number;
  /** Wall time (ms since the epoch) it finished. */
  at: number;
}

interface LoadResult {
  /** Bytes up to the paint, by what. */
  before: Transfer[];
  /** Bytes after the paint until the page settled (margin tiles, the pyramid's top). */
  after: Transfer[];
  paintMs: number;
  /** The page's JS memory once settled: V8's heap in use plus ArrayBuffer backing stores. */
  heapBytes: number;
}

/** The canvas's colour at (x, y). */
type ColourAt = (x: number, y: number) => number;

/** WebSocket frame header bytes for a payload of n bytes (RFC 6455 5.2), plus the mask of client frames. */
function wsHeaderBytes(n: number, fromClient: boolean): number {
  return (n < 126 ? 2 : n < 65_536 ? 4 : 10) + (fromClient ? 4 : 0);
}

/** The message type of a MessagePack map frame (its `t`), for the breakdown; '?' when not found. */
function messageType(payload: Buffer): string {
  const i = payload.indexOf(Buffer.from([0xa1, 0x74])); // fixstr "t"
  if (i < 0) return '?';
  const len = (payload[i + 2] ?? 0xa0) - 0xa0;
  return len > 0 && len < 32 ? payload.subarray(i + 3, i + 3 + len).toString('utf8') : '?';
}

/** Records the page's network on the wire through CDP. */
function recordNetwork(cdp: CDPSession): { transfers: Transfer[]; offsetMs: () => number } {
  const transfers: Transfer[] = [];
  const urls = new Map<string, string>();
  // Network timestamps are monotonic seconds; requestWillBeSent also carries wall time (seconds).
  let offset: number | null = null;
  const wall = (timestamp: number): number => timestamp * 1000 + (offset ?? 0);
  cdp.on('Network.requestWillBeSent', (e) => {
    offset ??= e.wallTime * 1000 - e.timestamp * 1000;
    urls.set(e.requestId, new URL(e.request.url).pathname);
  });
  cdp.on('Network.loadingFinished', (e) => {
    transfers.push({ what: urls.get(e.requestId) ?? e.requestId, bytes: e.encodedDataLength, at: wall(e.timestamp) });
  });
  cdp.on('Network.webSocketHandshakeResponseReceived', (e) => {
    const headers =
      e.response.headersText ??
      Object.entries(e.response.headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
    transfers.push({ what: 'ws upgrade', bytes: headers.length + 4, at: wall(e.timestamp) });
  });
  const frame = (dir: '<-' | '->') => (e: { timestamp: number; response: { opcode: number; payloadData: string } }) => {
    const { opcode, payloadData } = e.response;
    const payload = opcode === 2 ? Buffer.from(payloadData, 'base64') : Buffer.from(payloadData, 'utf8');
    const bytes = payload.length + wsHeaderBytes(payload.length, dir === '->');
    transfers.push({ what: `ws ${dir} ${messageType(payload)}`, bytes, at: wall(e.timestamp) });
  };
  cdp.on('Network.webSocketFrameReceived', frame('<-'));
  cdp.on('Network.webSocketFrameSent', frame('->'));
  return { transfers, offsetMs: () => offset ?? 0 };
}

/**
 * Runs in the page before its scripts: resolves `window.firstPaint` with the wall time of the first
 * animation frame whose board holds the expected colours at every sample point. A string, not a
 * function: tsx would wrap inner functions in a `__name` helper the page does not have.
 */
function paintWatcher(samples: Array<[number, number, number]>): string {
  return `
  window.firstPaint = new Promise((resolve) => {
    const samples = ${JSON.stringify(samples)};
    const check = () => {
      const c = window.canvasClient;
      const ok = c && document.body.dataset.seq !== undefined &&
        samples.every(([x, y, want]) => c.colourAt(x, y) === want);
      if (!ok) return void requestAnimationFrame(check);
      resolve(performance.timeOrigin + performance.now());
    };
    requestAnimationFrame(check);
  });`;
}

/**
 * Points spread over the part of the view that is canvas whatever the bars take (a 300 x 600 CSS px
 * box), each with the colour the page shows there once painted: the canvas's, or zoomed out below
 * one device pixel per canvas pixel the pyramid level's (its block's top-left pixel).
 */
function samplePoints(colourAt: ColourAt, side: number, cx: number, cy: number, scale: number) {
  const dpp = scale * VIEWPORT_DPR;
  let maxLevel = 0;
  while (TILE_SIZE * 2 ** maxLevel < side) maxLevel++;
  const level = dpp >= 0.5 ? 0 : Math.max(1, Math.min(maxLevel, Math.floor(Math.log2(1 / dpp))));
  const block = 2 ** level;
  const points: Array<[number, number, number]> = [];
  const halfW = Math.floor(150 / scale);
  const halfH = Math.floor(300 / scale);
  for (let i = 0; i <= 16; i++) {
    for (let j = 0; j <= 32; j++) {
      const x = Math.max(0, Math.min(side - 1, cx - halfW + Math.round((i * 2 * halfW) / 16)));
      const y = Math.max(0, Math.min(side - 1, cy - halfH + Math.round((j * 2 * halfH) / 32)));
      points.push([x, y, colourAt(x - (x % block), y - (y % block))]);
    }
  }
  return points;
}

async function loadOnce(
  browser: Browser,
  ts: TestServer,
  colourAt: ColourAt,
  side: number,
  scale: number,
  identity: boolean,
): Promise<LoadResult> {
  const context = await browser.newContext({
    viewport: VIEWPORT,
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: VIEWPORT_DPR,
  });
  try {
    // Off-centre, so the view straddles tile borders as most views do.
    const cx = Math.floor(side / 2) + 77;
    const cy = Math.floor(side / 2) + 131;
    await context.addInitScript({ content: paintWatcher(samplePoints(colourAt, side, cx, cy, scale)) });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const net = recordNetwork(cdp);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    if (identity) await cdp.send('Network.setExtraHTTPHeaders', { headers: { 'Accept-Encoding': 'identity' } });
    await page.goto(`${ts.http}/#x=${cx}&y=${cy}&scale=${scale}`);
    const paintAt = (await page.evaluate('window.firstPaint', null)) as number;
    // Settle: what the page fetches right after (margin tiles, the minimap's pyramid top).
    await page.waitForLoadState('networkidle');
    const start = net.transfers.find((t) => t.what === '/')?.at ?? paintAt;
    const before = net.transfers.filter((t) => t.at <= paintAt);
    const after = net.transfers.filter((t) => t.at > paintAt);
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; backingStorageSize?: number };
    const heapBytes = heap.usedSize + (heap.backingStorageSize ?? 0);
    return { before, after, paintMs: Math.round(paintAt - start), heapBytes };
  } finally {
    await context.close();
  }
}

/**
 * A server whose canvas holds artworks (over ART_SIDE a side, in an ART_SIDE window at the centre);
 * one placement makes the tick take them in.
 */
async function seededServer(side: number): Promise<{ ts: TestServer; colourAt: ColourAt }> {
  const ts = await startTestServer({ width: side, height: side, tickMs: 100 });
  const art = Math.min(side, ART_SIDE);
  const grid = realisticGrid(art, art, 16);
  const at = Math.floor((side - art) / 2);
  const colourAt: ColourAt = (x, y) =>
    x < at || y < at || x >= at + art || y >= at + art ? 0 : (grid[(y - at) * art + (x - at)] as number);
  if (art === side)
    ts.server.canvas.paint(grid); // written in bulk: the next tick packs it all
  else {
    // Tiles are encoded from the grid when first asked for, so no tick needs to carry the window.
    for (let y = 0; y < art; y++)
      for (let x = 0; x < art; x++) {
        const c = grid[y * art + x] as number;
        if (c !== 0) ts.server.canvas.setQuiet(at + x, at + y, c, 0);
      }
  }
  const c = await TestClient.connect(ts.ws);
  c.send({ t: 'place', id: 1, x: 0, y: 0, c: colourAt(0, 0) });
  const ack = await c.nextOf('ack');
  if (side <= ART_SIDE) await c.pngAtLeast(ack.seq, 60_000);
  else await canvasSeqAtLeast(ts, ack.seq);
  await c.close();
  // The static files' compressed variants are made after start; the same bytes, in this process, are
  // compressed once, so this resolves when the server's are ready.
  const read = (name: string) => readFileSync(new URL(`../client/${name}`, import.meta.url));
  await loadClientSite(read('index.html'), CLIENT_DIST, read('mod.html')).compressed;
  return { ts, colourAt };
}

/** Polls GET /api/canvas until its seq (the last tick's) reaches `seq` (no whole-canvas stream over 4096). */
async function canvasSeqAtLeast(ts: TestServer, seq: number): Promise<void> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    const info = (await (await fetch(`${ts.http}/api/canvas`)).json()) as { seq: number };
    if (info.seq >= seq) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`GET /api/canvas did not reach seq ${seq}`);
}

const sum = (ts: readonly Transfer[]): number => ts.reduce((a, t) => a + t.bytes, 0);
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? Number.NaN;

/** Bytes by kind (page, each asset, /api/canvas, tiles, each WebSocket message type). */
function breakdown(ts: readonly Transfer[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of ts) {
    const kind = t.what.startsWith('/tiles/') ? `tiles ${t.what.split('/')[2]}` : t.what;
    out[kind] = (out[kind] ?? 0) + t.bytes;
  }
  out['tile count'] = ts.filter((t) => t.what.startsWith('/tiles/')).length;
  return out;
}

async function main(): Promise<void> {
  const rounds = Number(args.rounds);
  const side = Number(args.side);
  const scales = args.scales.split(',').map(Number);
  const browser = await launchChromium();
  const { ts, colourAt } = await seededServer(side);
  try {
    for (const scale of scales) {
      const variants = [
        { name: 'br/gzip', identity: false },
        { name: 'identity', identity: true },
      ];
      const runs = new Map<string, LoadResult[]>(variants.map((v) => [v.name, []]));
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? variants : [...variants].reverse();
        for (const v of order) {
          const r = await loadOnce(browser, ts, colourAt, side, scale, v.identity);
          runs.get(v.name)?.push(r);
          const line = {
            side,
            scale,
            round,
            variant: v.name,
            firstPaintBytes: sum(r.before),
            paintMs: r.paintMs,
            heapMB: +(r.heapBytes / 1048576).toFixed(1),
          };
          console.log(JSON.stringify(args.verbose ? { ...line, before: r.before, after: r.after } : line));
        }
      }
      for (const [name, rs] of runs) {
        const last = rs[rs.length - 1] as LoadResult;
        const firstPaintBytes = median(rs.map((r) => sum(r.before)));
        console.log(
          JSON.stringify({
            summary: true,
            side,
            scale,
            variant: name,
            firstPaintBytes,
            underBudget: firstPaintBytes < BUDGET_BYTES,
            afterPaintBytes: median(rs.map((r) => sum(r.after))),
            paintMs: median(rs.map((r) => r.paintMs)),
            heapMB: +(median(rs.map((r) => r.heapBytes)) / 1048576).toFixed(1),
            breakdown: breakdown(last.before),
            afterBreakdown: breakdown(last.after),
          }),
        );
      }
    }
  } finally {
    await ts.dispose();
    await browser.close();
  }
}

await main();
