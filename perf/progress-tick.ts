/**
 * `npm run bench:progress`: the writer's event-loop time per tick for projects, in this process.
 *
 * 1,000 projects of 25 x 40 tile a 1000 x 1000 canvas; each tick counts ROWS random rows through
 * `Projects.stored` (every project touched; `previous` is the project's colour, so a row of another
 * colour is a grief: ~15 in 16), then times what the writer does with the projects on its event
 * loop: `takeTick` (since 619440d's successor: pack the records; before: encode every touched
 * project's `progress`), its part of the bus message (`encodeBus` of the tick with the projects only)
 * and its own fan-out's look-ups (and now encodes) for WATCHED distinct projects watched on this
 * process; and what an edge adds: the block checked as it arrives (`ProgressBlock.read`). The
 * figures before are from the same script at 619440d (`git checkout 619440d`).
 *
 * Settings (environment): PROGRESS_TICKS (300), PROGRESS_ROWS (2000).
 */
import { encodeBus, type FrameMsg } from '../server/bus/bus-messages.ts';
import { ProgressBlock } from '../server/projects/progress-block.ts';
import { Projects } from '../server/projects/projects.ts';
import { WatchedProgress } from '../server/streams/watched-progress.ts';
import { n0, n2 } from '../testkit/format.ts';
import { Rng } from '../testkit/rng.ts';
import { median } from './lib/stats.ts';
import { envNumber } from './lib/config.ts';

const TICKS = envNumber('PROGRESS_TICKS', 300);
const ROWS = envNumber('PROGRESS_ROWS', 2000);
const SIZE = 1000;
const TILE_W = 25;
const TILE_H = 40;
const WATCHED = [0, 10, 100, 1000];

function tiled(rng: Rng): { projects: Projects; target: Uint8Array } {
  const projects = new Projects(SIZE, SIZE);
  const grid = new Uint8Array(SIZE * SIZE);
  const target = new Uint8Array(SIZE * SIZE);
  let id = 1;
  for (let y = 0; y < SIZE; y += TILE_H) {
    for (let x = 0; x < SIZE; x += TILE_W) {
      const t = new Uint8Array(TILE_W * TILE_H);
      for (let i = 0; i < t.length; i++) {
        t[i] = rng.int(16);
        target[(y + Math.floor(i / TILE_W)) * SIZE + x + (i % TILE_W)] = t[i] as number;
      }
      projects.add(
        {
          id: id++,
          name: `tile ${x},${y}`,
          x,
          y,
          width: TILE_W,
          height: TILE_H,
          owner: '00000000000000aa',
          createdAt: 0,
          createdSeq: 0,
          hidden: false,
          target: t,
        },
        { get: (gx, gy) => grid[gy * SIZE + gx] as number },
      );
    }
  }
  return { projects, target };
}

interface Sample {
  take: number;
  bus: number;
  fanOut: number;
  /** On an edge: the block checked (`ProgressBlock.read`) from the bus bytes. */
  edgeRead: number;
}

/** The projects' part of one tick on the writer's loop, in ms. */
function tick(projects: Projects, seq: number, watched: readonly number[]): Sample {
  const t0 = performance.now();
  const block = projects.takeTick(seq);
  const t1 = performance.now();
  const msg: FrameMsg = {
    k: 'tick',
    epoch: 1,
    canvasId: 'c',
    seq,
    etag: '',
    width: 1,
    height: 1,
    resizeCount: 0,
    png: new Uint8Array(0),
    at: Date.now(),
  };
  if (block) msg.progress = block.bytes;
  encodeBus(msg);
  const t2 = performance.now();
  const progress = block ? new WatchedProgress([block]) : undefined;
  let n = 0;
  // Two sockets per project: the second shares the first one's bytes.
  if (progress) for (const id of watched) n += progress.messages(id).length + progress.messages(id).length;
  if (n < 0) throw new Error('unreachable');
  const t3 = performance.now();
  if (block) ProgressBlock.read(block.bytes);
  const t4 = performance.now();
  return { take: t1 - t0, bus: t2 - t1, fanOut: t3 - t2, edgeRead: t4 - t3 };
}

function main(): void {
  const rng = new Rng(3);
  const { projects, target } = tiled(rng);
  const ids = Array.from({ length: 5000 }, (_, i) => i.toString(16).padStart(16, '0'));
  let seq = 0;
  const lines: string[] = [];
  for (const w of WATCHED) {
    const watched = Array.from({ length: w }, (_, i) => i + 1);
    const samples: Sample[] = [];
    for (let t = 0; t < TICKS; t++) {
      const rows = Array.from({ length: ROWS }, () => ({
        seq: ++seq,
        x: rng.int(SIZE),
        y: rng.int(SIZE),
        color: rng.int(16),
        who: ids[rng.int(ids.length)] as string,
        at: Date.now(),
      }));
      projects.stored(
        rows,
        Uint8Array.from(rows, (r) => target[r.y * SIZE + r.x] as number),
      );
      samples.push(tick(projects, seq, watched));
    }
    const m = (f: (s: Sample) => number) => median(samples.map(f));
    lines.push(
      `| ${n0(w)} | ${n2(m((s) => s.take))} | ${n2(m((s) => s.bus))} | ${n2(m((s) => s.fanOut))} | ${n2(m((s) => s.take + s.bus + s.fanOut))} | ${n2(m((s) => s.edgeRead))} |`,
    );
  }
  process.stdout.write(
    `1,000 projects touched a tick, ${n0(ROWS)} rows a tick (~${n0((ROWS * 15) / 16)} griefs), ${TICKS} ticks per row, median ms per tick\n\n` +
      '| projects watched on the writer | takeTick | bus message (projects part) | fan-out look-ups + encodes | writer total | edge: block checked |\n|---|---|---|---|---|---|\n' +
      `${lines.join('\n')}\n`,
  );
}

main();
