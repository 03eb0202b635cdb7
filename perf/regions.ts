/**
 * `npm run bench:regions`: region subscriptions of the delta stream against whole-canvas delta
 * subscribers, side by side, in the r/place 2023 shape: a 3000 x 2000 canvas, RATE placements per
 * second spread uniformly over it, SUBSCRIBERS sockets, ticks every second. Each row is our server
 * on a fresh database, limited to one CPU like `npm run bench` (perf/lib/cpu-limit.ts), with the
 * subscriber swarm (perf/lib/load/ws-swarm.ts, which also places) on the other CPU; rounds alternate
 * the rows' order. Per row: server CPU per tick, bytes per subscriber per tick, ticks delivered on
 * time (the spread from a tick's first frame to each subscriber's), the worst event-loop delay per
 * tick (/metrics).
 *
 * Settings (environment): REGIONS_ROUNDS (2), REGIONS_SECONDS (10), REGIONS_SUBSCRIBERS (5000),
 * REGIONS_RATE (1600), REGIONS_TILES (3: each region 3 x 3 tiles, 768 x 768 pixels),
 * REGIONS_RECORD=0 (print, do not rewrite RESULTS.md's `regions` section).
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { n0, n1, pct } from '../testkit/format.ts';
import { mdTable, textTable, writeSection } from '../testkit/report.ts';
import { createCpuLimit, pinPid, LOAD_CPU, SERVER_CPU } from './lib/cpu-limit.ts';
import { Harness } from './lib/harness.ts';
import { machineInfo } from './lib/machine-info.ts';
import { runWsScenario, type WsRun, type WsRunSpec } from './lib/scenarios/ws.ts';
import { startOurServer } from './lib/server-process.ts';
import { median } from './lib/stats.ts';
import { envNumber } from './lib/config.ts';

const ROUNDS = envNumber('REGIONS_ROUNDS', 2);
const SECONDS = envNumber('REGIONS_SECONDS', 10);
const SUBSCRIBERS = envNumber('REGIONS_SUBSCRIBERS', 5000);
const RATE = envNumber('REGIONS_RATE', 1600);
const TILES = envNumber('REGIONS_TILES', 3);
const WIDTH = 3000;
const HEIGHT = 2000;
const TICK_MS = 1000;

const ROWS: Array<Pick<WsRunSpec, 'label' | 'stream'>> = [
  { label: `region subscribers (${TILES} x ${TILES} tiles each)`, stream: 'region' },
  { label: 'whole-canvas delta subscribers', stream: 'delta' },
];

const harness = new Harness('regions');
const { progress } = harness;

async function main(): Promise<void> {
  harness.limitTo(60 + ROUNDS * ROWS.length * (SECONDS + 90), 'the run limit', 1);
  if (!pinPid(LOAD_CPU)) progress(`could not pin the harness to CPU ${LOAD_CPU}`);
  const limit = createCpuLimit(SERVER_CPU);
  harness.limit = limit;
  const runs: Array<{ row: number; run: WsRun }> = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < ROWS.length; k++) {
      const row = (round + k) % ROWS.length;
      const spec = ROWS[row] as (typeof ROWS)[number];
      const db = join(harness.tempDir(), `r${round}-${row}.db`);
      const server = await startOurServer(limit, db, {
        openFiles: SUBSCRIBERS + 1024,
        args: ['--width', String(WIDTH), '--height', String(HEIGHT), '--tick-ms', String(TICK_MS)],
      });
      const run = await runWsScenario(
        server,
        {
          ...spec,
          target: 'ours',
          subscribers: SUBSCRIBERS,
          rate: RATE,
          seconds: SECONDS,
          warmupSeconds: 3,
          tickMs: TICK_MS,
          connectConcurrency: 200,
          regionTiles: TILES,
        },
        LOAD_CPU,
        progress,
      );
      await server.child.stop(20_000);
      runs.push({ row, run });
    }
  }
  const lines = report(runs);
  process.stdout.write(`\n${textTable(HEAD, tableRows(runs))}\n`);
  await harness.cleanup();
  if (process.env['REGIONS_RECORD'] !== '0') {
    writeSection(join(import.meta.dirname, 'RESULTS.md'), 'regions', lines);
    progress('wrote the regions section of perf/RESULTS.md');
  }
}

const HEAD =
  'subscribers | ready | ticks | server CPU ms per tick (median) | bytes per subscriber per tick | ' +
  'ticks reaching a subscriber, of all | spread p50 / p99 / max ms | worst event-loop delay per tick, median / max ms';

function tableRows(runs: ReadonlyArray<{ row: number; run: WsRun }>): string[][] {
  return ROWS.map((spec, row) => {
    const mine = runs.filter((r) => r.row === row).map((r) => r.run);
    const s = (f: (r: WsRun) => number) => median(mine.map(f));
    const frames = mine.reduce((n, r) => n + r.swarm.frames, 0);
    const expected = mine.reduce((n, r) => n + r.swarm.expectedFrames, 0);
    const bytes = mine.reduce((n, r) => n + r.swarm.bytes, 0);
    const perTick = mine.reduce((n, r) => n + r.swarm.ticks * r.swarm.ready, 0);
    return [
      `${spec.label}: ${n0(SUBSCRIBERS)}`,
      mine.map((r) => n0(r.swarm.ready)).join(', '),
      mine.map((r) => n0(r.swarm.ticks)).join(', '),
      n1(s((r) => r.cpuMsPerTick)),
      n0(bytes / perTick),
      `${n0(frames)} / ${n0(expected)} (${pct(frames / expected)})`,
      `${n1(s((r) => r.swarm.spreadMs.p50))} / ${n1(s((r) => r.swarm.spreadMs.p99))} / ${n1(s((r) => r.swarm.spreadMs.max))}`,
      mine.every((r) => r.metrics)
        ? `${n1(s((r) => r.metrics?.eldMedianMs ?? NaN))} / ${n1(s((r) => r.metrics?.eldP99Ms ?? NaN))}`
        : 'n/a',
    ];
  });
}

function report(runs: ReadonlyArray<{ row: number; run: WsRun }>): string[] {
  const m = machineInfo();
  return [
    '## Region subscriptions against whole-canvas deltas (`npm run bench:regions`)',
    '',
    '_Generated by `npm run bench:regions` (perf/regions.ts); this section is overwritten on every run._',
    '',
    `- Date: ${m.date}; code measured: ${m.revision}; Node ${m.node}`,
    `- Machine: ${m.nproc} CPUs, ${m.cpuModel}, shared (load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' / ')} at the end)`,
    `- Each row: our server (${WIDTH} x ${HEIGHT}, \`--tick-ms ${TICK_MS}\`, a fresh database) on CPU ${SERVER_CPU} ` +
      `alone; ${n0(SUBSCRIBERS)} WebSocket subscribers and ${n0(RATE)} placements/s spread uniformly over the ` +
      `canvas from one swarm on CPU ${LOAD_CPU}; ${SECONDS} s windows, ${ROUNDS} rounds, rows alternating. ` +
      `A region subscriber watches a random ${TILES} x ${TILES} block of level-0 tiles; a tick reaches it ` +
      'only when its region changed (here almost every tick: the placements cover every tile), as one ' +
      '`delta` per changed tile. Spread: from the first frame of a tick to each subscriber\u2019s.',
    '',
    ...mdTable(HEAD, tableRows(runs)),
  ];
}

await harness.run(main);
