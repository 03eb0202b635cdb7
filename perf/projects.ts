/**
 * `npm run bench:projects`: what projects cost the placement path and the tick.
 *
 * 1. Placements acknowledged per second with 1,000 registered projects tiling the whole 1000 x 1000
 *    canvas (40 x 25 rectangles of 25 x 40, every pixel in exactly one project, random colours) and
 *    with none, side by side (budget: >= 0.8x). Each row is our server on a copy of its database,
 *    limited to one CPU like `npm run bench` (perf/lib/cpu-limit.ts), loaded by the bench's place
 *    swarm on the other CPU; rounds rotate the rows and the ratio is taken within a round.
 * 2. Bytes and server CPU per project watcher per tick: WATCHERS delta subscribers (from this process,
 *    on the load CPU) on the projects database while one socket places RATE random px/s, ticks every
 *    250 ms; the same sockets alternately watching a project each (`watch`) and watching none,
 *    WATCH_SECONDS each, PAIRS times. The
 *    extra server CPU of watching, divided by watchers x ticks, is the cost per watcher per tick; bytes
 *    are the `progress` messages received.
 *
 * Settings (environment): PROJECTS_ROUNDS (3), PROJECTS_SECONDS (10), PROJECTS_CLIENTS (512),
 * PROJECTS_WINDOW (1), PROJECTS_WATCHERS (2000), PROJECTS_RATE (2000), PROJECTS_PAIRS (8),
 * PROJECTS_WATCH_SECONDS (5), PROJECTS_RECORD=0 (print, do
 * not rewrite RESULTS.md's `projects` section).
 */
import { copyFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { decodeServerMessage, encodeMessage } from '../protocol/codec.ts';
import { MsgType } from '../protocol/messages.ts';
import { PALETTE_2017 } from '../server/config/palette.ts';
import { Projects } from '../server/projects/projects.ts';
import { ProjectStore } from '../server/store/project-store.ts';
import { Store } from '../server/store/store.ts';
import { n0, n1, n2, pct } from '../testkit/format.ts';
import { Placer } from '../testkit/placer.ts';
import { cpuSeconds } from '../testkit/processes.ts';
import { mdTable, writeSection } from '../testkit/report.ts';
import { Rng } from '../testkit/rng.ts';
import { createCpuLimit, pinPid, LOAD_CPU, SERVER_CPU } from './lib/cpu-limit.ts';
import { Harness } from './lib/harness.ts';
import { machineInfo } from './lib/machine-info.ts';
import { runSwarm, type PlaceRun } from './lib/scenarios/place.ts';
import { startOurServer } from './lib/server-process.ts';
import { median } from './lib/stats.ts';
import { envNumber } from './lib/config.ts';

const ROUNDS = envNumber('PROJECTS_ROUNDS', 3);
const SECONDS = envNumber('PROJECTS_SECONDS', 10);
const CLIENTS = envNumber('PROJECTS_CLIENTS', 512);
const WINDOW = envNumber('PROJECTS_WINDOW', 1);
const WATCHERS = envNumber('PROJECTS_WATCHERS', 2000);
const RATE = envNumber('PROJECTS_RATE', 2000);
/** Alternations of watching and not (each WATCH_SECONDS long): many short ones average out a shared machine. */
const PAIRS = envNumber('PROJECTS_PAIRS', 8);
const WATCH_SECONDS = envNumber('PROJECTS_WATCH_SECONDS', 5);
const SIZE = 1000;
const TILE_W = 25;
const TILE_H = 40;
const TICK_MS = 250;

const ROWS = [
  { name: 'no projects', projects: false },
  { name: '1,000 projects covering the canvas', projects: true },
] as const;

const harness = new Harness('projects');
const { progress } = harness;

/** A database with the canvas only, and a copy with 1,000 projects tiling it. */
function makeDatabases(dir: string): { none: string; covered: string } {
  const open = (path: string) =>
    Store.open({
      path,
      width: SIZE,
      height: SIZE,
      paletteSize: PALETTE_2017.length,
      synchronous: 'NORMAL',
      busyTimeoutMs: 0,
    });
  const none = join(dir, 'none.db');
  open(none).close();
  const covered = join(dir, 'covered.db');
  const store = open(covered);
  const projects = new ProjectStore(store.db);
  const rng = new Rng(5);
  store.db.transaction(() => {
    for (let y = 0; y < SIZE; y += TILE_H) {
      for (let x = 0; x < SIZE; x += TILE_W) {
        const target = new Uint8Array(TILE_W * TILE_H);
        for (let i = 0; i < target.length; i++) target[i] = rng.int(PALETTE_2017.length);
        projects.insert(
          {
            name: `tile ${x},${y}`,
            x,
            y,
            width: TILE_W,
            height: TILE_H,
            owner: '00000000000000aa',
            createdAt: Date.now(),
            createdSeq: 0,
            target,
          },
          Buffer.alloc(0),
        );
      }
    }
  })();
  store.close();
  return { none, covered };
}

interface PlaceResult {
  row: number;
  round: number;
  place: PlaceRun;
}

interface WatchResult {
  watching: boolean;
  cpuSeconds: number;
  seconds: number;
  ticks: number;
  progressBytes: number;
  progressMessages: number;
  deltaBytes: number;
}

async function placements(limit: ReturnType<typeof createCpuLimit>, dbs: { none: string; covered: string }) {
  const tmp = harness.tempDir();
  const runs: PlaceResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < ROWS.length; k++) {
      const row = (round + k) % ROWS.length;
      const spec = ROWS[row] as (typeof ROWS)[number];
      const db = join(tmp, `r${round}-${row}.db`);
      copyFileSync(spec.projects ? dbs.covered : dbs.none, db);
      const server = await startOurServer(limit, db);
      const place = await runSwarm(
        server,
        limit,
        { clients: CLIENTS, window: WINDOW, loadCpu: LOAD_CPU, seconds: SECONDS, count: 0 },
        () => undefined,
      );
      const code = await server.child.stop(20_000);
      if (code !== 0) throw new Error(`server (${spec.name}) exited with ${code}`);
      runs.push({ row, round, place });
      progress(
        `round ${round + 1} ${spec.name}: ${n0(place.swarm.acksPerSec)} acks/s, server CPU ${pct(place.serverCpuShare)}`,
      );
    }
  }
  return runs;
}

