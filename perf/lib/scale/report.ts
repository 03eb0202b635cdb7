/** The "Scale-out" section of perf/RESULTS.md: the budget rows and each measurement's figures as parts. */
import { join } from 'node:path';
import { REPO_ROOT } from '../../../testkit/paths.ts';
import { n0, n1, n2, pct } from '../../../testkit/format.ts';
import { mdTable, type Part, renderParts, writeSection } from '../../../testkit/report.ts';
import { type Budget, budget, budgetCells } from '../budgets.ts';
import type { MachineInfo } from '../machine-info.ts';
import { worstLatency } from '../scenarios/place.ts';
import type { BusRun, BusSettings } from './scale-bus.ts';
import type { EdgeSettings, EdgeStep } from './scale-edge.ts';
import type { PlaceResult, PlaceSettings, PlaceSide } from './scale-place.ts';
import { type Buckets, bucketQuantile, mergeBuckets, shareAtOrBelow } from './scale-procs.ts';

export interface ScaleResults {
  machine: MachineInfo;
  load1: [number, number];
  seconds: number;
  settings: { place: PlaceSettings; fill: number; bus: BusSettings; edge: EdgeSettings };
  cpuMethod: string;
  pngBytes: number;
  place: PlaceResult;
  bus: BusRun[];
  capacity: EdgeStep[];
}

const cpuList = (cpu: Record<string, number>) =>
  Object.entries(cpu)
    .map(([name, share]) => `${name} ${pct(share)}`)
    .join(', ');
const ms = (seconds: number) => (Number.isFinite(seconds) ? `<= ${n0(seconds * 1000)} ms` : '> 5 s');
const lagCell = (h: Buckets | undefined) =>
  h && h.total > 0
    ? `p50 ${ms(bucketQuantile(h, 0.5))}, p99 ${ms(bucketQuantile(h, 0.99))}, ${pct(shareAtOrBelow(h, 0.05))} <= 50 ms (${n0(h.total)})`
    : 'n/a';
const LOAD_AVG = 'Load avg: the 1-minute load average at the end (2 CPUs: above 2, other processes waited for a CPU).';

function placeRow(name: string, side: PlaceSide): string[] {
  const l = worstLatency(side.swarm);
  const results = side.swarm.results;
  const errs = results.flatMap((r) => Object.entries(r.errors).map(([c, n]) => `${c} ${n}`));
  return [
    name,
    n0(side.swarm.acksPerSec),
    results.map((r) => n0(r.acksPerSec)).join(' + '),
    [l.p50, l.p90, l.p99, l.max].map(n1).join(' / '),
    errs.length ? errs.join(', ') : 'none',
    n0(results.reduce((s, r) => s + r.unanswered + r.closes, 0)),
    cpuList(side.cpu),
    results.map((r) => pct(r.cpuShare)).join(' + '),
    n1(side.load1),
  ];
}

function placePart(r: ScaleResults): Part {
  const { place } = r;
  const c = place.cluster;
  const s = place.settings;
  const perK = (n: number) => n0((n / c.forwarded) * 1000);
  const rows = [
    placeRow(`standalone, ${s.window} in flight per client`, place.standalone),
    placeRow(`writer + 2 edges + Redis, ${s.window} in flight per client`, c),
  ];
  if (place.clusterBig)
    rows.push(placeRow(`writer + 2 edges + Redis, ${s.bigWindow} in flight per client`, place.clusterBig));
  return {
    title: '1. Placements acknowledged through two edges and Redis',
    text: [
      `Two place swarms, one per CPU, each ${s.clientsPerSwarm} clients x ${s.window} in flight, ${s.seconds} s ` +
        `(perf/README.md, "Scale-out"). Latency: the slower swarm's percentiles. ${LOAD_AVG}`,
    ],
    head: 'setup | acks/s | per swarm | ack latency p50 / p90 / p99 / max ms | errors | unanswered + closes | server CPU | swarm CPU | load avg',
    rows,
    after: [
      `Through the edges: ${n2(c.swarm.acksPerSec / place.standalone.swarm.acksPerSec)}x the standalone rate. ` +
        `Persisted (rows after a clean stop / acks): standalone ${n0(place.standalone.rows)} / ${n0(place.standalone.acksTotal)}, ` +
        `writer ${n0(c.rows)} / ${n0(c.acksTotal)}. Bus: ${n0(c.forwarded)} placements forwarded in ${n0(c.requestBatches)} ` +
        `request batches (${n1(c.forwarded / c.requestBatches)} per batch), answered in ${n0(c.answerMessages)} messages ` +
        `(${n1(c.forwarded / c.answerMessages)} per message); Redis: ${perK(c.redis.commands)} commands and ` +
        `${perK(c.redis.netOutputBytes)} bytes out per 1,000 placements.`,
    ],
  };
}

