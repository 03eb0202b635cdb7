/**
 * The chunked canvas alone, in process: `node --expose-gc --import tsx perf/canvas-memory.ts SIDE N`
 * applies N placements at uniformly random pixels of a SIDE x SIDE canvas, then prints the chunks and
 * bytes held, the process's heap and RSS, the time of a forced full garbage collection (median of 9:
 * what every object the canvas holds costs each major GC), and of `takeUnsaved` with every chunk
 * changed (a snapshot's work on the event loop before SQLite writes anything).
 */
import { Canvas } from '../server/canvas/canvas.ts';
import { Rng } from '../testkit/rng.ts';
import { median } from './lib/stats.ts';

const side = Number(process.argv[2] ?? 16_384);
const count = Number(process.argv[3] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const canvas = new Canvas(side, side, 16, 0, false);
const rng = new Rng(5);
const t0 = performance.now();
for (let seq = 1; seq <= count; seq++) canvas.apply(rng.u32() % side, rng.u32() % side, 1 + (seq % 15), seq);
const applyMs = performance.now() - t0;
gc();
const gcMs: number[] = [];
for (let i = 0; i < 9; i++) {
  const started = performance.now();
  gc();
  gcMs.push(performance.now() - started);
}
const takeMs: number[] = [];
for (let i = 0; i < 3; i++) {
  canvas.unsaveAll();
  const started = performance.now();
  canvas.takeUnsaved();
  takeMs.push(performance.now() - started);
}
const mem = process.memoryUsage();
const f = canvas.footprint();
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
console.log(
  `${side} x ${side}, ${count.toLocaleString('en-US')} placements (${(applyMs / 1000).toFixed(1)} s): ` +
    `${f.chunks.toLocaleString('en-US')} chunks (${f.dense} dense), ${f.placed.toLocaleString('en-US')} pixels, ` +
    `sparse tables ${mib(f.sparseBytes)}; heap ${mib(mem.heapUsed)}, RSS ${mib(mem.rss)}; ` +
    `full GC ${median(gcMs).toFixed(1)} ms; takeUnsaved of every chunk ${median(takeMs).toFixed(0)} ms`,
);
