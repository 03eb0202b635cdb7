/**
 * Tick encode scenario (in-process, perf/README.md, scenario 1). The "sync call" is measured twice:
 * with libuv's pool on the loop's CPU (a one-CPU server: the deflate thread the call wakes preempts
 * the loop) and moved to another, idle CPU (the loop's own work).
 */
import { spawnSync } from 'node:child_process';
import type { BenchConfig } from '../config.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { deflateSync } from 'node:zlib';
import UPNG from 'upng-js';
import { buildConfig } from '../../../server/config/config.ts';
import { PALETTE_2017 } from '../../../server/config/palette.ts';
import { PngEncoder } from '../../../server/canvas/png-encoder.ts';
import { CONTENT_DESCRIPTION, realisticGrid } from '../canvas-content.ts';
import { idatData } from '../png-idat.ts';
import { cpuMsSince, median } from '../stats.ts';
import { pinPid } from '../cpu-limit.ts';

export interface EncodeResult {
  width: number;
  height: number;
  colours: number;
  content: string;
  ours: {
    runs: number;
    packMs: number;
    /** Wall time of `encoder.encode(grid)` until it returns, pool on the same CPU / on `otherCpu`. */
    syncMs: number;
    syncOtherCpuMs: number;
    otherCpu: number | undefined;
    loopCpuMs: number;
    loopBusyMs: number;
    wallMs: number;
    cpuMs: number;
    bytes: number;
    level: number;
    roundTrip: boolean;
  };
  levels: LevelResult[];
  upng: {
    runs: number;
    cnum: number;
    loopCpuMs: number;
    wallMs: number;
    cpuMs: number;
    bytes: number;
    ctype: number;
    depth: number;
    roundTrip: boolean;
  };
}

/** The same scanlines at another zlib level (deflateSync: loopCpuMs and syncMs NaN, bytes as a whole PNG). */
interface LevelResult {
  level: number;
  how: 'PngEncoder' | 'deflateSync';
  runs: number;
  bytes: number;
  cpuMs: number;
  loopCpuMs: number;
  syncMs: number;
}

const REFERENCE_LEVEL = 9;

/**
 * CPU time of the main thread in ms, from schedstat (process.threadCpuUsage needs Node 23.9; the
 * utime field of /proc/.../stat ticks in 10 ms steps). The kernel updates a running thread's figure
 * only at scheduler ticks and switches, so one reading may lag by a tick: callers read it around N
 * runs and divide, which shrinks that error N times (hence a mean, not a median).
 */
const mainThreadCpuMs = () =>
  Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;

/** True when `png` decodes (with upng-js) to exactly the colours of `rgba`. */
function decodesTo(png: Uint8Array, rgba: Uint8Array): { ok: boolean; ctype: number; depth: number } {
  const img = UPNG.decode(new Uint8Array(png).buffer);
  const out = new Uint8Array(UPNG.toRGBA8(img)[0] as ArrayBuffer);
  return { ok: Buffer.from(out).equals(Buffer.from(rgba)), ctype: img.ctype, depth: img.depth };
}

/** N timed runs of a synchronous `fn`: CPU (all threads, event-loop thread) and wall time, medians. */
function timeSync(fn: () => unknown, runs: number): { cpuMs: number; loopCpuMs: number; wallMs: number } {
  const wall: number[] = [];
  const cpu: number[] = [];
  const main0 = mainThreadCpuMs();
  for (let i = 0; i < runs; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    cpu.push(cpuMsSince(cpu0));
  }
  return { cpuMs: median(cpu), loopCpuMs: (mainThreadCpuMs() - main0) / runs, wallMs: median(wall) };
}

/** N timed `await encoder.encode(grid)`: CPU (all threads, event-loop thread), sync call, busy and wall. */
async function timeEncodes(encoder: PngEncoder, grid: Uint8Array, runs: number) {
  let png = await encoder.encode(grid); // warm-up
  const sync: number[] = [];
  const busy: number[] = [];
  const wall: number[] = [];
  const cpu: number[] = [];
  const main0 = mainThreadCpuMs();
  for (let i = 0; i < runs; i++) {
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    const pending = encoder.encode(grid);
    sync.push(performance.now() - t0);
    png = await pending;
    wall.push(performance.now() - t0);
    busy.push(performance.eventLoopUtilization(elu0).active);
    cpu.push(cpuMsSince(cpu0));
  }
  return {
    png,
    figures: { cpuMs: median(cpu), loopCpuMs: (mainThreadCpuMs() - main0) / runs, syncMs: median(sync) },
    loopBusyMs: median(busy),
    wallMs: median(wall),
  };
}

