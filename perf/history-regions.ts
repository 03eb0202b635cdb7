/**
 * History by region (`npm run bench:history-regions`): what a past canvas asked for by region costs
 * a history worker (history/region-replay.ts: the last keyframe, then a scan of the rows after it for
 * those inside the region, then the PNG), side by side in one run:
 * - a 16,384 x 16,384 canvas (no keyframes: it started over 4096 a side) with N placements: regions of
 *   256, 1024 and 4096 a side at the last seq (every row scanned) and at the middle one;
 * - the same placements on a 4096 x 4096 canvas with its keyframes: the whole past canvas (keyframe +
 *   replay + PNG, as `image?seq=` without a region) against a 1024 x 1024 region of it (keyframe +
 *   scan of at most one keyframe interval).
 *
 *   npx tsx perf/history-regions.ts [--placements 10000000] [--rounds 3]
 *
 * The databases go to a temp dir and are deleted at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PngEncoder } from '../server/canvas/png-encoder.ts';
import { PALETTE_2017 } from '../server/config/palette.ts';
import type { Region } from '../server/history/jobs.ts';
import { Keyframes } from '../server/history/keyframes.ts';
import { regionAt } from '../server/history/region-replay.ts';
import { HistoryReader } from '../server/history/replay.ts';
import { openHistoryDb } from './lib/history-db.ts';
import { percentile } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: { placements: { type: 'string', default: '10000000' }, rounds: { type: 'string', default: '3' } },
});
const COUNT = Number(args.placements);
const ROUNDS = Number(args.rounds);
const tmp = mkdtempSync(join(tmpdir(), 'history-regions-'));
const ms = (v: number) => `${v.toFixed(0)} ms`;

/** Median and max of `ROUNDS` runs of `fn`, in ms. */
function time(fn: () => unknown): string {
  const runs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    fn();
    runs.push(performance.now() - t);
  }
  return `median ${ms(percentile(runs, 50))}, max ${ms(Math.max(...runs))}`;
}

/** A region's past canvas as the worker answers it: cells, then the PNG. */
function regionPng(reader: HistoryReader, seq: number, r: Region): number {
  const cells = regionAt(reader, seq, r);
  return new PngEncoder(r.w, r.h, PALETTE_2017, 6).encodeSync(cells).length;
}

const centred = (side: number, canvas: number): Region => {
  const at = Math.floor((canvas - side) / 2);
  return { x: at, y: at, w: side, h: side };
};

try {
  console.log(`history by region: ${COUNT.toLocaleString('en')} placements, ${ROUNDS} rounds each`);
  const huge = openHistoryDb(join(tmp, 'huge.db'), 16_384, 16_384, COUNT);
  console.log(`16,384 x 16,384: placements written in ${huge.buildSeconds.toFixed(1)} s, no keyframes`);
  const hugeReader = new HistoryReader(huge.store.db, 16_384, 16_384);
  for (const seq of [COUNT, Math.floor(COUNT / 2)]) {
    for (const side of [256, 1024, 4096]) {
      const r = centred(side, 16_384);
      console.log(
        `  region ${side} x ${side} at seq ${seq.toLocaleString('en')}: ${time(() => regionPng(hugeReader, seq, r))}`,
      );
    }
  }
  huge.store.close();

  const small = openHistoryDb(join(tmp, 'small.db'), 4096, 4096, COUNT);
  const keyframes = new Keyframes(small.store.db, 4096, 4096);
  const t = performance.now();
  const written = await keyframes.catchUp();
  console.log(
    `4096 x 4096: placements written in ${small.buildSeconds.toFixed(1)} s, ${written} keyframes in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const reader = new HistoryReader(small.store.db, 4096, 4096);
  // Just before a keyframe: the longest replay / scan after one.
  const seq = Math.floor(COUNT / keyframes.every) * keyframes.every - 1;
  const encoder = new PngEncoder(4096, 4096, PALETTE_2017, 6);
  console.log(
    `  whole past canvas at seq ${seq.toLocaleString('en')}: ${time(() => encoder.encodeSync(reader.canvasAt(seq)))}`,
  );
  const r = centred(1024, 4096);
  console.log(`  region 1024 x 1024 at seq ${seq.toLocaleString('en')}: ${time(() => regionPng(reader, seq, r))}`);
  small.store.close();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