/** WATCHERS delta sockets; `watch(on)` makes each watch its own project, or none. */
async function connectWatchers(url: string) {
  let progressBytes = 0;
  let progressMessages = 0;
  let deltaBytes = 0;
  const sockets = await Promise.all(
    Array.from(
      { length: WATCHERS },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`${url}?stream=delta`);
          ws.binaryType = 'nodebuffer';
          ws.on('message', (data: Buffer) => {
            const t = decodeServerMessage(new Uint8Array(data)).t;
            if (t === MsgType.PROGRESS) {
              progressBytes += data.length;
              progressMessages++;
            } else if (t === MsgType.DELTA) deltaBytes += data.length;
          });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    ),
  );
  return {
    watch(on: boolean) {
      for (const [i, ws] of sockets.entries())
        ws.send(encodeMessage({ t: MsgType.WATCH, project: on ? (i % 1000) + 1 : 0 }));
    },
    take() {
      const out = { progressBytes, progressMessages, deltaBytes };
      progressBytes = 0;
      progressMessages = 0;
      deltaBytes = 0;
      return out;
    },
    close() {
      for (const ws of sockets) ws.terminate();
    },
  };
}

/**
 * One socket placing `rate` uniformly random pixels a second: with 1,000 projects tiling the canvas
 * each project changes in most ticks (1 - e^-1 of them at 1,000 px/s), so most watchers get a
 * `progress` per tick (synthetic artwork would touch a few projects only).
 */
async function uniformPlacer(url: string, rate: number): Promise<{ stop(): void }> {
  const placer = new Placer(url, { stream: 'delta' });
  await placer.hello;
  const rng = new Rng(9);
  const started = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    const due = Math.floor((rate * (performance.now() - started)) / 1000);
    for (; sent < due && placer.inFlight < 10_000; sent++) placer.place(rng.int(SIZE), rng.int(SIZE), rng.int(16));
  }, 5);
  return {
    stop() {
      clearInterval(timer);
      placer.terminate();
    },
  };
}

async function watchers(limit: ReturnType<typeof createCpuLimit>, dbs: { covered: string }): Promise<WatchResult[]> {
  const db = join(harness.tempDir(), 'watch.db');
  copyFileSync(dbs.covered, db);
  const server = await startOurServer(limit, db, {
    openFiles: WATCHERS + 1024,
    args: ['--tick-ms', String(TICK_MS)],
  });
  const pid = server.child.pid;
  const placer = await uniformPlacer(server.ws, RATE);
  const sockets = await connectWatchers(server.ws);
  await sleep(2000);
  const out: WatchResult[] = [];
  for (let round = 0; round < PAIRS * 2; round++) {
    // ABBA order: the canvas fills with random pixels, so every tick's PNG costs more than the last;
    // a fixed order would charge that trend to one side.
    const watching = (round % 2 === 0) === (Math.floor(round / 2) % 2 === 0);
    sockets.watch(watching);
    await sleep(TICK_MS * 1.5); // the switch takes effect from the next tick
    sockets.take();
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    await sleep(WATCH_SECONDS * 1000);
    const cpu = cpuSeconds(pid) - cpu0;
    const seconds = (performance.now() - t0) / 1000;
    const got = sockets.take();
    const r = { watching, cpuSeconds: cpu, seconds, ticks: seconds / (TICK_MS / 1000), ...got };
    out.push(r);
    progress(
      `watchers ${watching ? 'watching' : 'not watching'}: server CPU ${n2(cpu)} s in ${n1(seconds)} s, ` +
        `${n0(got.progressMessages)} progress messages, ${n0(got.progressBytes)} B`,
    );
  }
  placer.stop();
  sockets.close();
  await server.child.stop(20_000);
  return out;
}

