/**
 * `npm run bench:big-canvas`: a 16,384 x 16,384 canvas against a 1000 x 1000 one, side by side, at the
 * same placement rate spread uniformly over each canvas. Both start from a history of PRELOAD
 * placements (also uniform: on the big canvas PRELOAD distinct pixels, each in its own spot of the
 * 268 M), replayed at startup. Each row is our server on a copy of its database, limited to one CPU
 * like `npm run bench` (perf/lib/cpu-limit.ts), with one placing socket in this process on the other
 * CPU; rounds alternate the rows' order. Per row: startup time, server CPU per tick, the tick's wall
 * time (capture + encode + fan-out, `canvas_tick_seconds`), the worst event-loop delay per tick
 * (/metrics), RSS after the window. Then, if STARTUP is not 0, startup of the big canvas after
 * STARTUP placements: with no snapshot (every placement replayed) and after a clean stop (the chunk
 * snapshot, nothing replayed).
 *
 * Settings (environment): BIG_ROUNDS (2), BIG_SECONDS (15), BIG_RATE (1000), BIG_PRELOAD (1000000),
 * BIG_STARTUP (10000000; 0 skips), BIG_RECORD=0 (print, do not rewrite RESULTS.md's `big-canvas`
 * section).
 */
import { copyFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { n0, n1 } from '../testkit/format.ts';
import { Placer } from '../testkit/placer.ts';
import { cpuSeconds, rssBytes } from '../testkit/processes.ts';
import { mdTable, textTable, writeSection } from '../testkit/report.ts';
import { Rng } from '../testkit/rng.ts';
import { PALETTE_2017 } from '../server/config/palette.ts';
import { type PlacementRow, Store } from '../server/store/store.ts';
import { envNumber } from './lib/config.ts';
import { createCpuLimit, LOAD_CPU, pinPid, SERVER_CPU } from './lib/cpu-limit.ts';
import { Harness } from './lib/harness.ts';
import { machineInfo } from './lib/machine-info.ts';
import { type MetricsSample, scrapeMetrics, windowMetrics } from './lib/server-metrics.ts';
import { startOurServer, type ServerUnderTest } from './lib/server-process.ts';
import { median } from './lib/stats.ts';

const ROUNDS = envNumber('BIG_ROUNDS', 2);
const SECONDS = envNumber('BIG_SECONDS', 15);
const RATE = envNumber('BIG_RATE', 1000);
const PRELOAD = envNumber('BIG_PRELOAD', 1_000_000);
const STARTUP = envNumber('BIG_STARTUP', 10_000_000);
const TICK_MS = 1000;
/** Load before the window: the first commit after a start that replayed the preload writes a snapshot. */
const WARMUP_SECONDS = 5;
/** Placements a database is filled with per transaction. */
const FILL_BATCH = 50_000;

const ROWS = [
  { label: '16,384 x 16,384', side: 16_384 },
  { label: '1000 x 1000', side: 1000 },
] as const;

interface Run {
  row: number;
  startupMs: number;
  ticks: number;
  acks: number;
  errors: number;
  cpuMsPerTick: number;
  tickMs: number;
  encodeMs: number;
  eldMedianMs: number;
  eldP99Ms: number;
  rssMiB: number;
}

const harness = new Harness('big-canvas');
const { progress } = harness;

/** A database of `count` placements uniformly over a `side` x `side` canvas, written by the store itself. */
function fill(path: string, side: number, count: number, seed: number): void {
  const store = Store.open({
    path,
    width: side,
    height: side,
    paletteSize: PALETTE_2017.length,
    synchronous: 'NORMAL',
    busyTimeoutMs: 5000,
  });
  const rng = new Rng(seed);
  const at = Date.now() - 86_400_000;
  for (let from = 1; from <= count; from += FILL_BATCH) {
    const rows: PlacementRow[] = [];
    for (let seq = from; seq < Math.min(count + 1, from + FILL_BATCH); seq++) {
      const who = (rng.u32() % 50_000).toString(16).padStart(16, '0');
      rows.push({
        seq,
        x: rng.u32() % side,
        y: rng.u32() % side,
        color: 1 + (rng.u32() % 15),
        who,
        addr: '',
        nextAt: 0,
        at,
        prevSeq: 0,
      });
    }
    store.commit(rows);
  }
  store.close();
}

/** Starts the server on `db` and measures the time to its "listening" line. */
async function start(db: string, side: number): Promise<{ server: ServerUnderTest; ms: number }> {
  const limit = harness.limit;
  if (!limit) throw new Error('no CPU limit');
  const started = performance.now();
  const server = await startOurServer(limit, db, {
    args: ['--width', String(side), '--height', String(side), '--tick-ms', String(TICK_MS)],
    timeoutMs: 900_000,
  });
  const ms = performance.now() - started;
  // Where the start went: the server logs the duration of each restore step.
  for (const line of server.lines?.() ?? []) {
    const m = /"ms":(\d+).*"msg":"(canvas restored|stats restored|projects restored)"/.exec(line);
    if (m) progress(`  ${m[2]}: ${m[1]} ms`);
  }
  return { server, ms };
}

/** RATE placements a second at uniformly random pixels for `seconds`, from one socket. */
async function placeFor(ws: string, side: number, seconds: number, seed: number, onSecond: () => Promise<void>) {
  let acks = 0;
  let errors = 0;
  const placer = new Placer(ws, {
    stream: 'delta',
    onAnswer: (a) => {
      if (a.ok) acks++;
      else errors++;
    },
  });
  await placer.hello;
  const rng = new Rng(seed);
  const perStep = RATE / 100;
  let owed = 0;
  const timer = setInterval(() => {
    owed += perStep;
    for (; owed >= 1; owed--) placer.place(rng.u32() % side, rng.u32() % side, 1 + (rng.u32() % 15));
  }, 10);
  for (let s = 0; s < seconds; s++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await onSecond();
  }
  clearInterval(timer);
  await placer.close();
  return { acks, errors };
}

const sum = (m: MetricsSample, name: string) => m.get(name) ?? Number.NaN;

async function measure(row: number, db: string, seed: number): Promise<Run> {
  const spec = ROWS[row] as (typeof ROWS)[number];
  const { server, ms: startupMs } = await start(db, spec.side);
  const pid = server.child.pid;
  // Warm-up: a few ticks of the same load, so the window sees the steady state.
  await placeFor(server.ws, spec.side, WARMUP_SECONDS, seed, async () => {});
  const samples: MetricsSample[] = [await scrapeMetrics(server.http)];
  const cpu0 = cpuSeconds(pid);
  const { acks, errors } = await placeFor(server.ws, spec.side, SECONDS, seed + 1, async () => {
    samples.push(await scrapeMetrics(server.http));
  });
  const cpu1 = cpuSeconds(pid);
  const rss = rssBytes(pid);
  await server.child.stop(60_000);
  const first = samples[0] as MetricsSample;
  const last = samples[samples.length - 1] as MetricsSample;
  const delta = (name: string) => sum(last, name) - sum(first, name);
  const ticks = delta('canvas_tick_seconds_count');
  const eld = windowMetrics(samples);
  return {
    row,
    startupMs,
    ticks,
    acks,
    errors,
    cpuMsPerTick: ((cpu1 - cpu0) * 1000) / ticks,
    tickMs: (delta('canvas_tick_seconds_sum') * 1000) / ticks,
    encodeMs: (delta('canvas_png_encode_seconds_sum') * 1000) / Math.max(1, delta('canvas_png_encode_seconds_count')),
    eldMedianMs: eld?.eldMedianMs ?? Number.NaN,
    eldP99Ms: eld?.eldP99Ms ?? Number.NaN,
    rssMiB: rss / (1 << 20),
  };
}

async function main(): Promise<void> {
  harness.limitTo(1800 + STARTUP / 50_000, 'the run limit', 1);
  if (!pinPid(LOAD_CPU)) progress(`could not pin the harness to CPU ${LOAD_CPU}`);
  harness.limit = createCpuLimit(SERVER_CPU);
  const dir = harness.tempDir();
  const seeds = ROWS.map((r, i) => {
    const path = join(dir, `seed-${i}.db`);
    const t0 = performance.now();
    fill(path, r.side, PRELOAD, 100 + i);
    progress(`${r.label}: ${n0(PRELOAD)} placements written in ${n1((performance.now() - t0) / 1000)} s`);
    return path;
  });
  const runs: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < ROWS.length; k++) {
      const row = (round + k) % ROWS.length;
      const db = join(dir, `r${round}-${row}.db`);
      copyFileSync(seeds[row] as string, db);
      const run = await measure(row, db, 1000 * round + row);
      progress(
        `${ROWS[row]?.label}: start ${n0(run.startupMs)} ms, ${n1(run.cpuMsPerTick)} ms CPU/tick, ` +
          `tick ${n1(run.tickMs)} ms, event loop ${n1(run.eldMedianMs)} / ${n1(run.eldP99Ms)} ms, RSS ${n1(run.rssMiB)} MiB`,
      );
      runs.push(run);
    }
  }
  const startup = STARTUP > 0 ? await measureStartup(dir) : undefined;
  const lines = report(runs, startup);
  process.stdout.write(`\n${textTable(HEAD, tableRows(runs))}\n`);
  if (startup) process.stdout.write(`${startupLine(startup)}\n`);
  await harness.cleanup();
  if (process.env['BIG_RECORD'] !== '0') {
    writeSection(join(import.meta.dirname, 'RESULTS.md'), 'big-canvas', lines);
    progress('wrote the big-canvas section of perf/RESULTS.md');
  }
}

