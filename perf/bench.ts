/**
 * `npm run bench`: the benchmark harness (not a test). Runs the scenarios of the "Performance
 * budgets" in docs/ARCHITECTURE.md (the figures: perf/lib/budgets.ts), prints progress and a table,
 * and rewrites the generated section of perf/RESULTS.md. Servers under test run as child processes
 * limited to one CPU (perf/lib/cpu-limit.ts); load generators and this harness run on the other CPU.
 * Settings: environment variables, see perf/lib/config.ts or perf/README.md. Everything it starts is stopped, and its
 * temp dir and cgroup removed, on success, failure, timeout and Ctrl-C.
 */
import { join, relative } from 'node:path';
import { BenchConfigError, KNOBS, loadBenchConfig, onlyFlag, type BenchConfig } from './lib/config.ts';
import { type BenchResults, consoleSummary } from './lib/budgets.ts';
import { createCpuLimit, pinPid } from './lib/cpu-limit.ts';
import { Harness } from './lib/harness.ts';
import { runEncodeBench } from './lib/scenarios/encode.ts';
import { runImageBench, runOriginBench } from './lib/scenarios/image.ts';
import { machineInfo } from './lib/machine-info.ts';
import { runSwarm } from './lib/scenarios/place.ts';
import { writeResults } from './lib/report.ts';
import { REPO_ROOT, startOurServer, type ServerUnderTest } from './lib/server-process.ts';
import { countPlacements, placement, waitForFreshImage } from './lib/server-checks.ts';
import { ensureWrk } from './lib/load/wrk.ts';
import { runStallBench } from './lib/scenarios/stall.ts';
import { runManySubscribers, runStreamScenarios } from './lib/scenarios/ws-runs.ts';

const harness = new Harness('bench');
const { progress } = harness;

function overrides(env: NodeJS.ProcessEnv): string[] {
  const names = [...KNOBS.map((k) => k.env), 'BENCH_WS_RATES', 'BENCH_SCENARIOS', 'BENCH_RESULTS'];
  return names.filter((n) => env[n] !== undefined && env[n] !== '').map((n) => `${n}=${env[n]}`);
}

async function runServerScenarios(config: BenchConfig, results: BenchResults): Promise<void> {
  const has = (name: Parameters<typeof config.scenarios.has>[0]) => config.scenarios.has(name);
  if (has('image') || has('origin')) results.wrkVersion = ensureWrk(progress);
  const limit = createCpuLimit(config.serverCpu);
  harness.limit = limit;
  results.cpuMethod = limit.method;
  progress(`server CPU limit: ${limit.method}`);
  const tmp = harness.tempDir();
  const dbPath = join(tmp, 'canvas.db');
  // Enough open files for the ws10k and stall subscribers (the default soft limit is often 1,024).
  const openFiles = Math.max(has('ws10k') ? config.wsManySubscribers : 0, has('stall') ? config.stallSubscribers : 0);
  const start = async (args: readonly string[] = []) => {
    const server = await startOurServer(limit, dbPath, { openFiles: openFiles && openFiles + 1024, args });
    const where = placement(server.child.pid);
    progress(`our server: pid ${server.child.pid}, ${server.http}, CPUs ${where.cpus}, in cgroup: ${where.inGroup}`);
    if (where.cpus !== String(config.serverCpu))
      results.notes.push(`server allowed on CPUs ${where.cpus}, expected ${config.serverCpu}`);
    if (limit.cgroupDir && !where.inGroup)
      results.notes.push('server is not in the benchmark cgroup: only taskset applied');
    return server;
  };
  const stop = async (server: ServerUnderTest, why: string) => {
    progress(`stopping our server (SIGTERM: flush, snapshot, close)${why}`);
    const code = await server.child.stop(20_000);
    if (code !== 0) results.notes.push(`server exited with ${code} on SIGTERM: ${server.child.stderr().slice(-500)}`);
    return code;
  };
  let server = await start();
  const health = (await (await fetch(`${server.http}/healthz`)).json()) as { backend?: string };
  results.backend = health.backend ?? 'unknown';

  const swarm = { clients: config.placeClients, window: config.placeWindow, loadCpu: config.loadCpu };
  const acked = () => (results.fill?.swarm.acksTotal ?? 0) + (results.place?.swarm.acksTotal ?? 0) + wsAcks(results);
  // Every scenario but encode and place wants the realistic canvas the fill draws.
  if ((has('image') || has('origin') || has('ws') || has('ws10k') || has('stall')) && config.fillPlacements > 0) {
    progress(`fill: ${config.fillPlacements.toLocaleString('en-US')} synthetic placements over WebSocket`);
    results.fill = await runSwarm(server, limit, { ...swarm, seconds: 60, count: config.fillPlacements }, progress);
    if (!(await waitForFreshImage(server)))
      results.notes.push('could not confirm /image reflects the fill (ETag format changed?); measured anyway');
  }
  if (has('origin')) {
    // The origin servers need the database closed (snapshot current), then ours comes back on it.
    await stop(server, ' to copy the database for the origin scenario');
    results.origin = await runOriginBench(limit, dbPath, tmp, config, progress);
    server = await start();
  }
  if (has('image')) results.image = await runImageBench(server, limit, tmp, config, progress);
  if (has('ws')) results.streams = await runStreamScenarios(server, limit, tmp, config, progress);
  if (has('ws10k')) results.many = await runManySubscribers(server, limit, tmp, config, progress);
  if (has('stall')) {
    // Its own server start: the same database and defaults but a short --stall-ms.
    await stop(server, ` to restart it with --stall-ms ${config.stallMs} for the stall scenario`);
    await new Promise((r) => setTimeout(r, 2000)); // the previous scenarios' sockets leave the kernel's tables
    server = await start(['--stall-ms', String(config.stallMs)]);
    results.stall = await runStallBench(server, config, progress);
    if (has('place')) {
      await stop(server, ' to restart it with the default --stall-ms');
      server = await start();
    }
  }
  if (has('place')) {
    progress(`place: ${config.placeClients} clients x ${config.placeWindow} in flight for ${config.placeSeconds} s`);
    results.place = await runSwarm(server, limit, { ...swarm, seconds: config.placeSeconds, count: 0 }, progress);
  }

  const serverExit = await stop(server, '');
  results.persisted = { rows: countPlacements(dbPath), acked: acked(), serverExit };
}

