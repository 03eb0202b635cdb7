/**
 * `npm run bench:defences`: placements acknowledged per second with each defence on and off, side by
 * side in one run (the "placements/s with challenges `new` stays within 0.9x of `off`"). Each
 * row is our server on its own fresh database, limited to one CPU like `npm run bench` (perf/lib/
 * cpu-limit.ts), loaded by the bench's place swarm on the other CPU; rounds rotate the order of the
 * rows, and each row's ratio to `off` is taken within a round, then the median over rounds.
 *
 * The swarm answers `challenge_required` by solving the challenge it carries and sending the same
 * placement again with `pow` (place-swarm.ts `--solve 1`), and solves the challenge an ack carries
 * (when its placement spent the credit) before that client's next placement. The challenge rows pay
 * the server's cost at the default `--challenge-cost` (see EASY below).
 *
 * Settings (environment): DEFENCES_ROUNDS (3), DEFENCES_SECONDS (8), DEFENCES_CLIENTS (512),
 * DEFENCES_WINDOW (1), DEFENCES_ROWS (the rows to run, by number from 0 = off: `0,1` for off and
 * `new` alone; default all), DEFENCES_RECORD=0 (print, do not rewrite RESULTS.md's `defences` section).
 */
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { createCpuLimit, pinPid, LOAD_CPU, SERVER_CPU } from './lib/cpu-limit.ts';
import { Harness } from './lib/harness.ts';
import { machineInfo } from './lib/machine-info.ts';
import { runSwarm, type PlaceRun } from './lib/scenarios/place.ts';
import { countPlacements } from './lib/server-checks.ts';
import { startOurServer } from './lib/server-process.ts';
import { median } from './lib/stats.ts';
import { n0, n1, n2, pct } from '../testkit/format.ts';
import { mdTable, textTable, writeSection } from '../testkit/report.ts';
import { envNumber } from './lib/config.ts';
import { configWith } from '../server/config/config.ts';

const ROUNDS = envNumber('DEFENCES_ROUNDS', 3);
const SECONDS = envNumber('DEFENCES_SECONDS', 8);
/**
 * Many identities with one placement in flight each, as a browser places: an identity's first
 * placement is refused with a challenge, and afterwards the ack that spends a credit carries the next
 * one, so `new` costs a challenge issued and a solution verified per `--challenge-every` placements
 * and `always` one per placement. With several in flight per identity, every placement in flight when
 * a credit runs out is refused with a fresh challenge (a key derivation each), which measures a client
 * that pipelines past its credit rather than the server's cost of the defence.
 */
const CLIENTS = envNumber('DEFENCES_CLIENTS', 512);
const WINDOW = envNumber('DEFENCES_WINDOW', 1);
/**
 * The server's side of a challenge costs the same whatever the difficulty: it derives one key at
 * `--challenge-cost` iterations to issue it (the default, 1,000, as a server at its defaults) and
 * checks two HMACs to verify it; the difficulty only sets how many derivations the solver tries.
 * The rows' difficulty is the smallest allowed (2: one to three derivations, about a millisecond of
 * the load CPU per solve), so the load generator is not what limits a row: they measure the server's
 * cost of the defence at its default cost, not the solving (perf/challenge-solve.ts has that).
 */
const EASY = ['--challenge-difficulty', '2'];

interface Row {
  name: string;
  args: string[];
}

/** The default of `--challenge-every`, read from the one options table (the row is named after it). */
const EVERY = configWith({}).challengeEvery;

const ALL_ROWS: Row[] = [
  { name: 'off (defaults)', args: [] },
  { name: `--challenge new (every ${EVERY}, the default)`, args: ['--challenge', 'new', ...EASY] },
  { name: '--challenge always', args: ['--challenge', 'always', ...EASY] },
  // Learning for its first two windows (20 s), so no surge can start within a row: the cost of watching.
  { name: '--surge-factor 3 (watching; no surge)', args: ['--surge-factor', '3'] },
  {
    name: '--challenge new --address-limit-exempt verified',
    args: ['--challenge', 'new', '--address-limit-exempt', 'verified', ...EASY],
  },
  // The cost per placement falls as 1/every: a shorter credit, for comparison with the default.
  { name: '--challenge new --challenge-every 20', args: ['--challenge', 'new', '--challenge-every', '20', ...EASY] },
  { name: '--challenge new --challenge-every 50', args: ['--challenge', 'new', '--challenge-every', '50', ...EASY] },
];

/** Row 0 (off) always runs: the others are measured against it. */
const ROWS: Row[] = process.env['DEFENCES_ROWS']
  ? ALL_ROWS.filter((_, i) => i === 0 || (process.env['DEFENCES_ROWS'] ?? '').split(',').map(Number).includes(i))
  : ALL_ROWS;

interface Run {
  row: number;
  round: number;
  place: PlaceRun;
  /** Rows stored after SIGTERM, and acks received in total (persisted, not assumed). */
  rows: number;
}

const harness = new Harness('defences');
const { progress } = harness;