interface Startup {
  fillS: number;
  replayMs: number;
  replayRssMiB: number;
  snapshotMs: number;
  snapshotRssMiB: number;
}

/** The big canvas after STARTUP placements: a start replaying them all, then one from its chunk snapshot. */
async function measureStartup(dir: string): Promise<Startup> {
  const side = ROWS[0].side;
  const db = join(dir, 'startup.db');
  const t0 = performance.now();
  fill(db, side, STARTUP, 7);
  const fillS = (performance.now() - t0) / 1000;
  progress(`startup: ${n0(STARTUP)} placements written in ${n1(fillS)} s`);
  const replay = await start(db, side);
  const replayRssMiB = rssBytes(replay.server.child.pid) / (1 << 20);
  progress(`startup replaying ${n0(STARTUP)} placements: ${n0(replay.ms)} ms, RSS ${n1(replayRssMiB)} MiB`);
  await replay.server.child.stop(120_000); // writes the chunk snapshot
  const snap = await start(db, side);
  const snapshotRssMiB = rssBytes(snap.server.child.pid) / (1 << 20);
  progress(`startup from the chunk snapshot: ${n0(snap.ms)} ms, RSS ${n1(snapshotRssMiB)} MiB`);
  await snap.server.child.stop(120_000);
  return { fillS, replayMs: replay.ms, replayRssMiB, snapshotMs: snap.ms, snapshotRssMiB };
}