/**
 * The projects' share of a placement, in this process (steadier than the servers' rates on a shared
 * machine): ns per row of `Projects.stored` with the 1,000 tiles loaded, batches of 100 random rows,
 * and of `takeTick` per touched project (its record packed).
 */
function inProcess(covered: string): { storedNs: number; tickNs: number } {
  const store = Store.open({
    path: covered,
    width: SIZE,
    height: SIZE,
    paletteSize: PALETTE_2017.length,
    synchronous: 'NORMAL',
    busyTimeoutMs: 0,
  });
  const records = new ProjectStore(store.db).all();
  store.close();
  const projects = new Projects(SIZE, SIZE);
  const grid = new Uint8Array(SIZE * SIZE);
  projects.restore(records, { get: (x, y) => grid[y * SIZE + x] as number }, new Map());
  const rng = new Rng(1);
  const ROWS_TOTAL = 1_000_000;
  const BATCH = 100;
  const ids = Array.from({ length: 5000 }, (_, i) => i.toString(16).padStart(16, '0'));
  const batches = Array.from({ length: ROWS_TOTAL / BATCH }, (_, b) => {
    const rows = Array.from({ length: BATCH }, (_, i) => ({
      seq: b * BATCH + i + 1,
      x: rng.int(SIZE),
      y: rng.int(SIZE),
      color: rng.int(16),
      who: ids[rng.int(ids.length)] as string,
      at: Date.now(),
    }));
    const previous = Uint8Array.from(rows, (r) => {
      const c = grid[r.y * SIZE + r.x] as number;
      grid[r.y * SIZE + r.x] = r.color;
      return c;
    });
    return { rows, previous };
  });
  let storedMs = 0;
  let tickMs = 0;
  let touched = 0;
  for (const [i, b] of batches.entries()) {
    const t0 = performance.now();
    projects.stored(b.rows, b.previous);
    storedMs += performance.now() - t0;
    if (i % 100 === 99) {
      // One tick per 10,000 rows (10,000 px/s at 1 s ticks): most of the 1,000 projects touched.
      const t1 = performance.now();
      touched += projects.takeTick(b.rows[BATCH - 1]?.seq ?? 0)?.count ?? 0;
      tickMs += performance.now() - t1;
    }
  }
  return { storedNs: (storedMs * 1e6) / ROWS_TOTAL, tickNs: (tickMs * 1e6) / touched };
}

async function main(): Promise<void> {
  harness.limitTo(120 + ROUNDS * ROWS.length * (SECONDS + 30) + PAIRS * 2 * (WATCH_SECONDS + 3), 'the run limit', 1);
  if (!pinPid(LOAD_CPU)) progress(`could not pin the harness to CPU ${LOAD_CPU}`);
  const limit = createCpuLimit(SERVER_CPU);
  harness.limit = limit;
  progress(`server CPU limit: ${limit.method}`);
  const dbs = makeDatabases(harness.tempDir());
  const costs = inProcess(dbs.covered);
  progress(`in process: Projects.stored ${n0(costs.storedNs)} ns per row, takeTick ${n0(costs.tickNs)} ns per project`);
  const placed = await placements(limit, dbs);
  const watched = await watchers(limit, dbs);
  const lines = report(placed, watched, costs);
  process.stdout.write(`\n${lines.join('\n')}\n`);
  await harness.cleanup();
  if (process.env['PROJECTS_RECORD'] !== '0') {
    writeSection(join(import.meta.dirname, 'RESULTS.md'), 'projects', lines);
    progress('wrote the projects section of perf/RESULTS.md');
  }
}

const PLACE_HEAD =
  'server | acks/s (median) | acks/s per round | ratio to none (median of rounds) | acks per server CPU-second, ratio to none | ack p50 / p99 ms | server CPU';
const WATCH_HEAD =
  'watchers | server CPU per second | progress bytes per watcher per tick | progress messages per watcher per tick | extra server CPU per watcher per tick';

const perCpu = (p: PlaceRun) => p.swarm.acksPerSec / p.serverCpuShare;

