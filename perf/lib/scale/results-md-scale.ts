/**
 * The "Scale-out" section of perf/RESULTS.md, written by perf/scale.ts between
 * `<!-- scale:start -->` and `<!-- scale:end -->` (replaced on every run, appended the first time;
 * everything outside the markers is kept).
 */
import { join } from 'node:path';
import { REPO_ROOT } from '../../../testkit/paths.ts';
import { n0, n1, n2, pct } from '../../../testkit/format.ts';
import type { MachineInfo } from '../machine-info.ts';
import { worstLatency } from './place-load.ts';
import { capacitySection, cpuList, lagCell, ms, verdict } from './results-md-parts.ts';
import { mdTable as table, writeSection } from '../../../testkit/report.ts';
import type { BusRun, BusSettings } from './scale-bus.ts';
import type { EdgeSettings, EdgeStep } from './scale-edge.ts';
import type { PlaceResult, PlaceSettings, PlaceSide } from './scale-place.ts';
import { type Buckets, bucketQuantile, shareAtOrBelow } from './scale-procs.ts';

export interface ScaleResults {
  machine: MachineInfo;
  /** 1-minute load average at the start and end of the run. */
  load1: [number, number];
  seconds: number;
  settings: { place: PlaceSettings; fill: number; bus: BusSettings; edge: EdgeSettings };
  cpuMethod: string;
  pngBytes: number;
  place: PlaceResult;
  bus: BusRun[];
  capacity: EdgeStep[];
}

const PLACE_BUDGET = 20_000;
const LATENCY_BUDGET_MS = 50;

function placeRow(name: string, side: PlaceSide): string[] {
  const l = worstLatency(side.swarm);
  const errs = side.swarm.results.flatMap((r) => Object.entries(r.errors).map(([c, n]) => `${c} ${n}`));
  const lost = side.swarm.results.reduce((s, r) => s + r.unanswered + r.closes, 0);
  return [
    name,
    n0(side.swarm.acksPerSec),
    side.swarm.results.map((r) => n0(r.acksPerSec)).join(' + '),
    `${n1(l.p50)} / ${n1(l.p90)} / ${n1(l.p99)} / ${n1(l.max)}`,
    errs.length ? errs.join(', ') : 'none',
    n0(lost),
    cpuList(side.cpu),
    side.swarm.results.map((r) => pct(r.cpuShare)).join(' + '),
    n1(side.load1),
  ];
}

function placeSection(r: ScaleResults): string[] {
  const { place } = r;
  const c = place.cluster;
  const s = place.settings;
  const ratio = c.swarm.acksPerSec / place.standalone.swarm.acksPerSec;
  const perK = (n: number) => n2((n / c.forwarded) * 1000);
  return [
    '### 1. Placements acknowledged through two edges and Redis',
    '',
    `Two perf/lib/load/place-swarm.ts processes, one pinned to each CPU, each ${s.clientsPerSwarm} WebSocket clients x ${s.window} placements in flight (random pixels, \`--cooldown-ms 0\`), ${s.seconds} s; first both against one standalone server, then each against its own edge (writer + 2 edges + redis-server). Servers are not pinned: the writer, both edges, Redis and both swarms share the two CPUs. Latency: the slower swarm's percentiles. CPU: each process's CPU time over the window / wall time (100% = one CPU). Load avg: the 1-minute load average at the window's end (2 CPUs: above 2, other processes on the machine were waiting for a CPU too).`,
    '',
    ...table(
      'setup | acks/s | per swarm | ack latency p50 / p90 / p99 / max ms | errors | unanswered + closes | server CPU | swarm CPU | load avg',
      [
        placeRow(`standalone, ${s.window} in flight per client`, place.standalone),
        placeRow(`writer + 2 edges + Redis, ${s.window} in flight per client`, c),
        ...(place.clusterBig
          ? [placeRow(`writer + 2 edges + Redis, ${s.bigWindow} in flight per client`, place.clusterBig)]
          : []),
      ],
    ),
    '',
    `Through the edges: ${n2(ratio)}x the standalone rate with the same load in the same run. Persisted (placements table after a clean stop vs every ack received, all passes): standalone ${n0(place.standalone.rows)} rows / ${n0(place.standalone.acksTotal)} acks, writer ${n0(c.rows)} rows / ${n0(c.acksTotal)} acks. Bus traffic of that pass (all its placements, from connect to close): ${n0(c.forwarded)} placements forwarded in ${n0(c.requestBatches)} request batches (${n1(c.forwarded / c.requestBatches)} per batch) and answered in ${n0(c.answerMessages)} answer messages (${n1(c.forwarded / c.answerMessages)} per message); Redis processed ${perK(c.redis.commands)} commands and sent ${n0((c.redis.netOutputBytes / c.forwarded) * 1000)} bytes per 1,000 placements.`,
    '',
  ];
}