function busParts(r: ScaleResults): Part[] {
  const s = r.settings.bus;
  const per = (b: BusRun, n: number) => n1(n / b.ticks);
  return [
    {
      title: '2. Writer tick -> edge subscriber latency',
      text: [
        `${n0(s.rate)} px/s placed through edge 1; per tick, an edge subscriber's arrival minus the writer's, ` +
          `${s.seconds} s per run, pooled over the edges (perf/README.md, "Scale-out"). ${LOAD_AVG}`,
      ],
      head:
        'edges | ticks | samples | p50 ms | p99 ms | max ms | samples > 50 ms | p99 per edge ms | writer tick, capture -> published, mean ms | ' +
        'canvas_bus_lag_seconds (edges) | probe gaps | load avg',
      rows: r.bus.map((b) => [
        String(b.edges),
        n0(b.ticks),
        n0(b.latency.samples),
        ...[b.latency.p50, b.latency.p99, b.latency.max].map(n1),
        n0(b.latency.over50),
        b.perEdge.map((e) => n1(e.p99)).join(', '),
        n1(b.writerTickMs),
        lagCell(b.lag),
        n0(b.probeGaps),
        n1(b.load1),
      ]),
    },
    {
      title: '4. Redis CPU and traffic per tick with 1, 2 and 4 edges',
      text: ['The same runs: Redis CPU from /proc, commands and bytes from INFO, publishes from /metrics.'],
      head:
        'edges | ticks | Redis CPU | Redis CPU ms/tick | commands/tick | by command, per tick | publishes/tick by kind | ' +
        'Redis in KiB/tick | Redis out KiB/tick | writer CPU | edge CPU | placer acks, ack p50 / p99 ms',
      rows: r.bus.map((b) => [
        String(b.edges),
        n0(b.ticks),
        pct(b.cpu.redis ?? NaN),
        n2(((b.cpu.redis ?? NaN) * b.seconds * 1000) / b.ticks),
        per(b, b.redis.commands),
        Object.entries(b.redis.byCommand)
          .filter(([name]) => name !== 'info')
          .map(([name, n]) => `${name} ${per(b, n)}`)
          .join(', '),
        ['tick', 'beat', 'answers', 'requests'].map((k) => `${k} ${per(b, b.published[k] ?? 0)}`).join(', '),
        n1(b.redis.netInputBytes / b.ticks / 1024),
        n1(b.redis.netOutputBytes / b.ticks / 1024),
        pct(b.cpu.writer ?? NaN),
        Object.entries(b.cpu)
          .filter(([k]) => k.startsWith('edge'))
          .map(([, v]) => pct(v))
          .join(', '),
        `${n0(b.placer.windowAcks)}, ${n1(b.placer.ackMs.p50)} / ${n1(b.placer.ackMs.p99)}`,
      ]),
    },
  ];
}