function placeRows(runs: readonly PlaceResult[]): string[][] {
  const noneIn = (round: number) => runs.find((r) => r.row === 0 && r.round === round)?.place as PlaceRun;
  return ROWS.map((spec, row) => {
    const mine = runs.filter((r) => r.row === row).sort((a, b) => a.round - b.round);
    const ratio = (f: (p: PlaceRun) => number) => median(mine.map((r) => f(r.place) / f(noneIn(r.round))));
    return [
      spec.name,
      n0(median(mine.map((r) => r.place.swarm.acksPerSec))),
      mine.map((r) => n0(r.place.swarm.acksPerSec)).join(', '),
      `${ratio((p) => p.swarm.acksPerSec).toFixed(3)}x`,
      `${ratio(perCpu).toFixed(3)}x`,
      `${n2(median(mine.map((r) => r.place.swarm.latencyMs.p50)))} / ${n2(median(mine.map((r) => r.place.swarm.latencyMs.p99)))}`,
      pct(median(mine.map((r) => r.place.serverCpuShare))),
    ];
  });
}

function watchRows(runs: readonly WatchResult[]): string[][] {
  const share = (r: WatchResult) => r.cpuSeconds / r.seconds;
  const idle = median(runs.filter((r) => !r.watching).map(share));
  return [true, false].map((watching) => {
    const mine = runs.filter((r) => r.watching === watching);
    const perWatcherTick = (f: (r: WatchResult) => number) => median(mine.map((r) => f(r) / (WATCHERS * r.ticks)));
    const extra = median(mine.map(share)) - idle; // CPU-seconds per second
    return [
      watching ? `${n0(WATCHERS)}, each watching a project` : `${n0(WATCHERS)}, watching none`,
      pct(median(mine.map(share))),
      n1(perWatcherTick((r) => r.progressBytes)),
      n2(perWatcherTick((r) => r.progressMessages)),
      watching ? `${n2((extra * (TICK_MS / 1000) * 1e6) / WATCHERS)} us` : '-',
    ];
  });
}

function report(
  placed: readonly PlaceResult[],
  watched: readonly WatchResult[],
  costs: { storedNs: number; tickNs: number },
): string[] {
  const none = placed.filter((r) => r.row === 0).map((r) => r.place);
  const usPerAck = median(none.map((p) => (p.serverCpuShare / p.swarm.acksPerSec) * 1e6));
  const m = machineInfo();
  return [
    '## Projects: placements/s with 1,000 projects vs none; cost per project watcher (`npm run bench:projects`)',
    '',
    '_Generated by `npm run bench:projects` (perf/projects.ts); this section is overwritten on every run._',
    '',
    `- Date: ${m.date}; code measured: ${m.revision}; Node ${m.node}`,
    `- Machine: ${m.nproc} CPUs, ${m.cpuModel}, shared (load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' / ')} at the end): compare the ratios, measured within each round, not absolute rates across runs`,
    `- Placements: our server (\`--cooldown-ms 0\`) on CPU ${SERVER_CPU} alone, on a copy of a 1000 x 1000 database ` +
      `with no project or with 1,000 projects of ${TILE_W} x ${TILE_H} tiling the canvas (every placement lands in one); ` +
      `${CLIENTS} WebSocket identities, ${WINDOW} placement(s) in flight each, on CPU ${LOAD_CPU}, for ${SECONDS} s; ` +
      `${ROUNDS} rounds, the rows' order rotating. Budget: >= 0.8x.`,
    '',
    ...mdTable(PLACE_HEAD, placeRows(placed)),
    '',
    `- In process (the same 1,000 projects, 1,000,000 random rows in batches of 100): \`Projects.stored\` ` +
      `${n0(costs.storedNs)} ns per row, \`takeTick\` ${n0(costs.tickNs)} ns per touched project (its record packed; ` +
      `\`progress\` is encoded only for watched projects: \`npm run bench:progress\`). Against the ${n1(usPerAck)} us of server CPU per acknowledged placement of the no-projects row, ` +
      `the projects' share is ${((costs.storedNs / 1000 / usPerAck) * 100).toFixed(1)}%: the rates above differ by the machine's noise.`,
    '',
    `- Watchers: the projects database, one socket placing ${n0(RATE)} uniformly random px/s, ticks every ${TICK_MS} ms, ` +
      `${n0(WATCHERS)} delta subscribers on CPU ${LOAD_CPU}, alternately each watching project (i mod 1000) + 1 and ` +
      `watching none, ${WATCH_SECONDS} s each, ${PAIRS} times. A watcher gets one \`progress\` per tick in which its project changed.`,
    '',
    ...mdTable(WATCH_HEAD, watchRows(watched)),
  ];
}

await harness.run(main);