async function main(): Promise<void> {
  harness.limitTo(60 + ROUNDS * ROWS.length * (SECONDS + 30), 'the run limit', 1);
  if (!pinPid(LOAD_CPU)) progress(`could not pin the harness to CPU ${LOAD_CPU}`);
  const limit = createCpuLimit(SERVER_CPU);
  harness.limit = limit;
  progress(`server CPU limit: ${limit.method}; ${ROUNDS} rounds of ${ROWS.length} rows, ${SECONDS} s each`);
  const tmp = harness.tempDir();
  const runs: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < ROWS.length; k++) {
      const row = (round + k) % ROWS.length; // rotate: no row always runs first or after the same one
      const spec = ROWS[row] as Row;
      const db = join(tmp, `r${round}-${row}.db`);
      const server = await startOurServer(limit, db, { args: spec.args });
      const solve = spec.args.includes('--challenge');
      const place = await runSwarm(
        server,
        limit,
        { clients: CLIENTS, window: WINDOW, loadCpu: LOAD_CPU, seconds: SECONDS, count: 0, solve },
        () => undefined,
      );
      const code = await server.child.stop(20_000);
      if (code !== 0)
        throw new Error(`server (${spec.name}) exited with ${code}: ${server.child.stderr().slice(-500)}`);
      const stored = countPlacements(db);
      runs.push({ row, round, place, rows: stored });
      const s = place.swarm;
      progress(
        `round ${round + 1} ${spec.name}: ${n0(s.acksPerSec)} acks/s, server CPU ${pct(place.serverCpuShare)}, ` +
          `swarm CPU ${pct(s.cpuShare)}, solved ${n0(s.solved)}, refusals ${JSON.stringify(s.errors)}`,
      );
      if (stored < s.acksTotal) throw new Error(`${spec.name}: ${stored} rows stored for ${s.acksTotal} acks`);
    }
  }
  const lines = report(runs);
  process.stdout.write(`\n${textTable(HEAD, tableRows(runs))}\n`);
  await harness.cleanup();
  if (process.env['DEFENCES_RECORD'] !== '0') {
    writeSection(join(import.meta.dirname, 'RESULTS.md'), 'defences', lines);
    progress('wrote the defences section of perf/RESULTS.md');
  }
}

const HEAD =
  'server | acks/s (median) | acks/s per round | ratio to off (median of rounds) | acks per server CPU-second, ratio to off | ' +
  'challenge refusals per 1,000 acks | solutions per 1,000 acks | ack p50 / p99 ms | server CPU | swarm CPU';

/** acks per second of server CPU: the cost per placement, steadier than the rate on a shared machine. */
const perCpu = (p: PlaceRun) => p.swarm.acksPerSec / p.serverCpuShare;

function tableRows(runs: readonly Run[]): string[][] {
  const offIn = (round: number) => runs.find((r) => r.row === 0 && r.round === round)?.place;
  return ROWS.map((spec, row) => {
    const mine = runs.filter((r) => r.row === row).sort((a, b) => a.round - b.round);
    const ratio = (f: (p: PlaceRun) => number) => median(mine.map((r) => f(r.place) / f(offIn(r.round) as PlaceRun)));
    const acks = mine.reduce((s, r) => s + r.place.swarm.acks, 0);
    const refused = mine.reduce((s, r) => s + (r.place.swarm.errors['challenge_required'] ?? 0), 0);
    const solved = mine.reduce((s, r) => s + r.place.swarm.solved, 0);
    return [
      spec.name,
      n0(median(mine.map((r) => r.place.swarm.acksPerSec))),
      mine.map((r) => n0(r.place.swarm.acksPerSec)).join(', '),
      `${ratio((p) => p.swarm.acksPerSec).toFixed(3)}x`,
      `${ratio(perCpu).toFixed(3)}x`,
      n1((refused / acks) * 1000),
      n1((solved / acks) * 1000),
      `${n2(median(mine.map((r) => r.place.swarm.latencyMs.p50)))} / ${n2(median(mine.map((r) => r.place.swarm.latencyMs.p99)))}`,
      pct(median(mine.map((r) => r.place.serverCpuShare))),
      pct(median(mine.map((r) => r.place.swarm.cpuShare))),
    ];
  });
}

function report(runs: readonly Run[]): string[] {
  const m = machineInfo();
  const stored = runs.reduce((s, r) => s + r.rows, 0);
  const acked = runs.reduce((s, r) => s + r.place.swarm.acksTotal, 0);
  return [
    '## Defences: placements/s with each defence on and off (`npm run bench:defences`)',
    '',
    '_Generated by `npm run bench:defences` (perf/defences.ts); this section is overwritten on every run._',
    '',
    `- Date: ${m.date}; code measured: ${m.revision}; Node ${m.node}`,
    `- Machine: ${m.nproc} CPUs, ${m.cpuModel}, shared (load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' / ')} at the end): compare the ratios, measured within each round, not absolute rates across runs`,
    `- Each row: our server (\`--cooldown-ms 0\`, a fresh database, the flags shown) on CPU ${SERVER_CPU} alone; ` +
      `${CLIENTS} WebSocket identities, ${WINDOW} placement(s) in flight each, on CPU ${LOAD_CPU}, for ${SECONDS} s; ` +
      `${ROUNDS} rounds, the rows' order rotating. Challenge rows use \`--challenge-difficulty 2\` and the default ` +
      'cost (1,000 iterations), so the server issues and verifies exactly as at its defaults (issuing derives one ' +
      'key whatever the difficulty) while solving stays cheap for the load generator. An ack that spends a credit ' +
      'carries the next challenge, solved before the next placement, as the browser client does.',
    `- Persisted: ${n0(stored)} rows stored for ${n0(acked)} acks received (each server stopped with SIGTERM, rows counted).`,
    '',
    ...mdTable(HEAD, tableRows(runs)),
  ];
}

await harness.run(main);