function capacityPart(r: ScaleResults): Part {
  const s = r.settings.edge;
  const best = (stream: string) =>
    Math.max(0, ...r.capacity.filter((c) => c.stream === stream && c.onTime).map((c) => c.subscribers));
  return {
    title: '3. Subscribers one edge core holds at 1,000 px/s with every tick on time',
    text: [
      `One edge on CPU 0 (${r.cpuMethod}), ${n0(s.rate)} px/s through it; each step ${s.warmupSeconds} s warm-up, ` +
        `${s.seconds} s of whole ticks; canvas of ${n0(r.settings.fill)} placements plus the bus runs' ` +
        `(PNG ~${n0(r.pngBytes)} bytes) (perf/README.md, "Scale-out").`,
    ],
    head:
      'stream | subscribers | ready | ticks | frames / expected | delta gaps / closes | spread p50 / p99 / max ms | ' +
      'visible p50 / p99 ms | bytes per client per tick | edge CPU (peak RSS) | swarm CPU | ' +
      'edge canvas_bus_lag_seconds (whole step) | load avg | every tick on time',
    rows: r.capacity.map((c) => {
      const sw = c.run?.swarm;
      if (!c.run || !sw) return [c.stream, n0(c.subscribers), `failed: ${c.error ?? '?'}`, ...Array(10).fill(''), 'no'];
      return [
        c.stream,
        n0(c.subscribers),
        `${n0(sw.ready)}${sw.failed ? ` (${sw.failed} failed)` : ''}`,
        n0(sw.ticks),
        `${n0(sw.frames)} / ${n0(sw.expectedFrames)} (${(c.delivered * 100).toFixed(1)}%)`,
        `${n0(sw.deltaGaps)} / ${n0(sw.closes)}`,
        [sw.spreadMs.p50, sw.spreadMs.p99, sw.spreadMs.max].map(n0).join(' / '),
        `${n0(sw.visibleMs.p50)} / ${n0(sw.visibleMs.p99)}`,
        n0(sw.frames ? sw.bytes / sw.frames : NaN),
        `${pct(c.run.serverCpuShare)} (${n0(c.run.rssMiB.peak)} MiB)`,
        pct(sw.cpuShare),
        lagCell(c.lag),
        n1(c.load1),
        c.onTime ? 'yes' : 'no',
      ];
    }),
    after: [
      `Highest step with every tick on time: delta ${n0(best('delta'))}, PNG ${n0(best('png'))} subscribers ` +
        '(a lower bound: the swarm shares its CPU with the writer and Redis).',
    ],
  };
}

function budgets(r: ScaleResults): Budget[] {
  const rate = n0(r.settings.bus.rate);
  const rows = [
    budget(
      'placements acknowledged per second through two edges and Redis',
      r.place.cluster.swarm.acksPerSec,
      '>= 20000/s',
      0,
    ),
    ...r.bus.map((b) =>
      budget(
        `writer tick -> edge subscriber p99, ${b.edges} edge(s) on one CPU, ${rate} px/s`,
        b.latency.p99,
        '<= 50 ms',
        1,
      ),
    ),
  ];
  // The second view: the edges' own bus-lag histogram over all runs, bucket bounds.
  const lag = mergeBuckets(r.bus.map((b) => b.lag));
  const p99 = bucketQuantile(lag, 0.99);
  const tick = r.bus.map((b) => b.writerTickMs);
  const name = "writer publish -> edge fan-out start (edges' canvas_bus_lag_seconds, all runs)";
  rows.push({
    ...budget(name, p99 * 1000, '<= 50 ms', 0),
    measured:
      `p50 ${ms(bucketQuantile(lag, 0.5))}, p99 ${ms(p99)}, ${pct(shareAtOrBelow(lag, 0.05))} <= 50 ms; ` +
      `writer's own tick mean ${n1(Math.min(...tick))}-${n1(Math.max(...tick))} ms`,
  });
  return rows;
}

export function scaleMarkdown(r: ScaleResults): string[] {
  const m = r.machine;
  return [
    '## Scale-out: writer, edges and Redis (`npm run bench:scale`)',
    '',
    '_Generated by `npm run bench:scale` (perf/scale.ts); this section is overwritten on every run._',
    '',
    `- Date: ${m.date} (run took ${n0(r.seconds)} s)`,
    '- Command: `npm run bench:scale` (settings: perf/scale.ts, SETTINGS)',
    `- Machine: ${m.nproc} CPUs (nproc), ${m.cpuModel}, ${n1(m.memoryGiB)} GiB memory, Linux ${m.kernel}; shared and noisy. ` +
      '**Everything runs on this one machine**: writer, edges, redis-server and the load generators share its CPUs, ' +
      'so compare within the run, not with a deployment where each edge has its own cores.',
    `- Load: 1-minute load average ${n1(r.load1[0])} at the start, ${n1(r.load1[1])} at the end`,
    `- Code measured: ${m.revision}; Node ${m.node}; redis-server from Debian (testkit/redis.ts: loopback, no persistence)`,
    '',
    ...mdTable(
      'budget (docs/ARCHITECTURE.md, "Performance budgets") | target | measured | measured / target | verdict',
      budgetCells(budgets(r), true),
    ),
    ...renderParts([placePart(r), ...busParts(r), capacityPart(r)]),
  ];
}

/** Replaces (or appends) the scale section of perf/RESULTS.md; returns the path. */
export function recordScaleResults(lines: readonly string[]): string {
  const path = join(REPO_ROOT, 'perf', 'RESULTS.md');
  writeSection(path, 'scale', lines);
  return path;
}
