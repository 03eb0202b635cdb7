/** Measurement 1 of the scale-out benchmark (perf/README.md, "Scale-out"), against a standalone server for the ratio. */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startEdge, startWriter } from '../../../testkit/cluster.ts';
import { startRedis } from '../../../testkit/redis.ts';
import { loopbackArgs, type StartedServer, startServer } from '../../../testkit/server-process.ts';
import { countPlacements } from '../server-checks.ts';
import { parsePrometheus, scrapeMetrics, type MetricsSample } from '../server-metrics.ts';
import { type MultiSwarm, runSwarms, type SwarmTarget } from '../scenarios/place.ts';
import {
  counter,
  cpuMark,
  type CpuMark,
  cpuShares,
  RedisInfo,
  type RedisCounters,
  redisDiff,
  withFiles,
} from './scale-procs.ts';

export interface PlaceSettings {
  seconds: number;
  clientsPerSwarm: number;
  window: number;
  /** A second cluster pass with this many in flight per client (0: none): is it latency-bound? */
  bigWindow: number;
}

export interface PlaceSide {
  swarm: MultiSwarm;
  load1: number;
  cpu: Record<string, number>;
  /** Rows in the placements table after a clean stop, and acks received in total. */
  rows: number;
  acksTotal: number;
}

export interface ClusterPlace extends PlaceSide {
  redis: RedisCounters;
  /** Over the whole pass (connect to close): requests forwarded by the edges, batches the writer received, answer messages. */
  forwarded: number;
  requestBatches: number;
  answerMessages: number;
}

export interface PlaceResult {
  settings: PlaceSettings;
  standalone: PlaceSide;
  cluster: ClusterPlace;
  clusterBig: ClusterPlace | undefined;
}

const targets = (urls: readonly string[], s: PlaceSettings, window = s.window): SwarmTarget[] =>
  [0, 1].map((cpu) => ({ url: urls[cpu % urls.length] as string, cpu, clients: s.clientsPerSwarm, window }));

const acksTotal = (m: MultiSwarm) => m.results.reduce((sum, r) => sum + r.acksTotal, 0);

export async function runPlaceBench(
  tmp: string,
  s: PlaceSettings,
  progress: (msg: string) => void,
): Promise<PlaceResult> {
  // Standalone first: one process, embedded SQLite.
  const standaloneDb = join(tmp, 'standalone.db');
  const standalone = await startServer({
    name: 'standalone',
    args: loopbackArgs(standaloneDb, { 'cooldown-ms': 0 }),
    wrap: withFiles(4096),
  });
  progress(
    `placements: standalone server pid ${standalone.pid}, ${s.seconds} s of 2 swarms x ${s.clientsPerSwarm} x ${s.window}`,
  );
  let a: CpuMark | undefined;
  let b: CpuMark | undefined;
  const pidsA = { standalone: standalone.pid };
  const alone = await runSwarms(
    targets([standalone.ws], s),
    { seconds: s.seconds },
    { onStart: () => (a = cpuMark(pidsA)), onEnd: () => (b = cpuMark(pidsA)), progress },
  );
  const aloneCpu = a && b ? cpuShares(a, b) : {};
  await standalone.stop();
  const standaloneSide: PlaceSide = {
    swarm: alone,
    load1: loadavg()[0] as number,
    cpu: aloneCpu,
    rows: countPlacements(standaloneDb),
    acksTotal: acksTotal(alone),
  };
  progress(`placements: standalone ${Math.round(alone.acksPerSec).toLocaleString('en-US')} acks/s`);

  // Then writer + two edges + Redis, each swarm on its own edge.
  const redis = await startRedis();
  const writerDb = join(tmp, 'writer-place.db');
  const writer = await startWriter(redis.url, writerDb, { 'cooldown-ms': 0 }, withFiles(4096));
  const edges = [await startEdge(redis.url, {}, withFiles(4096)), await startEdge(redis.url, {}, withFiles(4096))];
  const info = new RedisInfo(redis.url);
  const pids: Record<string, number> = { writer: writer.pid, redis: redis.child.pid };
  for (const [i, e] of edges.entries()) pids[`edge ${i + 1}`] = e.pid;
  progress(`placements: writer ${writer.pid}, edges ${edges.map((e) => e.pid).join(', ')}, redis ${redis.child.pid}`);
  const pass = (window: number) => clusterPass(writer.http, edges, pids, info, s, window, progress);
  const cluster = await pass(s.window);
  progress(`placements: through 2 edges ${Math.round(cluster.swarm.acksPerSec).toLocaleString('en-US')} acks/s`);
  const clusterBig = s.bigWindow > 0 ? await pass(s.bigWindow) : undefined;
  if (clusterBig)
    progress(
      `placements: ${s.bigWindow} in flight per client: ${Math.round(clusterBig.swarm.acksPerSec).toLocaleString('en-US')} acks/s`,
    );
  await info.close();
  for (const e of edges) await e.stop();
  await writer.stop();
  await redis.stop();
  // Rows and acks of both passes together: every ack of either must be stored.
  cluster.rows = countPlacements(writerDb);
  cluster.acksTotal += clusterBig?.acksTotal ?? 0;
  return { settings: s, standalone: standaloneSide, cluster, clusterBig };
}

async function clusterPass(
  writerHttp: string,
  edges: readonly StartedServer[],
  pids: Record<string, number>,
  info: RedisInfo,
  s: PlaceSettings,
  window: number,
  progress: (msg: string) => void,
): Promise<ClusterPlace> {
  const http = [writerHttp, ...edges.map((e) => e.http)];
  const scrapeAll = () => Promise.all(http.map((h) => scrapeMetrics(h).catch(() => parsePrometheus(''))));
  let a: CpuMark | undefined;
  let b: CpuMark | undefined;
  // Bus counters around the whole pass (every placement answered by its end), not the window: a
  // scrape sent to a flooded edge is answered late, which would blur a window's edges.
  const [r0, m0] = await Promise.all([info.read(), scrapeAll()]);
  const swarm = await runSwarms(
    targets(
      edges.map((e) => e.ws),
      s,
      window,
    ),
    { seconds: s.seconds },
    { onStart: () => (a = cpuMark(pids)), onEnd: () => (b = cpuMark(pids)), progress },
  );
  const [r1, m1] = await Promise.all([info.read(), scrapeAll()]);
  const sum = (m: MetricsSample[], key: string, from = 0) => m.slice(from).reduce((t, x) => t + counter(x, key), 0);
  const between = (key: string, from = 0) => sum(m1, key, from) - sum(m0, key, from);
  const atWriter = (key: string) => between(key) - between(key, 1);
  const cluster: ClusterPlace = {
    swarm,
    load1: loadavg()[0] as number,
    cpu: a && b ? cpuShares(a, b) : {},
    rows: 0,
    acksTotal: acksTotal(swarm),
    redis: redisDiff(r0, r1),
    forwarded: between('canvas_bus_forwarded_total{kind="place"}', 1),
    requestBatches: atWriter('canvas_bus_request_batches_total'),
    answerMessages: atWriter('canvas_bus_published_total{kind="answers"}'),
  };
  return cluster;
}
