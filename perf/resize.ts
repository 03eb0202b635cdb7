/**
 * `npx tsx perf/resize.ts`: what a resize costs the writer's event loop, in this process, beside an
 * ordinary tick of the same canvas in the same run (the machine is shared: read the ratios).
 *
 * A FROM x FROM canvas of noise (a full r/place-like canvas, on a SQLite file in a temp dir) is grown
 * to TO x TO with the new columns and rows split on all four sides. Timed, ROUNDS times each,
 * alternating: the committer's resize (store the event, copy grid and per-cell seqs: synchronous),
 * the tick after it (a whole frame: every scanline packed on the loop, deflate in the thread pool:
 * the loop part and the whole), and an ordinary tick of 1,000 changed pixels on the grown canvas.
 *
 * Past 4096 a side the grown canvas has no whole-canvas PNG: the tick after the resize drops the
 * encoder and is a delta-less frame (no scanline packed), and the ordinary tick is its delta alone.
 *
 * Settings (environment): RESIZE_FROM (2000), RESIZE_TO (4096), RESIZE_ROUNDS (5); or RESIZE_PAIRS,
 * e.g. `2000:4096,4096:16384,4096:16384:6143`, several resizes measured side by side in one run, their
 * rounds alternating (the machine is shared: compare within a run); a third number is the columns
 * (and rows) added on the left (and top), else half of those added (6144 from 4096 to 16,384: a
 * multiple of 64, so chunks move whole; 6143 is the same growth off the chunk grid).
 */
import { rmSync } from 'node:fs';
import { PngEncoder } from '../server/canvas/png-encoder.ts';
import { PALETTE_2017 } from '../server/config/palette.ts';
import { PlacementCommitter } from '../server/placement/committer.ts';
import { Ticker } from '../server/tick/ticker.ts';
import { fillNoise, openTestStore } from '../testkit/fixture.ts';
import { n1 } from '../testkit/format.ts';
import { Rng } from '../testkit/rng.ts';
import { envNumber } from './lib/config.ts';
import { median } from './lib/stats.ts';

const ROUNDS = envNumber('RESIZE_ROUNDS', 5);
interface Pair {
  from: number;
  to: number;
  left: number;
}
const pairOf = (from: number, to: number, left = Math.floor((to - from) / 2)): Pair => ({ from, to, left });
const PAIRS: Pair[] = process.env['RESIZE_PAIRS']
  ? process.env['RESIZE_PAIRS'].split(',').map((pair) => {
      const [from, to, left] = pair.split(':').map(Number);
      if (!Number.isInteger(from) || !Number.isInteger(to) || (left !== undefined && !Number.isInteger(left)))
        throw new Error(`RESIZE_PAIRS: ${pair} is not FROM:TO or FROM:TO:LEFT`);
      return pairOf(from as number, to as number, left);
    })
  : [pairOf(envNumber('RESIZE_FROM', 2000), envNumber('RESIZE_TO', 4096))];

interface Round {
  resizeMs: number;
  tickLoopMs: number;
  tickMs: number;
  ordinaryLoopMs: number;
  ordinaryMs: number;
}

/** The synchronous part of `ticker.run()` (up to its first await) and the whole of it. */
async function timedTick(ticker: Ticker): Promise<{ loopMs: number; ms: number }> {
  const started = performance.now();
  const running = ticker.run();
  const loopMs = performance.now() - started;
  await running;
  return { loopMs, ms: performance.now() - started };
}

async function round(seed: number, { from, to, left }: Pair): Promise<Round> {
  const s = openTestStore(from, from);
  try {
    fillNoise(s.canvas, seed);
    const committer = new PlacementCommitter(
      s.store,
      s.canvas,
      { commitDelayMs: 60_000, commitBatch: 100_000, snapshotEvery: 1e12 },
      { commitFailed: () => {}, committed: () => {}, callbackFailed: () => {} },
    );
    const ticker = new Ticker({
      canvas: s.canvas,
      encoder: new PngEncoder(from, from, PALETTE_2017),
      newEncoder: (w, h) => new PngEncoder(w, h, PALETTE_2017),
      canvasId: 'bench',
      maxDeltaCells: () => 100_000,
      deliver: async () => {},
      onError: (err) => {
        throw err;
      },
    });
    await ticker.run();
    const started = performance.now();
    const out = await committer.resize({ width: to, height: to, left, top: left }, 'mod:resize');
    const resizeMs = performance.now() - started;
    if (!out.ok) throw new Error(out.message);
    ticker.resized({ seq: out.seq, width: to, height: to, left, top: left });
    const grown = await timedTick(ticker);
    // An ordinary tick on the grown canvas: 1,000 placements through the committer.
    const rng = new Rng(seed + 1);
    committer.commitNow(
      Array.from({ length: 1000 }, () => ({
        x: rng.int(to),
        y: rng.int(to),
        color: rng.int(16),
        who: 'b',
        addr: '',
        nextAt: 0,
      })),
    );
    const ordinary = await timedTick(ticker);
    committer.close();
    return {
      resizeMs,
      tickLoopMs: grown.loopMs,
      tickMs: grown.ms,
      ordinaryLoopMs: ordinary.loopMs,
      ordinaryMs: ordinary.ms,
    };
  } finally {
    s.close();
    rmSync(s.dir, { recursive: true, force: true });
  }
}

const rounds = PAIRS.map((): Round[] => []);
for (let i = 0; i < ROUNDS; i++) for (const [p, pair] of PAIRS.entries()) rounds[p]?.push(await round(i + 1, pair));
for (const [p, { from, to, left }] of PAIRS.entries()) {
  const med = (k: keyof Round) => median((rounds[p] ?? []).map((r) => r[k]));
  const frame = to > 4096 ? 'no PNG past 4096: the delta-less frame' : `whole frame of ${to} x ${to}`;
  console.log(`resize ${from} x ${from} -> ${to} x ${to}, left = top = ${left}, ${ROUNDS} rounds, medians (ms):`);
  console.log(`| what | loop ms | total ms |`);
  console.log(`| --- | ---: | ---: |`);
  console.log(`| committer.resize (store + re-lay chunks) | ${n1(med('resizeMs'))} | ${n1(med('resizeMs'))} |`);
  console.log(`| the tick after it (${frame}) | ${n1(med('tickLoopMs'))} | ${n1(med('tickMs'))} |`);
  console.log(`| an ordinary tick (1,000 pixels) on it | ${n1(med('ordinaryLoopMs'))} | ${n1(med('ordinaryMs'))} |`);
  console.log(`tick after a resize / ordinary tick, loop time: ${n1(med('tickLoopMs') / med('ordinaryLoopMs'))}x`);
}