const HEAD =
  'canvas | start with the preload replayed, ms | acked / errors | ticks | server CPU ms per tick (median) | ' +
  'tick wall ms (capture, encode, fan-out) | PNG encode ms | worst event-loop delay per tick, median / max ms | RSS MiB';

function tableRows(runs: readonly Run[]): string[][] {
  return ROWS.map((spec, row) => {
    const mine = runs.filter((r) => r.row === row);
    const s = (f: (r: Run) => number) => median(mine.map(f));
    return [
      spec.label,
      mine.map((r) => n0(r.startupMs)).join(', '),
      `${n0(mine.reduce((n, r) => n + r.acks, 0))} / ${n0(mine.reduce((n, r) => n + r.errors, 0))}`,
      mine.map((r) => n0(r.ticks)).join(', '),
      n1(s((r) => r.cpuMsPerTick)),
      n1(s((r) => r.tickMs)),
      spec.side > 4096 ? 'none (tiles only)' : n1(s((r) => r.encodeMs)),
      `${n1(s((r) => r.eldMedianMs))} / ${n1(Math.max(...mine.map((r) => r.eldP99Ms)))}`,
      mine.map((r) => n1(r.rssMiB)).join(', '),
    ];
  });
}

function startupLine(s: Startup): string {
  return (
    `16,384 x 16,384 after ${n0(STARTUP)} placements (written in ${n1(s.fillS)} s): start replaying all of them ` +
    `${n0(s.replayMs)} ms (RSS ${n1(s.replayRssMiB)} MiB); start from the chunk snapshot the clean stop wrote ` +
    `${n0(s.snapshotMs)} ms (RSS ${n1(s.snapshotRssMiB)} MiB).`
  );
}

function report(runs: readonly Run[], startup: Startup | undefined): string[] {
  const m = machineInfo();
  return [
    '## A 16,384 x 16,384 canvas against 1000 x 1000 (`npm run bench:big-canvas`)',
    '',
    '_Generated by `npm run bench:big-canvas` (perf/big-canvas.ts); this section is overwritten on every run._',
    '',
    `- Date: ${m.date}; code measured: ${m.revision}; Node ${m.node}`,
    `- Machine: ${m.nproc} CPUs, ${m.cpuModel}, shared (load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' / ')} at the end)`,
    `- Each row: our server (\`--tick-ms ${TICK_MS}\`, otherwise defaults) on CPU ${SERVER_CPU} alone, started on ` +
      `a database of ${n0(PRELOAD)} placements spread uniformly over its canvas (no snapshot: the start replays ` +
      `them all); ${n0(RATE)} placements/s at uniformly random pixels from one socket on CPU ${LOAD_CPU}; ` +
      `${SECONDS} s windows after ${WARMUP_SECONDS} s of warm-up, ${ROUNDS} rounds, rows alternating. Server CPU includes the ` +
      'commits (the same rate in both rows). RSS is read after the window: on the big canvas ' +
      `${n0(PRELOAD)} pixels touched plus the window's.`,
    '',
    ...mdTable(HEAD, tableRows(runs)),
    ...(startup ? ['', `- ${startupLine(startup)}`] : []),
  ];
}

await harness.run(main);
