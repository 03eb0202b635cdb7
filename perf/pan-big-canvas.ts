/// <reference lib="dom" />
/**
 * Frame time of panning a 4000 x 4000 canvas on a phone (390 x 844, touch, device scale 3) in Debian's
 * Chromium under a 4x CPU throttle (CDP Emulation.setCPUThrottlingRate). A touch drag moves the view
 * 4 px per event for 240 events, one per animation frame; the page records requestAnimationFrame
 * intervals meanwhile. Run: `npm run build && node --import tsx perf/pan-big-canvas.ts`.
 * Not a test (not in the test glob): the figures go to perf/RESULTS.md.
 */
import { CHROMIUM } from '../testkit/chromium.ts';
import { chromium } from 'playwright-core';
import { startTestServer } from '../testkit/fixture.ts';

const SIDE = 4000;
const MOVES = 240;

interface Stats {
  frames: number;
  meanMs: number;
  p95Ms: number;
  maxMs: number;
  fps: number;
}

function stats(intervals: number[]): Stats {
  const sorted = [...intervals].sort((a, b) => a - b);
  const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const r = (v: number) => Math.round(v * 10) / 10;
  return { frames: intervals.length, meanMs: r(mean), p95Ms: r(at(0.95)), maxMs: r(at(1)), fps: r(1000 / mean) };
}

async function main(): Promise<void> {
  const ts = await startTestServer({ width: SIDE, height: SIDE, tickMs: 100 });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    for (const scale of [0.2, 0.5, 8]) {
      const context = await browser.newContext({
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
        deviceScaleFactor: 3,
      });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await page.goto(`${ts.http}/#x=2000&y=2000&scale=${scale}`);
      await page.waitForFunction(
        () =>
          (window as unknown as { canvasClient?: { status(): string } }).canvasClient?.status() === 'connected' &&
          document.body.dataset['seq'],
        null,
        {
          timeout: 60_000,
        },
      );
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
      const box = await page.locator('#view').boundingBox();
      if (!box) throw new Error('no canvas');
      const x = box.x + box.width / 2;
      const y = box.y + box.height / 2;
      await page.evaluate(
        'window.frameTimes = []; (function tick(t) { window.frameTimes.push(t); if (window.frameTimes.length < 100000) requestAnimationFrame(tick); })(performance.now())',
      );
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y, id: 1 }] });
      for (let i = 1; i <= MOVES; i++) {
        const dx = 4 * (i % 120 < 60 ? i % 60 : 60 - (i % 60)); // back and forth, staying on the board
        await cdp.send('Input.dispatchTouchEvent', {
          type: 'touchMove',
          touchPoints: [{ x: x - dx, y: y - dx / 2, id: 1 }],
        });
      }
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      const times = (await page.evaluate('window.frameTimes')) as number[];
      const intervals = times.slice(2).map((t, i) => t - (times[i + 1] as number));
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
      console.log(JSON.stringify({ side: SIDE, scale, throttle: 4, ...stats(intervals) }));
      await context.close();
    }
  } finally {
    await browser.close();
    await ts.dispose();
  }
}

await main();
