/**
 * `npm run bench:scale`: the scale-out benchmark (docs/SCALING.md; what it measures: perf/README.md,
 * "Scale-out"): one writer, edges and a real redis-server on this machine; writes the "Scale-out"
 * section of perf/RESULTS.md (SCALE_RECORD=0 only prints it).
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../testkit/redis.ts';
import type { StartedServer } from '../testkit/server-process.ts';
import { createCpuLimit, pinPid } from './lib/cpu-limit.ts';
import { Harness } from './lib/harness.ts';
import { machineInfo } from './lib/machine-info.ts';
import { runSwarms } from './lib/scenarios/place.ts';
import { recordScaleResults, type ScaleResults, scaleMarkdown } from './lib/scale/report.ts';
import { runBusBench } from './lib/scale/scale-bus.ts';
import { runEdgeCapacity } from './lib/scale/scale-edge.ts';
import { runPlaceBench } from './lib/scale/scale-place.ts';
import { startEdge, startWriter } from '../testkit/cluster.ts';
import { pinTo, withFiles } from './lib/scale/scale-procs.ts';

const env = process.env;
const int = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
const list = (name: string, fallback: number[]) =>
  env[name] ? (env[name] as string).split(',').map((v) => Number(v.trim())) : fallback;

const SETTINGS = {
  place: {
    seconds: int('SCALE_PLACE_SECONDS', 10),
    clientsPerSwarm: int('SCALE_PLACE_CLIENTS', 8),
    window: int('SCALE_PLACE_WINDOW', 64),
    bigWindow: int('SCALE_PLACE_BIG_WINDOW', 256),
  },
  fill: int('SCALE_FILL', 400_000),
  bus: {
    edgeCounts: list('SCALE_EDGES', [1, 2, 4]),
    rate: int('SCALE_RATE', 1000),
    seconds: int('SCALE_BUS_SECONDS', 30),
    warmupSeconds: 3,
  },
  edge: {
    rate: int('SCALE_RATE', 1000),
    tickMs: 1000,
    seconds: int('SCALE_WS_SECONDS', 8),
    warmupSeconds: 2,
    delta: list('SCALE_DELTA_STEPS', [1000, 2000, 4000, 8000, 16_000]),
    png: list('SCALE_PNG_STEPS', [250, 500, 1000, 2000, 4000]),
    loadCpu: 1,
  },
};
const TIMEOUT_S = int('SCALE_TIMEOUT_SECONDS', 900);
/** Edges, writer and Redis: the edges under test on this CPU, everything else on LOAD_CPU. */
const EDGE_CPU = 0;
const LOAD_CPU = 1;

const harness = new Harness('scale');
const { progress } = harness;
harness.limitTo(TIMEOUT_S, `${TIMEOUT_S} s (SCALE_TIMEOUT_SECONDS)`, 3);

async function main(): Promise<ScaleResults> {
  const machine = machineInfo();
  const load1AtStart = loadavg()[0] as number;
  const tmp = harness.tempDir();
  pinPid(LOAD_CPU);

  // 1. Placements: nothing pinned but the two swarms (one per CPU).
  const place = await runPlaceBench(tmp, SETTINGS.place, progress);

  // 2-4: a fresh Redis and writer on the load CPU, the canvas filled with synthetic artwork first
  // (the PNG stream's frames are then a realistic size, as in `npm run bench`).
  const redis = await startRedis();
  pinPid(LOAD_CPU, redis.child.pid);
  const writer = await startWriter(
    redis.url,
    join(tmp, 'writer.db'),
    { 'cooldown-ms': 0 },
    withFiles(4096, pinTo(LOAD_CPU)),
  );
  progress(`bus: redis ${redis.child.pid} and writer ${writer.pid} on CPU ${LOAD_CPU}`);
  if (SETTINGS.fill > 0) {
    progress(`fill: ${SETTINGS.fill.toLocaleString('en-US')} synthetic placements on the writer`);
    await runSwarms(
      [{ url: writer.ws, cpu: EDGE_CPU, clients: 16, window: 64 }],
      { seconds: 60, fillCount: SETTINGS.fill },
      { onStart: () => {}, onEnd: () => {}, progress },
    );
  }
  const edges: StartedServer[] = [];
  const bus = await runBusBench(
    redis,
    writer,
    edges,
    () => startEdge(redis.url, {}, withFiles(4096, pinTo(EDGE_CPU))),
    SETTINGS.bus,
    progress,
  );
  for (const e of edges) await e.stop();
  const pngBytes = (await (await fetch(`${writer.http}/image`)).arrayBuffer()).byteLength;

  // 3. One edge alone on CPU 0 under the bench's CPU limit; writer, Redis and the swarm on CPU 1.
  const limit = createCpuLimit(EDGE_CPU);
  harness.limit = limit;
  const maxSubscribers = Math.max(...SETTINGS.edge.delta, ...SETTINGS.edge.png);
  const edge = await startEdge(
    redis.url,
    {},
    withFiles(maxSubscribers + 1024, (command) => {
      const { file, args } = limit.wrap(command);
      return [file, ...args];
    }),
  );
  progress(`edge capacity: edge ${edge.pid} limited by ${limit.method}`);
  const capacity = await runEdgeCapacity(edge, SETTINGS.edge, progress);
  await edge.stop();
  await writer.stop();
  await redis.stop();
  return {
    machine,
    load1: [load1AtStart, loadavg()[0] as number],
    seconds: harness.elapsed(),
    settings: SETTINGS,
    cpuMethod: limit.method,
    pngBytes,
    place,
    bus,
    capacity,
  };
}

await harness.run(async () => {
  const markdown = scaleMarkdown(await main());
  process.stdout.write(`\n${markdown.join('\n')}\n`);
  if (env.SCALE_RECORD !== '0') progress(`figures written to ${recordScaleResults(markdown)}`);
});
