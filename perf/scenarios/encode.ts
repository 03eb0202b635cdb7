/**
 * Tick encode scenario (in-process, no server): our PngEncoder against UPNG.encode on the same
 * 1000 x 1000, 16-colour canvas, median of N runs each.
 * - ours, event loop: `packScanlines` (the synchronous part of `encode`); the CPU time of the main
 *   (event-loop) thread over a whole `encode` (packing, handing deflate to the thread pool, CRC and
 *   concatenation afterwards), from /proc/self/task/<pid>/schedstat (that thread only; mean of N);
 *   and the loop's busy wall time (performance.eventLoopUtilization), which on one CPU also counts
 *   the moments the deflate thread preempts the loop;
 * - ours, total: wall time of `await encode()` and process CPU time (process.cpuUsage counts the
 *   thread-pool deflate too);
 * - UPNG.encode: synchronous, so wall time is event-loop time; given RGBA built from the palette
 *   (built once, outside the timing).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import UPNG from 'upng-js';
import { buildConfig } from '../../server/config/config.ts';
import { PALETTE_2017 } from '../../server/config/palette.ts';
import { PngEncoder } from '../../server/canvas/png-encoder.ts';
import { CONTENT_DESCRIPTION, realisticGrid } from '../bench/canvas-content.ts';
import { median } from '../bench/stats.ts';

export interface EncodeResult {
  width: number;
  height: number;
  colours: number;
  content: string;
  ours: {
    runs: number;
    packMs: number;
    loopCpuMs: number;
    loopBusyMs: number;
    wallMs: number;
    cpuMs: number;
    bytes: number;
    level: number;
    roundTrip: boolean;
  };
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

/**
 * CPU time of the main thread in ms, from schedstat (process.threadCpuUsage needs Node 23.9; the
 * utime field of /proc/.../stat ticks in 10 ms steps). The kernel updates a running thread's figure
 * only at scheduler ticks and switches, so one reading may lag by a tick: callers read it around N
 * runs and divide, which shrinks that error N times (hence a mean, not a median). NaN if unavailable.
 */
function mainThreadCpuMs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function toRgba(grid: Uint8Array, palette: readonly number[]): Uint8Array {
  const rgba = new Uint8Array(grid.length * 4);
  for (let i = 0; i < grid.length; i++) {
    const rgb = palette[grid[i] as number] as number;
    rgba[i * 4] = rgb >> 16;
    rgba[i * 4 + 1] = (rgb >> 8) & 0xff;
    rgba[i * 4 + 2] = rgb & 0xff;
    rgba[i * 4 + 3] = 255;
  }
  return rgba;
}

/** True when `png` decodes (with upng-js) to exactly the colours of `rgba`. */
function decodesTo(png: Uint8Array, rgba: Uint8Array): { ok: boolean; ctype: number; depth: number } {
  const img = UPNG.decode(new Uint8Array(png).buffer);
  const out = new Uint8Array(UPNG.toRGBA8(img)[0] as ArrayBuffer);
  return { ok: Buffer.from(out).equals(Buffer.from(rgba)), ctype: img.ctype, depth: img.depth };
}

export async function runEncodeBench(
  opts: { runs: number; upngRuns: number; upngCnum: number; width?: number; height?: number; level?: number },
  progress: (msg: string) => void,
): Promise<EncodeResult> {
  const width = opts.width ?? 1000;
  const height = opts.height ?? 1000;
  const level = opts.level ?? buildConfig({}).pngLevel; // the server's default --png-level
  const palette = PALETTE_2017;
  const grid = realisticGrid(width, height, palette.length);
  const rgba = toRgba(grid, palette);
  const encoder = new PngEncoder(width, height, palette, level);

  progress(`encode: ours x ${opts.runs} (+3 warm-up)`);
  let png = await encoder.encode(grid);
  for (let i = 0; i < 2; i++) png = await encoder.encode(grid);
  const pack: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const t = performance.now();
    encoder.packScanlines(grid);
    pack.push(performance.now() - t);
  }
  const busy: number[] = [];
  const wall: number[] = [];
  const cpu: number[] = [];
  const main0 = mainThreadCpuMs();
  for (let i = 0; i < opts.runs; i++) {
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    png = await encoder.encode(grid);
    wall.push(performance.now() - t0);
    busy.push(performance.eventLoopUtilization(elu0).active);
    cpu.push(cpuMsSince(cpu0));
  }
  const loopCpuMs = (mainThreadCpuMs() - main0) / opts.runs;
  const oursCheck = decodesTo(png, rgba);

  progress(`encode: UPNG.encode(cnum=${opts.upngCnum}) x ${opts.upngRuns} (+1 warm-up)`);
  let upngPng = new Uint8Array(UPNG.encode([rgba.buffer as ArrayBuffer], width, height, opts.upngCnum));
  const uWall: number[] = [];
  const uCpu: number[] = [];
  const uMain0 = mainThreadCpuMs();
  for (let i = 0; i < opts.upngRuns; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    upngPng = new Uint8Array(UPNG.encode([rgba.buffer as ArrayBuffer], width, height, opts.upngCnum));
    uWall.push(performance.now() - t0);
    uCpu.push(cpuMsSince(cpu0));
  }
  const uLoopCpuMs = (mainThreadCpuMs() - uMain0) / opts.upngRuns;
  const upngCheck = decodesTo(upngPng, rgba);

  return {
    width,
    height,
    colours: palette.length,
    content: `${CONTENT_DESCRIPTION}; whole canvas covered about 1.25 times, 5% noise`,
    ours: {
      runs: opts.runs,
      packMs: median(pack),
      loopCpuMs,
      loopBusyMs: median(busy),
      wallMs: median(wall),
      cpuMs: median(cpu),
      bytes: png.length,
      level,
      roundTrip: oursCheck.ok,
    },
    upng: {
      runs: opts.upngRuns,
      cnum: opts.upngCnum,
      loopCpuMs: uLoopCpuMs,
      wallMs: median(uWall),
      cpuMs: median(uCpu),
      bytes: upngPng.length,
      ctype: upngCheck.ctype,
      depth: upngCheck.depth,
      roundTrip: upngCheck.ok,
    },
  };
}