/** Acks the WebSocket scenarios' placers received (their placements are in the table too). */
function wsAcks(r: BenchResults): number {
  const runs = [
    ...(r.streams ? [...r.streams.runs, ...r.streams.fanout.flatMap((f) => [f.baseline, f.png])] : []),
    ...(r.many ? [r.many.ours] : []),
  ];
  return runs.reduce((sum, w) => sum + (w.swarm.placer?.acks ?? 0), 0) + (r.stall?.placer?.acks ?? 0);
}

async function main(): Promise<void> {
  let config: BenchConfig;
  try {
    config = loadBenchConfig(process.env, join(import.meta.dirname, 'RESULTS.md'), onlyFlag(process.argv.slice(2)));
  } catch (err) {
    if (!(err instanceof BenchConfigError)) throw err;
    process.stderr.write(`bench: ${err.message}\n`);
    process.exit(2);
  }
  harness.limitTo(config.timeoutSeconds, `BENCH_TIMEOUT_SECONDS=${config.timeoutSeconds}`, 1);
  const results: BenchResults = {
    machine: machineInfo(),
    config,
    overrides: [
      ...(onlyFlag(process.argv.slice(2)) ? [`--only=${[...config.scenarios].join(',')}`] : []),
      ...overrides(process.env),
    ],
    cpuMethod: undefined,
    backend: undefined,
    wrkVersion: undefined,
    notes: [],
    elapsedSeconds: 0,
  };
  if (!pinPid(config.loadCpu))
    results.notes.push(`could not pin the harness to CPU ${config.loadCpu} (taskset failed)`);
  progress(
    `scenarios: ${[...config.scenarios].join(', ')}; harness on CPU ${config.loadCpu}, servers on CPU ${config.serverCpu}`,
  );
  try {
    if (config.scenarios.has('encode')) results.encode = await runEncodeBench(config, progress);
    if ([...config.scenarios].some((s) => s !== 'encode')) await runServerScenarios(config, results);
  } finally {
    await harness.cleanup();
  }
  results.elapsedSeconds = harness.elapsed();
  const p = results.persisted;
  if (p && p.rows < p.acked) results.notes.push(`only ${p.rows} placements stored for ${p.acked} acks`);
  process.stdout.write(`\n${consoleSummary(results)}\n\n`);
  writeResults(config.resultsPath, results);
  progress(`wrote ${relative(REPO_ROOT, config.resultsPath)}`);
}

await harness.run(main);