function busSection(r: ScaleResults): string[] {
  const s = r.settings.bus;
  const latencyRows = r.bus.map((b) => [
    String(b.edges),
    n0(b.ticks),
    n0(b.latency.samples),
    n1(b.latency.p50),
    n1(b.latency.p99),
    n1(b.latency.max),
    n0(b.latency.over50),
    b.perEdge.map((e) => n1(e.p99)).join(', '),
    n1(b.writerTickMs),
    lagCell(b.lag),
    n0(b.probeGaps),
    n1(b.load1),
  ]);
  const redisRows = r.bus.map((b) => {
    const per = (n: number) => n1(n / b.ticks);
    const cmds = Object.entries(b.redis.byCommand)
      .filter(([name]) => name !== 'info')
      .map(([name, n]) => `${name} ${per(n)}`)
      .join(', ');
    const edgesCpu = Object.entries(b.cpu)
      .filter(([k]) => k.startsWith('edge'))
      .map(([, v]) => pct(v))
      .join(', ');
    return [
      String(b.edges),
      n0(b.ticks),
      pct(b.cpu.redis ?? NaN),
      n2(((b.cpu.redis ?? NaN) * b.seconds * 1000) / b.ticks),
      per(b.redis.commands),
      cmds,
      ['tick', 'beat', 'answers', 'requests'].map((k) => `${k} ${per(b.published[k] ?? 0)}`).join(', '),
      n1(b.redis.netInputBytes / b.ticks / 1024),
      n1(b.redis.netOutputBytes / b.ticks / 1024),
      pct(b.cpu.writer ?? NaN),
      edgesCpu,
      `${n0(b.placer.windowAcks)}, ${n1(b.placer.ackMs.p50)} / ${n1(b.placer.ackMs.p99)}`,
    ];
  });
  return [
    '### 2. Writer tick -> edge subscriber latency',
    '',
    `Writer (\`--tick-ms 1000\`) and redis-server pinned to CPU 1 with this harness; edges pinned to CPU 0 (all edges of a run share it). ${n0(s.rate)} px/s placed through edge 1 by perf/lib/load/paced-placer.ts (forwarded over Redis). One delta subscriber on the writer and one on each edge, all in the harness process: per tick (same toSeq) the edge socket's arrival minus the writer socket's arrival, ${s.seconds} s per run, pooled over the run's edges. This is what the bus adds to a direct subscriber (writer publish -> Redis -> edge decode and fan-out); the writer's encode is before both. Second view: the edges' \`canvas_bus_lag_seconds\` histogram over the window (writer publish -> edge fan-out start, two processes' wall clocks; bucket upper bounds). The writer's own tick before it (packing and PNG encode, on the writer's busy CPU) is the writer's mean \`canvas_tick_seconds\`, shown for reference: a subscriber of the writer waits for it as much as one of an edge.`,
    '',
    ...table(
      'edges | ticks | samples | p50 ms | p99 ms | max ms | samples > 50 ms | p99 per edge ms | writer tick, capture -> published, mean ms | canvas_bus_lag_seconds (edges) | probe gaps | load avg',
      latencyRows,
    ),
    '',
    `With one sample per tick and edge, p99 of fewer than 100 samples is the largest but one or the largest.`,
    '',
    '### 4. Redis CPU and traffic per tick with 1, 2 and 4 edges',
    '',
    `The same runs. Redis CPU from /proc/<redis-server pid>/stat over the window; commands and bytes from INFO stats / commandstats differences (the harness's own INFO calls removed); publishes per tick from the processes' \`canvas_bus_published_total\` (writer: tick, beat, answers; edges: requests). The placements (${n0(s.rate)} px/s through edge 1) are most of the commands: Redis load is ticks x edges plus placement batches, never subscribers.`,
    '',
    ...table(
      'edges | ticks | Redis CPU | Redis CPU ms/tick | commands/tick | by command, per tick | publishes/tick by kind | Redis in KiB/tick | Redis out KiB/tick | writer CPU | edge CPU | placer acks, ack p50 / p99 ms',
      redisRows,
    ),
    '',
  ];
}

