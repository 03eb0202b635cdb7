/**
 * Loading a big canvas on a phone: the longest main-thread task from navigation until the canvas is
 * live (plus a second of settling), and the time until it is live, in Debian's Chromium as a 390 x 844
 * touch phone at device scale 3. Cases: 4000 x 4000 under a 4x CPU throttle (CDP
 * Emulation.setCPUThrottlingRate, set before navigation) and 1000 x 1000 unthrottled as a sanity check.
 * The canvas holds perf/lib/canvas-content.ts's synthetic artworks, so the PNG is realistic, not blank.
 *
 * "Live" is the first animation frame, once the page has set `data-seq` (a snapshot applied), whose
 * drawing shows the board: the screen's centre pixel (on the board) differs from its corner pixel
 * (the stage around the fitted board). The renderer may copy a snapshot into its canvas over several
 * tasks, so `data-seq` alone would be early. Long tasks come from a PerformanceObserver('longtask') installed before the page's
 * scripts (tasks over 50 ms; worker tasks are not main-thread tasks and do not count).
 *
 * With `--baseline DIR` (a client/dist built from an older commit) every round loads the page twice,
 * once with /assets/ served from DIR and once from this tree's build, alternating which goes first,
 * so before and after share the machine's noise. Not a test (not in the test glob).
 *
 *   npm run build && node --import tsx perf/load-big-canvas.ts [--rounds 3] [--baseline DIR]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CHROMIUM } from '../testkit/chromium.ts';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, TestClient, type TestServer } from '../testkit/fixture.ts';
import { realisticGrid } from './lib/canvas-content.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    baseline: { type: 'string' },
    sides: { type: 'string', default: '4000:4,1000:1' },
  },
});

interface LoadFigures {
  /** Longest main-thread task from navigation to live + 1 s, ms. */
  longestTaskMs: number;
  /**
   * Longest main-thread task from the app opening its WebSocket to live + 1 s: loading the canvas,
   * without the page's startup (HTML, CSS, evaluating the bundle), which does not depend on its size.
   */
  longestCanvasTaskMs: number;
  /** Main-thread tasks over 50 ms in that window. */
  longTasks: number;
  /** Navigation start to the canvas drawn, ms. */
  liveMs: number;
}

/**
 * Runs in the page before its scripts: records long tasks and when the board is first drawn. A string,
 * not a function: tsx would wrap the inner functions in a `__name` helper the page does not have.
 */
const RECORD_LOAD = `
  const tasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) tasks.push({ start: e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  // When the app opens its WebSocket (the end of its startup): what follows is loading the canvas.
  let socketAt = null;
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(...args) {
      super(...args);
      socketAt ??= performance.now();
    }
  };
  window.loadFigures = new Promise((resolve) => {
    const pixel = (ctx, x, y) => ctx.getImageData(x, y, 1, 1).data.join(',');
    const check = () => {
      const view = document.getElementById('view');
      const ctx = view instanceof HTMLCanvasElement ? view.getContext('2d') : null;
      const drawn =
        ctx !== null &&
        document.body.dataset.seq !== undefined &&
        pixel(ctx, Math.floor(ctx.canvas.width / 2), Math.floor(ctx.canvas.height / 2)) !== pixel(ctx, 0, 0);
      if (!drawn) return void requestAnimationFrame(check);
      const liveMs = performance.now();
      setTimeout(() => resolve({ tasks, liveMs, socketAt }), 1000);
    };
    requestAnimationFrame(check);
  });
`;

async function loadOnce(
  browser: Browser,
  ts: TestServer,
  throttle: number,
  assets: string | null,
): Promise<LoadFigures> {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 3,
  });
  try {
    if (assets !== null) {
      await context.route(`${ts.http}/assets/**`, (route) => {
        const name = new URL(route.request().url()).pathname.slice('/assets/'.length);
        const type = name.endsWith('.css') ? 'text/css' : 'text/javascript';
        return route.fulfill({ body: readFileSync(join(assets, name)), contentType: type });
      });
    }
    await context.addInitScript({ content: RECORD_LOAD });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
    await page.goto(ts.http);
    const { tasks, liveMs, socketAt } = (await page.evaluate('window.loadFigures', null)) as {
      tasks: Array<{ start: number; ms: number }>;
      liveMs: number;
      socketAt: number | null;
    };
    const r = (v: number) => Math.round(v);
    // A task running when the socket opened is the startup's (the app opens it from its own script).
    const canvas = tasks.filter((t) => socketAt !== null && t.start + t.ms > socketAt + 1 && t.start >= socketAt - 1);
    return {
      longestTaskMs: r(Math.max(0, ...tasks.map((t) => t.ms))),
      longestCanvasTaskMs: r(Math.max(0, ...canvas.map((t) => t.ms))),
      longTasks: tasks.length,
      liveMs: r(liveMs),
    };
  } finally {
    await context.close();
  }
}

/** A server whose canvas holds artworks; one placement makes the tick encode it into the snapshot. */
async function seededServer(side: number): Promise<{ ts: TestServer; pngBytes: number }> {
  const ts = await startTestServer({ width: side, height: side, tickMs: 100 });
  ts.server.canvas.paint(realisticGrid(side, side, 16)); // in bulk: the next tick packs it all
  const c = await TestClient.connect(ts.ws);
  c.send({ t: 'place', id: 1, x: 0, y: 0, c: 5 });
  const ack = await c.nextOf('ack');
  await c.pngAtLeast(ack.seq, 60_000);
  await c.close();
  const pngBytes = (await (await fetch(`${ts.http}/image`)).arrayBuffer()).byteLength;
  return { ts, pngBytes };
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const rounds = Number(args.rounds);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    for (const spec of args.sides.split(',')) {
      const [side, throttle] = spec.split(':').map(Number) as [number, number];
      const { ts, pngBytes } = await seededServer(side);
      try {
        const variants: Array<{ name: string; assets: string | null }> = [{ name: 'this tree', assets: null }];
        if (args.baseline) variants.unshift({ name: 'baseline', assets: args.baseline });
        const runs = new Map<string, LoadFigures[]>(variants.map((v) => [v.name, []]));
        for (let round = 0; round < rounds; round++) {
          const order = round % 2 === 0 ? variants : [...variants].reverse();
          for (const v of order) {
            const f = await loadOnce(browser, ts, throttle, v.assets);
            runs.get(v.name)?.push(f);
            console.log(JSON.stringify({ side, throttle, round, variant: v.name, ...f }));
          }
        }
        for (const [name, fs] of runs) {
          console.log(
            JSON.stringify({
              summary: true,
              side,
              throttle,
              pngBytes,
              variant: name,
              medianLongestTaskMs: median(fs.map((f) => f.longestTaskMs)),
              medianLongestCanvasTaskMs: median(fs.map((f) => f.longestCanvasTaskMs)),
              medianLongTasks: median(fs.map((f) => f.longTasks)),
              medianLiveMs: median(fs.map((f) => f.liveMs)),
            }),
          );
        }
      } finally {
        await ts.dispose();
      }
    }
  } finally {
    await browser.close();
  }
}

await main();