/** Moves every thread of this process but the main one (libuv's pool among them) to `cpu`; false if taskset failed. */
function moveHelperThreads(cpu: number): boolean {
  const others = readdirSync('/proc/self/task').filter((tid) => tid !== String(process.pid));
  return others.every((tid) => spawnSync('taskset', ['-p', '-c', String(cpu), tid], { stdio: 'ignore' }).status === 0);
}

/** Our encoder's runs on the harness's CPU; the "other CPU" for the pool is the (idle) server CPU. */
export async function runEncodeBench(c: BenchConfig, progress: (msg: string) => void): Promise<EncodeResult> {
  const opts = { runs: c.encodeRuns, upngRuns: c.upngRuns, upngCnum: c.upngCnum, otherCpu: c.serverCpu };
  const width = 1000;
  const height = 1000;
  const level = buildConfig({}).pngLevel; // the server's default --png-level
  const palette = PALETTE_2017;
  const grid = realisticGrid(width, height, palette.length);
  const rgba = new Uint8Array(grid.length * 4);
  const lut = palette.map((rgb) => [rgb >> 16, (rgb >> 8) & 255, rgb & 255, 255]);
  for (const [p, i] of grid.entries()) rgba.set(lut[i] as number[], p * 4);
  const encoder = new PngEncoder(width, height, palette, level);

  progress(`encode: ours x ${opts.runs} (+3 warm-up)`);
  let png = await encoder.encode(grid);
  for (let i = 0; i < 2; i++) png = await encoder.encode(grid);
  const packMs = timeSync(() => encoder.packScanlines(grid), opts.runs).wallMs;
  const timed = await timeEncodes(encoder, grid, opts.runs);
  png = timed.png;
  let syncOtherCpuMs = NaN;
  const home = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  if (String(opts.otherCpu) !== home) {
    progress(`encode: ours x ${opts.runs} with the thread pool moved to CPU ${opts.otherCpu}`);
    try {
      if (moveHelperThreads(opts.otherCpu))
        syncOtherCpuMs = (await timeEncodes(encoder, grid, opts.runs)).figures.syncMs;
    } finally {
      pinPid(home);
    }
  }
  const oursCheck = decodesTo(png, rgba);

  // The same scanlines at level 1 (the previous default, PngEncoder like the server) and through
  // node:zlib deflateSync at level 9, the size reference of the "GET /image bytes" budget.
  const levels: LevelResult[] = [];
  for (const other of [1, 6].filter((l) => l !== level)) {
    progress(`encode: PngEncoder at level ${other} x ${opts.runs}`);
    const t = await timeEncodes(new PngEncoder(width, height, palette, other), grid, opts.runs);
    levels.push({ level: other, how: 'PngEncoder', runs: opts.runs, ...t.figures, bytes: t.png.length });
  }
  const refRuns = Math.max(3, Math.ceil(opts.runs / 4));
  progress(`encode: deflateSync level ${REFERENCE_LEVEL} of the packed scanlines x ${refRuns}`);
  const raw = encoder.packScanlines(grid);
  const idat9 = deflateSync(raw, { level: REFERENCE_LEVEL });
  const ref = timeSync(() => deflateSync(raw, { level: REFERENCE_LEVEL }), refRuns);
  const idatOurs = idatData(png).length;
  levels.push({
    level: REFERENCE_LEVEL,
    how: 'deflateSync',
    runs: refRuns,
    bytes: png.length - idatOurs + idat9.length,
    cpuMs: ref.cpuMs,
    loopCpuMs: NaN,
    syncMs: NaN,
  });

  progress(`encode: UPNG.encode(cnum=${opts.upngCnum}) x ${opts.upngRuns} (+1 warm-up)`);
  const upngEncode = () => new Uint8Array(UPNG.encode([rgba.buffer as ArrayBuffer], width, height, opts.upngCnum));
  const upngPng = upngEncode();
  const u = timeSync(upngEncode, opts.upngRuns);
  const upngCheck = decodesTo(upngPng, rgba);

  return {
    width,
    height,
    colours: palette.length,
    content: `${CONTENT_DESCRIPTION}; whole canvas covered about 1.25 times, 5% noise`,
    ours: {
      runs: opts.runs,
      packMs,
      ...timed.figures,
      syncOtherCpuMs,
      otherCpu: Number.isFinite(syncOtherCpuMs) ? opts.otherCpu : undefined,
      loopBusyMs: timed.loopBusyMs,
      wallMs: timed.wallMs,
      bytes: png.length,
      level,
      roundTrip: oursCheck.ok,
    },
    levels,
    upng: {
      runs: opts.upngRuns,
      cnum: opts.upngCnum,
      ...u,
      bytes: upngPng.length,
      ctype: upngCheck.ctype,
      depth: upngCheck.depth,
      roundTrip: upngCheck.ok,
    },
  };
}