/** The second view: the edges' own bus-lag histogram (writer publish -> edge fan-out start). */
function lagBudgetRow(bus: readonly BusRun[]): string[] {
  const first = bus[0]?.lag;
  const lag: Buckets = {
    le: first?.le ?? [],
    counts: (first?.le ?? []).map((_, i) => bus.reduce((t, b) => t + (b.lag.counts[i] ?? 0), 0)),
    total: bus.reduce((t, b) => t + b.lag.total, 0),
  };
  const tick = bus.map((b) => b.writerTickMs);
  const p99 = bucketQuantile(lag, 0.99);
  return [
    "writer publish -> edge fan-out start (edges' canvas_bus_lag_seconds, all runs above)",
    `<= ${LATENCY_BUDGET_MS} ms`,
    `p50 ${ms(bucketQuantile(lag, 0.5))}, p99 ${ms(p99)} (bucket bounds), ${pct(shareAtOrBelow(lag, 0.05))} <= 50 ms; ` +
      `writer's own tick (capture -> published) mean ${n1(Math.min(...tick))}-${n1(Math.max(...tick))} ms`,
    verdict(p99 <= LATENCY_BUDGET_MS / 1000),
  ];
}

export function scaleMarkdown(r: ScaleResults): string[] {
  const m = r.machine;
  const c = r.place.cluster;
  const budgetRows = [
    [
      'placements acknowledged per second through two edges and Redis',
      `>= ${n0(PLACE_BUDGET)}/s`,
      `${n0(c.swarm.acksPerSec)}/s`,
      verdict(c.swarm.acksPerSec >= PLACE_BUDGET),
    ],
    ...r.bus.map((b) => [
      `writer tick -> edge subscriber p99, ${b.edges} edge(s) on one CPU, ${n0(r.settings.bus.rate)} px/s`,
      `<= ${LATENCY_BUDGET_MS} ms`,
      `${n1(b.latency.p99)} ms (p50 ${n1(b.latency.p50)}, ${b.latency.samples} samples)`,
      verdict(b.latency.p99 <= LATENCY_BUDGET_MS),
    ]),
    lagBudgetRow(r.bus),
  ];
  return [
    '## Scale-out: writer, edges and Redis (`npm run bench:scale`)',
    '',
    '_Generated by `npm run bench:scale` (perf/scale.ts); this section is overwritten on every run._',
    '',
    `- Date: ${m.date} (run took ${n0(r.seconds)} s)`,
    '- Command: `npm run bench:scale` (settings: perf/scale.ts, SETTINGS)',
    `- Machine: ${m.nproc} CPUs (nproc), ${m.cpuModel}, ${n1(m.memoryGiB)} GiB memory, Linux ${m.kernel}; shared with other engineers' work and noisy. **Everything runs on this one machine**: the writer, the edges, redis-server and the load generators compete for the same 2 CPUs, so these are figures of a cramped single host, not of a deployment where each edge has its own cores; compare within the run.`,
    `- Load: 1-minute load average ${n1(r.load1[0])} at the start, ${n1(r.load1[1])} at the end (2 CPUs); each table has it per run`,
    `- Code measured: ${m.revision}; Node ${m.node}; redis-server from Debian (testkit/redis.ts: loopback, no persistence)`,
    '',
    ...table('budget (docs/ARCHITECTURE.md, "Performance budgets") | target | measured | verdict', budgetRows),
    '',
    ...placeSection(r),
    ...busSection(r),
    ...capacitySection(r),
  ];
}

/** Replaces (or appends) the scale section of perf/RESULTS.md; returns the path. */
export function recordScaleResults(lines: readonly string[]): string {
  const path = join(REPO_ROOT, 'perf', 'RESULTS.md');
  writeSection(path, 'scale', lines);
  return path;
}
