/** Measurements 2 and 4 of the scale-out benchmark (perf/README.md, "Scale-out"), in the same runs. */
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestRedis } from '../../../testkit/redis.ts';
import type { StartedServer } from '../../../testkit/server-process.ts';
import { PacedPlacer, type PlacerStats } from '../load/paced-placer.ts';
import { parsePrometheus, scrapeMetrics, type MetricsSample } from '../server-metrics.ts';
import {
  type Buckets,
  counter,
  cpuMark,
  cpuShares,
  histogramDiff,
  mergeBuckets,
  RedisInfo,
  type RedisCounters,
  redisDiff,
} from './scale-procs.ts';
import { arrivalDiffs, type LatencySummary, summarise, TickProbe } from './tick-probe.ts';

export interface BusSettings {
  edgeCounts: readonly number[];
  rate: number;
  seconds: number;
  warmupSeconds: number;
}

export interface BusRun {
  edges: number;
  seconds: number;
  ticks: number;
  /** Publishes by the writer (tick, beat, answers) and the edges (requests) in the window. */
  published: Record<string, number>;
  redis: RedisCounters;
  cpu: Record<string, number>;
  /** Edge arrival minus writer arrival per tick, ms: all edges pooled, and per edge. */
  latency: LatencySummary;
  perEdge: LatencySummary[];
  /** Probe sockets that missed a tick (delta gaps) or got a PNG instead of a delta. */
  probeGaps: number;
  lag: Buckets;
  placer: PlacerStats;
  load1: number;
  writerTickMs: number;
}

const PUBLISH_KINDS = ['tick', 'beat', 'answers', 'requests'] as const;

/** Runs the edge counts in order, starting edges as needed; leaves them running. */
export async function runBusBench(
  redis: TestRedis,
  writer: StartedServer,
  edges: StartedServer[],
  startEdge: () => Promise<StartedServer>,
  s: BusSettings,
  progress: (msg: string) => void,
): Promise<BusRun[]> {
  const runs: BusRun[] = [];
  const info = new RedisInfo(redis.url);
  try {
    for (const n of s.edgeCounts) {
      while (edges.length < n) edges.push(await startEdge());
      const active = edges.slice(0, n);
      progress(`bus: ${n} edge(s) (pids ${active.map((e) => e.pid).join(', ')}), ${s.rate} px/s through edge 1`);
      runs.push(await busRun(redis, writer, active, info, s, progress));
    }
  } finally {
    await info.close();
  }
  return runs;
}

async function busRun(
  redis: TestRedis,
  writer: StartedServer,
  edges: StartedServer[],
  info: RedisInfo,
  s: BusSettings,
  progress: (msg: string) => void,
): Promise<BusRun> {
  const first = edges[0] as StartedServer;
  const placer = new PacedPlacer(first.ws, s.rate, 11 + edges.length, s.seconds + s.warmupSeconds + 60);
  const writerProbe = new TickProbe('writer', writer.ws);
  const edgeProbes = edges.map((e, i) => new TickProbe(`edge ${i + 1}`, e.ws));
  const probes = [writerProbe, ...edgeProbes];
  try {
    await Promise.all([placer.ready, ...probes.map((p) => p.ready)]);
    placer.start();
    await sleep(s.warmupSeconds * 1000);
    const pids: Record<string, number> = { redis: redis.child.pid, writer: writer.pid };
    for (const [i, e] of edges.entries()) pids[`edge ${i + 1}`] = e.pid;
    const http = [writer.http, ...edges.map((e) => e.http)];
    const scrape = () => Promise.all(http.map((h) => scrapeMetrics(h).catch(() => parsePrometheus(''))));
    const [m0, r0] = await Promise.all([scrape(), info.read()]);
    const c0 = cpuMark(pids);
    for (const p of probes) p.measuring = true;
    placer.measuring = true;
    const t0 = performance.now();
    for (let i = 0; i < s.seconds; i++) {
      await sleep(1000);
      if ((i + 1) % 10 === 0) progress(`  bus: ${i + 1}/${s.seconds} s`);
    }
    const c1 = cpuMark(pids);
    const [m1, r1] = await Promise.all([scrape(), info.read()]);
    const seconds = (performance.now() - t0) / 1000;
    placer.measuring = false;
    for (const p of probes) p.measuring = false;
    await sleep(1500); // the last tick of the window reaches every probe
    const perEdgeDiffs = edgeProbes.map((p) => arrivalDiffs(writerProbe, p));
    const redisCounters = redisDiff(r0, r1);
    // This process's own INFO calls (two per read) are not bus traffic.
    redisCounters.commands -= 2;
    const diff = (i: number, key: string) =>
      counter(m1[i] as MetricsSample, key) - counter(m0[i] as MetricsSample, key);
    const published: Record<string, number> = {};
    for (const kind of PUBLISH_KINDS)
      published[kind] = http.reduce((t, _, i) => t + diff(i, `canvas_bus_published_total{kind="${kind}"}`), 0);
    const lag = mergeBuckets(
      edges.map((_, i) =>
        histogramDiff(m0[i + 1] as MetricsSample, m1[i + 1] as MetricsSample, 'canvas_bus_lag_seconds'),
      ),
    );
    const run: BusRun = {
      edges: edges.length,
      seconds,
      ticks: published.tick ?? 0,
      published,
      redis: redisCounters,
      cpu: cpuShares(c0, c1),
      latency: summarise(perEdgeDiffs.flat()),
      perEdge: perEdgeDiffs.map(summarise),
      probeGaps: probes.reduce((t, p) => t + p.gaps + p.pngFrames, 0),
      lag,
      placer: placer.stats(),
      load1: loadavg()[0] as number,
      writerTickMs: (diff(0, 'canvas_tick_seconds_sum') / diff(0, 'canvas_tick_seconds_count')) * 1000,
    };
    progress(
      `bus: ${edges.length} edge(s): ${run.ticks} ticks, redis CPU ${Math.round((run.cpu.redis ?? NaN) * 100)}%, ` +
        `${(run.redis.commands / run.ticks).toFixed(1)} commands/tick, tick -> edge p50 ` +
        `${run.latency.p50.toFixed(1)} ms, p99 ${run.latency.p99.toFixed(1)} ms (${run.latency.samples} samples)`,
    );
    return run;
  } finally {
    placer.close();
    for (const p of probes) p.close();
  }
}
